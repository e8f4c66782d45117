"""MQTT measurements on loopback with a real Mosquitto (bounded: well under two minutes).

1. Stop latency, bridge only: publish `stop` on the command topic -> `SessionControl.request_stop`
   called, 100 runs, on a lightweight SessionControl stand-in (no engine).
2. Stop latency, whole path: publish `stop` -> the engine's `command op=stop` event (FTMS Stop
   written on the simulator's control point and answered), real sessions on the simulator.
3. Scale: N bridges (10, 50, 100, 200) in one process, each with a stand-in session at 1 Hz
   telemetry, one broker; CPU of this process and of mosquitto, then a fleet stop: latency curve
   and how many of the N stops arrived.
Mosquitto leaves Nagle's algorithm on toward its clients unless `set_tcp_nodelay true`: a command
sent to a bridge whose previous segment from the broker (a PUBACK) is not yet ACKed waits for the
peer's delayed ACK (up to ~40 ms on Linux). Measured here: back-to-back stops median ~40 ms with
the default, ~0.7 ms with set_tcp_nodelay. Isolated stops rarely hit it; deployments that care
should set it.
Needs Debian's mosquitto (scripts/test installs it); prints one line and exits 0 without it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path

import aiomqtt

from retrotread.channels.mqtt import MqttBridge
from retrotread.config import MqttConfig
from retrotread.events import CommandEvent, Event, SessionState, StopAck, TelemetryEvent
from retrotread.logs import configure_logging
from retrotread.session.control import SessionControl, SessionStatus
from tests.support.broker import ADMIN, HOST, Broker, find_mosquitto

STOP_RUNS = 100
LISTENER_EVENTS = 20_000
STOP_SPACING_S = 0.05
ENGINE_RUNS = 15
SCALE_STEPS = (10, 50, 100, 200)
SCALE_WINDOW_S = 5.0


class TimingSession:
    """A SessionControl stand-in that notes when a stop reached it (never latches, so it can be
    stopped again and again)."""

    def __init__(self) -> None:
        self.stopped_at: float | None = None
        self.arrived = asyncio.Event()
        self.t = 0.0
        self._listeners: list[Callable[[Event], None]] = []

    def status(self) -> SessionStatus:
        return SessionStatus("bench", SessionState.running, "bench", "b", 0, 1.0, 1.0, self.t, "x")

    def request_stop(self, source: str) -> None:
        self.stopped_at = time.perf_counter()
        self.arrived.set()

    async def stop(self, source: str) -> StopAck:
        self.request_stop(source)
        return StopAck(True, 1.0)

    async def pause(self, source: str) -> StopAck:
        return StopAck(True, 1.0)

    def add_listener(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def tick(self) -> None:
        self.t += 1.0
        self.emit(TelemetryEvent(t=self.t, speed_mph=1.0, speed_kmh=1.61, distance_m=self.t))

    def emit(self, event: Event) -> None:
        for listener in self._listeners:
            listener(event)


def _admin(broker: Broker) -> aiomqtt.Client:
    return aiomqtt.Client(
        HOST, broker.port, username=ADMIN[0], password=ADMIN[1], identifier=uuid.uuid4().hex
    )


async def _wait_online(client: aiomqtt.Client, count: int) -> None:
    online: set[str] = set()
    async for message in client.messages:
        if message.payload == b"online":
            online.add(message.topic.value)
        if len(online) >= count:
            return


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (
        f"median {statistics.median(ordered) * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms, "
        f"max {ordered[-1] * 1e3:.2f} ms (n={len(ordered)})"
    )


async def bench_listener_cost(broker: Broker) -> None:
    """What the bridge costs the session per event: the listener runs on the session's loop."""
    events = [
        TelemetryEvent(t=float(n), speed_mph=1.0, speed_kmh=1.61, distance_m=float(n))
        for n in range(LISTENER_EVENTS)
    ]
    down = broker.config("bench-cost", discovery=False).model_copy(
        update={"url": f"mqtt://{HOST}:1"}
    )
    for label, config in (("broker up", broker.config("bench-cost")), ("broker down", down)):
        session = TimingSession()
        async with MqttBridge(config, session):
            started = time.perf_counter()
            for event in events:
                session.emit(event)
            per_event = (time.perf_counter() - started) / len(events)
        print(f"listener cost on the session loop ({label}): {per_event * 1e6:.1f} us per event")


async def bench_bridge_stop(broker: Broker, label: str) -> None:
    """Isolated stops, STOP_SPACING_S apart: back-to-back ones would measure Nagle + delayed ACK
    (mosquitto's default leaves Nagle on toward clients; see the module docstring)."""
    session = TimingSession()
    config = broker.config("bench-stop", discovery=False)
    latencies: list[float] = []
    async with MqttBridge(config, session), _admin(broker) as coach:
        await coach.subscribe("retrotread/bench-stop/availability")
        await _wait_online(coach, 1)
        for _ in range(STOP_RUNS):
            session.arrived.clear()
            sent = time.perf_counter()
            await coach.publish("retrotread/bench-stop/command", b"stop", qos=0)
            await asyncio.wait_for(session.arrived.wait(), 5)
            assert session.stopped_at is not None
            latencies.append(session.stopped_at - sent)
            await asyncio.sleep(STOP_SPACING_S)
    print(f"stop, publish -> request_stop (stand-in session, {label}): {_ms(latencies)}")


def bench_engine_stop(broker: Broker) -> None:
    """Each run: a real session on the simulator (virtual clock x50) with the bridge; a publisher
    thread sends `stop` once the belt started; latency = publish -> `command op=stop` event."""
    from retrotread.run import RunOptions, run_session
    from simulators.clock import run_virtual

    latencies: list[float] = []
    failures = 0
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["RETROTREAD_DATA_DIR"] = str(Path(scratch) / "data")
        os.environ["RETROTREAD_MQTT__URL"] = f"mqtt://{HOST}:{broker.port}"
        os.environ["RETROTREAD_MQTT__USERNAME"] = ADMIN[0]
        os.environ["RETROTREAD_MQTT__PASSWORD"] = ADMIN[1]
        os.environ["RETROTREAD_MQTT__DISCOVERY"] = "false"
        for run in range(ENGINE_RUNS):
            tid = f"bench-engine-{run}"
            os.environ["RETROTREAD_MQTT__ID"] = tid
            marks: dict[str, float] = {}
            publisher = _Publisher(broker, f"retrotread/{tid}/command", marks)

            options = RunOptions(
                sim=True,
                mqtt=True,
                yes=True,
                time_scale=50.0,
                attachments=(_watcher(publisher, marks),),
                control_socket=False,
            )
            result = run_virtual(run_session(options), time_scale=50.0)
            publisher.close()
            if result.exit_code == 3 and "stop_written" in marks and "sent" in marks:
                latencies.append(marks["stop_written"] - marks["sent"])
            else:
                failures += 1
    line = _ms(latencies) if latencies else "no sample"
    print(
        f"stop, publish -> FTMS Stop answered (real session, simulator): {line}; "
        f"failed runs {failures}"
    )


def _watcher(
    publisher: _Publisher, marks: dict[str, float]
) -> Callable[[SessionControl], AbstractAsyncContextManager[None]]:
    """A session attachment: fire the publisher once the belt started, note when Stop was done."""

    @asynccontextmanager
    async def watch(control: SessionControl) -> AsyncIterator[None]:
        def on_event(event: Event) -> None:
            if isinstance(event, CommandEvent) and event.op == "start":
                publisher.fire()
            if isinstance(event, CommandEvent) and event.op == "stop":
                marks.setdefault("stop_written", time.perf_counter())

        remove = control.add_listener(on_event)
        try:
            yield
        finally:
            remove()

    return watch


class _Publisher:
    """A thread with its own loop and client, so the publish does not ride the session's loop."""

    def __init__(self, broker: Broker, topic: str, marks: dict[str, float]) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._topic = topic
        self._marks = marks
        self._broker = broker
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._fire = asyncio.Event()
        self._done = asyncio.Event()
        async with _admin(self._broker) as client:
            await client.subscribe(self._topic.replace("/command", "/availability"))
            self._ready.set()
            await _wait_online(client, 1)  # the bridge listens before it says online
            await self._fire.wait()
            self._marks["sent"] = time.perf_counter()
            await client.publish(self._topic, b"stop", qos=0)
            await self._done.wait()

    def fire(self) -> None:
        self._loop.call_soon_threadsafe(self._fire.set)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._done.set)
        self._thread.join(5)


def _cpu_seconds(pid: int | None = None) -> float:
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def bench_scale(broker: Broker, broker_pid: int) -> None:
    print(
        f"scale (stand-in sessions, one bridge thread each, 1 Hz telemetry, "
        f"{SCALE_WINDOW_S:.0f} s window):"
    )
    for count in SCALE_STEPS:
        fleet = f"scale{count}"
        base = broker.config("x", discovery=False).model_copy(update={"base_topic": fleet})
        sessions = [TimingSession() for _ in range(count)]
        async with AsyncExitStack() as stack:
            watcher = await stack.enter_async_context(_admin(broker))
            await watcher.subscribe(f"{fleet}/+/availability")
            started = time.perf_counter()
            for n, session in enumerate(sessions):
                config: MqttConfig = base.model_copy(update={"id": f"belt{n}"})
                await stack.enter_async_context(MqttBridge(config, session))
            await asyncio.wait_for(_wait_online(watcher, count), 60)
            connect_s = time.perf_counter() - started
            cpu0, broker0, wall0 = _cpu_seconds(), _cpu_seconds(broker_pid), time.perf_counter()
            for _ in range(round(SCALE_WINDOW_S)):
                for session in sessions:
                    session.tick()
                await asyncio.sleep(1.0)
            wall = time.perf_counter() - wall0
            cpu = (_cpu_seconds() - cpu0) / wall * 100
            broker_cpu = (_cpu_seconds(broker_pid) - broker0) / wall * 100
            sent = time.perf_counter()
            await watcher.publish(f"{fleet}/all/command", b"stop", qos=1)
            waits = [asyncio.wait_for(s.arrived.wait(), 10) for s in sessions]
            results = await asyncio.gather(*waits, return_exceptions=True)
            delivered = [s.stopped_at - sent for s in sessions if s.stopped_at is not None]
            lost = sum(isinstance(r, BaseException) for r in results)
        print(
            f"  N={count:3d}: all online in {connect_s:.2f} s; CPU this process {cpu:5.1f} %, "
            f"mosquitto {broker_cpu:4.1f} %; fleet stop delivered {len(delivered)}/{count} "
            f"(lost {lost}): {_ms(delivered) if delivered else 'none'}"
        )


async def main_async(broker: Broker, fast_broker: Broker) -> None:
    await bench_listener_cost(broker)
    await bench_bridge_stop(broker, "mosquitto defaults")
    await bench_bridge_stop(fast_broker, "mosquitto set_tcp_nodelay true")
    await bench_scale(broker, broker.pid)


def main() -> None:
    configure_logging("console")
    logging.getLogger("retrotread").setLevel(logging.WARNING)
    executable = find_mosquitto()
    if executable is None:
        print("mqtt: skipped (mosquitto is not installed; scripts/test installs it as root)")
        return
    with tempfile.TemporaryDirectory() as workdir:
        (Path(workdir) / "fast").mkdir()
        broker = Broker(Path(workdir), executable)
        fast_broker = Broker(Path(workdir) / "fast", executable, tcp_nodelay=True)
        broker.start()
        fast_broker.start()
        try:
            started = time.perf_counter()
            asyncio.run(main_async(broker, fast_broker))
            bench_engine_stop(broker)
            print(f"(mqtt benchmark took {time.perf_counter() - started:.1f} s)")
        finally:
            broker.stop()
            fast_broker.stop()


if __name__ == "__main__":
    main()
