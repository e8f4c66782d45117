"""The MQTT bridge: a running session's state and telemetry out, `stop` / `pause` in.

Isolation is the point of the design. The bridge runs its own event loop in a daemon thread:
- the session's listener only snapshots the state and appends to bounded deques, then pokes the
  bridge loop (`call_soon_threadsafe`); it never awaits, never blocks, never raises into the engine;
- a broker that is down, slow, or dies mid-session can only stall the bridge's loop, never the
  session's, and MQTT timeouts and reconnect back-off run on real time even when the session runs
  on the simulator's virtual clock;
- remote commands travel the other way with `call_soon_threadsafe`: `stop` becomes
  `request_stop("mqtt")` on the session loop (the hot path, nothing awaited before it).
Commands are read ahead of everything else: each incoming message is parsed the moment the socket
reader hands it over (`_RoutingQueue`), never queued. A `stop` therefore cannot wait behind, or be
discarded with, a flood of garbage (a full queue would drop it with the rest); garbage
costs a parse and a counter, and its warnings are throttled to one line, then a count per interval.
One `aiomqtt.Client` is reused across reconnects; subscriptions, `online`, discovery and the
retained state and totals are re-sent on every connection (the broker may have restarted without
persistence).

Beyond SPEC's topics, for Home Assistant (sensors and device triggers, `discovery.py`):
- `<base>/totals`, retained JSON `{"session", "duration_s", "backward_s", "kcal"}`: the current
  session's running figures (`totals.py`; `kcal` is the energy estimate, null without
  `user.weight_kg`), 0 when a session starts, then at the telemetry's rate and once at its end;
- `<base>/event`, not retained, one JSON object per session moment (`triggers.py`): `type` and
  `subtype` (`started`/`session`, `completed`/`session`, `ended`/`session`,
  `safety_stop`/<reason>), `session`, `program`, `t` and the moment's own fields. A moment that
  happens while the broker is away is sent when it is back (it waits in a small buffer).
Both go out at QoS 0 like the state, after it and before the telemetry; the totals before the
moments, so an automation fired by `completed` reads the final figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import threading
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Literal

import aiomqtt
import structlog

from retrotread.channels.mqtt.connection import broker_address, topics_for
from retrotread.channels.mqtt.discovery import discovery_messages
from retrotread.channels.mqtt.topics import (
    HA_STATUS_TOPIC,
    OFFLINE,
    ONLINE,
    RemoteCommand,
    parse_command,
)
from retrotread.channels.mqtt.totals import SessionTotals
from retrotread.channels.mqtt.triggers import TriggerWatch
from retrotread.config import MqttConfig
from retrotread.errors import InputError
from retrotread.events import Event, StoppedEvent, SummaryEvent, TelemetryEvent
from retrotread.session.control import SessionControl

log = structlog.get_logger(__name__)

SOURCE = "mqtt"
_T_EPSILON = 1e-6
REFUSAL_LOG_INTERVAL_S = 10.0
MOMENT_BUFFER = 32  # a session makes a handful; more would only pile up during an outage


class LogThrottle:
    """Decides which of a run of like log lines to write: the first in full, then only counts.

    Pure bookkeeping; the caller owns the clock: it calls `flush()` once per interval while a run
    lasts and writes the count it returns. A flood of bad messages then costs one line per interval
    instead of one per message."""

    def __init__(self) -> None:
        self._open = False
        self._suppressed = 0

    def hit(self) -> bool:
        """Count one occurrence; True when it opens a run and should be logged in full."""
        if self._open:
            self._suppressed += 1
            return False
        self._open = True
        return True

    def flush(self) -> int:
        """End of an interval: how many were kept quiet since the last flush. A quiet interval
        (0) closes the run, so the next occurrence is logged in full again."""
        count, self._suppressed = self._suppressed, 0
        self._open = count > 0
        return count


class _ThrottledLog:
    """A LogThrottle on the running loop's clock: the first of a run logged in full with its
    fields, then one `<count_event>` line per interval with the count and the last fields."""

    def __init__(
        self, level: Literal["info", "warning"], event: str, count_event: str, interval_s: float
    ) -> None:
        self._level = level
        self._event = event
        self._count_event = count_event
        self._interval = interval_s
        self._throttle = LogThrottle()
        self._timer: asyncio.TimerHandle | None = None
        self._last: dict[str, object] = {}

    def __call__(self, **fields: object) -> None:
        """Call on an event loop; the interval's timer runs there."""
        self._last = fields
        if not self._throttle.hit():
            return
        self._emit(self._event, fields)
        with contextlib.suppress(RuntimeError):  # no running loop: the count waits for close()
            self._timer = asyncio.get_running_loop().call_later(self._interval, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if self._flush():
            self._timer = asyncio.get_running_loop().call_later(self._interval, self._tick)

    def _flush(self) -> bool:
        count = self._throttle.flush()
        if count:
            last = {f"last_{key}": value for key, value in self._last.items()}
            self._emit(self._count_event, {"count": count, "interval_s": self._interval, **last})
        return count > 0

    def _emit(self, event: str, fields: dict[str, object]) -> None:
        # Looked up per call, not bound once: logging may be configured after the bridge is made.
        (log.warning if self._level == "warning" else log.info)(event, **fields)

    def close(self) -> None:
        """Report what the current interval counted so far; later calls start a new run."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._flush()
        self._throttle = LogThrottle()


def _routing_queue(
    route: Callable[[aiomqtt.Message], None],
) -> type[asyncio.Queue[aiomqtt.Message]]:
    """An incoming-message "queue" for aiomqtt that hands each message to `route` at once.

    aiomqtt puts every message it reads into its queue (`put_nowait`, inside the socket reader
    callback) and drops it with a warning when the queue is full. Routing there instead means a
    message is acted on in the same callback that read it: nothing waits, nothing is ever full,
    and the order of arrival is kept. `route` must not raise (paho would drop the connection)."""

    class _RoutingQueue(asyncio.Queue[aiomqtt.Message]):
        def put_nowait(self, item: aiomqtt.Message) -> None:
            route(item)

    return _RoutingQueue


class MqttBridge(contextlib.AbstractAsyncContextManager["MqttBridge"]):
    """`async with MqttBridge(config, session):` publishes for the session while the block runs.

    Entering never waits for the broker. Leaving publishes the last state and a retained `offline`
    (bounded by `shutdown_timeout`), so a clean exit is told apart from a crash (the last will)."""

    def __init__(
        self,
        config: MqttConfig,
        session: SessionControl,
        *,
        weight_kg: float | None = None,
        telemetry_buffer: int = 64,
        shutdown_timeout: float = 2.0,
        backoff_initial: float = 0.2,
        backoff_max: float = 5.0,
        keepalive: int = 15,
        refusal_log_interval_s: float = REFUSAL_LOG_INTERVAL_S,
    ) -> None:
        if not config.telemetry_hz > 0:
            raise InputError(f"mqtt.telemetry_hz must be > 0, got {config.telemetry_hz}")
        self._address = broker_address(config)
        self.topics = topics_for(config)
        self._discovery = config.discovery
        self._period = 1.0 / config.telemetry_hz
        self._session = session
        self._shutdown_timeout = shutdown_timeout
        self._backoff = (backoff_initial, backoff_max)
        self._keepalive = keepalive

        # Written on the session loop, read on the bridge loop: a deque and a tuple swap are atomic.
        self._telemetry: deque[str] = deque(maxlen=telemetry_buffer)
        self._state: tuple[int, str] = (0, "")
        self._state_key: tuple[object, ...] | None = None
        self._totals = SessionTotals(weight_kg)
        self._totals_payload: tuple[int, str] = (0, "")
        self._moments: deque[str] = deque(maxlen=MOMENT_BUFFER)
        self._triggers = TriggerWatch()
        self._last_telemetry_t = float("-inf")
        self._wake_pending = False
        self._remove_listener: Callable[[], None] | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._session_tasks: set[asyncio.Task[None]] = set()

        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self._discovery_due = False
        self._published_state = -1
        self._published_totals = -1

        # Remote commands, coalesced: set on the bridge loop when a hop to the session loop is
        # scheduled, cleared on the session loop. While one is pending, a repeat adds nothing.
        self._stop_pending = False
        self._pause_pending = False
        # Per-message lines are throttled: a flood must not turn into a flood of log.
        self._log_refused = _ThrottledLog(
            "warning", "mqtt command refused", "mqtt commands refused", refusal_log_interval_s
        )
        self._log_accepted = _ThrottledLog(
            "info", "mqtt remote command", "mqtt remote commands", refusal_log_interval_s
        )

        self.connections = 0
        self.refused_commands = 0
        self.telemetry_dropped = 0

    # -- session-loop side ---------------------------------------------------------------------

    async def __aenter__(self) -> MqttBridge:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def start(self) -> None:
        """Listen to the session and start the bridge thread; returns at once. Call on the loop."""
        self._session_loop = asyncio.get_running_loop()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._thread_main, args=(self._loop,), name=f"mqtt-{self.topics.id}", daemon=True
        )
        self._snapshot_state(force=True)
        self._snapshot_totals()  # a new session starts its sensors from 0
        self._remove_listener = self._session.add_listener(self._on_event)
        self._thread.start()
        log.info("mqtt bridge started", base=self.topics.base, broker=self._address.describe())

    async def aclose(self) -> None:
        """Stop listening, let the bridge publish the last state and `offline`, join its thread."""
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
            self._snapshot_state(force=False)
        if self._loop is None or self._thread is None:
            return
        with contextlib.suppress(RuntimeError):  # the bridge loop already ended
            self._loop.call_soon_threadsafe(self._begin_close)
        if self._thread.is_alive():
            await asyncio.to_thread(self._thread.join, self._shutdown_timeout + 1.0)

    def _on_event(self, event: Event) -> None:
        """The session's listener: O(1), never blocks, never raises into the engine."""
        try:
            self._totals.observe(event)
            if isinstance(event, TelemetryEvent):
                self._offer_telemetry(event)
            elif isinstance(event, StoppedEvent | SummaryEvent):
                self._snapshot_totals()  # the final figures, before the moments they end with
            self._offer_moments(event)
            self._snapshot_state(force=False)
        except Exception:
            # Not `event=`: structlog's first parameter is named `event`, and a keyword of that
            # name makes the guard itself raise TypeError into the session.
            log.exception("mqtt listener failed (ignored)", event_name=type(event).__name__)

    def _offer_telemetry(self, event: TelemetryEvent) -> None:
        # Rate-limited by the event's own clock (virtual on the simulator): at most telemetry_hz.
        since = event.t - self._last_telemetry_t
        if 0 <= since < self._period - _T_EPSILON:
            return
        self._last_telemetry_t = event.t
        if len(self._telemetry) == self._telemetry.maxlen:
            self.telemetry_dropped += 1  # the deque drops the oldest: a stale reading is worthless
        self._telemetry.append(event.to_json())
        self._snapshot_totals()
        self._request_wake()

    def _snapshot_totals(self) -> None:
        payload = json.dumps({"session": self._session_id(), **self._totals.as_json()})
        self._totals_payload = (self._totals_payload[0] + 1, payload)
        self._request_wake()

    def _offer_moments(self, event: Event) -> None:
        moments = self._triggers.observe(event)
        if not moments:
            return
        try:
            status = self._session.status()
            session: str | None = status.session
            program: str | None = status.program
        except Exception:
            log.exception("mqtt could not read the session status (ignored)")
            session = program = None
        for moment in moments:
            body = {**moment.body(), "session": session, "program": program, "t": event.t}
            self._moments.append(json.dumps(body))
        self._request_wake()

    def _session_id(self) -> str | None:
        try:
            return self._session.status().session
        except Exception:
            log.exception("mqtt could not read the session status (ignored)")
            return None

    def _snapshot_state(self, *, force: bool) -> None:
        try:
            status = self._session.status()
        except Exception:
            log.exception("mqtt could not read the session status (ignored)")
            return
        key = (status.state.value, status.program, status.segment, status.segment_index)
        if not force and key == self._state_key:
            return
        self._state_key = key
        payload = json.dumps(
            {
                "state": status.state.value,
                "program": status.program,
                "segment": status.segment,
                "segment_index": status.segment_index,
                "belt_mph": status.belt_mph,
                "session": status.session,
            }
        )
        self._state = (self._state[0] + 1, payload)
        self._request_wake()

    def _request_wake(self) -> None:
        if self._wake_pending or self._loop is None:
            return
        self._wake_pending = True
        with contextlib.suppress(RuntimeError):  # bridge loop closed: nothing left to publish to
            self._loop.call_soon_threadsafe(self._woken)

    def _apply_stop(self) -> None:
        """On the session loop: `request_stop` first, nothing awaited or computed before it."""
        self._stop_pending = False  # cleared first: a stop read from now on schedules its own hop
        try:
            self._session.request_stop(SOURCE)
        except Exception:
            log.exception("mqtt remote stop failed")
        # Re-publish even when nothing changed: the live state is the remote stop's acknowledgement.
        self._snapshot_state(force=True)

    def _apply_pause(self) -> None:
        """On the session loop: start the pause; `_pause_pending` stays set until it is done."""
        try:
            task = asyncio.ensure_future(self._pause())
        except Exception:
            self._pause_pending = False
            log.exception("mqtt remote pause failed")
            return
        self._session_tasks.add(task)
        task.add_done_callback(self._session_tasks.discard)
        self._snapshot_state(force=True)

    async def _pause(self) -> None:
        try:
            ack = await self._session.pause(SOURCE)
            log.info("mqtt remote pause", acknowledged=ack.acknowledged, belt_mph=ack.belt_mph)
        except Exception:
            log.exception("mqtt remote pause failed")
        finally:
            self._pause_pending = False
        self._snapshot_state(force=True)

    # -- bridge-loop side ----------------------------------------------------------------------

    def _thread_main(self, loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._main())
        except Exception:
            log.exception("mqtt bridge loop crashed")
        finally:
            loop.close()

    def _begin_close(self) -> None:
        self._closing.set()
        self._wake.set()  # the publisher also ends on its own: see _publish_loop

    def _woken(self) -> None:
        self._wake_pending = False
        self._wake.set()

    async def _main(self) -> None:
        runner = asyncio.create_task(self._connect_loop())
        closing = asyncio.create_task(self._closing.wait())
        try:
            await asyncio.wait({runner, closing}, return_when=asyncio.FIRST_COMPLETED)
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(runner, self._shutdown_timeout)
            closing.cancel()
        finally:
            self._log_refused.close()
            self._log_accepted.close()

    async def _connect_loop(self) -> None:
        address = self._address
        client = aiomqtt.Client(
            address.host,
            address.port,
            username=address.username,
            password=address.password,
            identifier=f"retrotread-{self.topics.id}-{secrets.token_hex(4)}",
            will=aiomqtt.Will(self.topics.availability, OFFLINE, qos=1, retain=True),
            tls_context=address.tls,
            keepalive=self._keepalive,
            timeout=self._shutdown_timeout * 2,
            queue_type=_routing_queue(self._on_message),
        )
        delay = self._backoff[0]
        outage_reported = False
        while not self._closing.is_set():
            try:
                async with client:
                    delay = self._backoff[0]
                    if outage_reported:
                        log.info("mqtt broker reachable again", broker=address.describe())
                        outage_reported = False
                    await self._serve(client)
            except aiomqtt.MqttError as err:
                # One warning per outage; the retries of a long outage are debug noise.
                report = log.debug if outage_reported else log.warning
                report(
                    "mqtt broker unavailable; the session goes on",
                    broker=address.describe(),
                    error=str(err),
                    retry_s=delay,
                )
                outage_reported = True
            except Exception:
                log.exception("mqtt bridge connection failed", retry_s=delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), delay)
            delay = min(delay * 2, self._backoff[1])

    async def _serve(self, client: aiomqtt.Client) -> None:
        """One connection: subscribe, announce, publish and receive until it breaks or we close."""
        topics = self.topics
        await client.subscribe(
            [(topics.command, 1), (topics.fleet_command, 1), (HA_STATUS_TOPIC, 0)]
        )
        self.connections += 1  # counted before `online`: whoever sees `online` sees the count
        await client.publish(topics.availability, ONLINE, qos=1, retain=True)
        self._published_state = -1
        self._published_totals = -1
        self._discovery_due = self._discovery
        self._wake.set()
        workers = {
            asyncio.create_task(self._publish_loop(client)),
            asyncio.create_task(self._watch_link(client)),
        }
        closing = asyncio.create_task(self._closing.wait())
        done, _ = await asyncio.wait({*workers, closing}, return_when=asyncio.FIRST_COMPLETED)
        for task in (*workers, closing):
            task.cancel()
        await asyncio.gather(*workers, closing, return_exceptions=True)
        for task in done & workers:
            task.result()  # re-raises the MqttError that ended the connection
        if closing in done:
            await self._goodbye(client)

    async def _goodbye(self, client: aiomqtt.Client) -> None:
        try:
            await self._drain(client)
            await client.publish(self.topics.availability, OFFLINE, qos=1, retain=True)
        except aiomqtt.MqttError as err:
            log.warning("mqtt goodbye not delivered", error=str(err))

    async def _publish_loop(self, client: aiomqtt.Client) -> None:
        # Python 3.11's wait_for (inside aiomqtt's publish) can swallow a cancellation that races
        # with the PUBACK, so this loop must not rely on being cancelled to end.
        while not self._closing.is_set():
            await self._wake.wait()
            self._wake.clear()
            await self._drain(client)

    async def _drain(self, client: aiomqtt.Client) -> None:
        if self._discovery_due:
            self._discovery_due = False
            messages = discovery_messages(
                self.topics, energy_estimate=self._totals.weight_kg is not None
            )
            for topic, payload in messages:
                await client.publish(topic, payload, qos=1, retain=True)
        version, payload = self._state
        if version != self._published_state:
            # QoS 0 on purpose: a PUBACK toward us would let the broker's Nagle hold back a `stop`
            # that follows it (mosquitto's default); a lost state is re-sent on reconnect anyway.
            await client.publish(self.topics.state, payload, qos=0, retain=True)
            self._published_state = version
        version, payload = self._totals_payload
        if version != self._published_totals:
            await client.publish(self.topics.totals, payload, qos=0, retain=True)
            self._published_totals = version
        while self._moments:
            body = self._moments.popleft()
            try:
                await client.publish(self.topics.event, body, qos=0)
            except aiomqtt.MqttError:
                self._moments.appendleft(body)  # a broken link: the next connection sends it
                raise
        while self._telemetry:
            await client.publish(self.topics.telemetry, self._telemetry.popleft(), qos=0)

    async def _watch_link(self, client: aiomqtt.Client) -> None:
        """Ends with the MqttError of a dropped connection. Messages never wait in this iterator:
        `_RoutingQueue` hands each one to `_on_message` as it is read."""
        async for message in client.messages:
            self._on_message(message)  # only if aiomqtt ever bypasses the queue's put_nowait

    def _on_message(self, message: aiomqtt.Message) -> None:
        """Every incoming message, on the bridge loop, in the socket reader's callback.

        Must stay cheap and must not raise: it runs once per message of a possible flood, and an
        exception here would make paho drop the connection (and with it the way to stop)."""
        try:
            topic = message.topic.value
            payload = message.payload
            data = payload if isinstance(payload, bytes) else str(payload).encode()
            if topic == HA_STATUS_TOPIC:
                if data.strip() == ONLINE.encode() and self._discovery:
                    self._discovery_due = True
                    self._wake.set()
            else:
                self._on_command(topic, data, retained=message.retain)
        except Exception:
            log.exception("mqtt incoming message failed (ignored)")

    def _on_command(self, topic: str, payload: bytes, *, retained: bool) -> None:
        if retained:
            # A stale retained command would hit every future session the moment it connects.
            self._refuse(topic, "retained command", payload)
            return
        command, reason = parse_command(payload)
        if command is None:
            self._refuse(topic, reason, payload)
            return
        session_loop = self._session_loop
        if session_loop is None:
            return
        if command is RemoteCommand.stop:
            if self._stop_pending:
                return  # the hop already scheduled calls request_stop after this message
            self._stop_pending = True
            apply = self._apply_stop
        else:
            if self._pause_pending or self._stop_pending:
                return  # a pause under way, or a stop coming: a second pause adds nothing
            self._pause_pending = True
            apply = self._apply_pause
        self._log_accepted(command=command.value, topic=topic)
        try:
            session_loop.call_soon_threadsafe(apply)
        except RuntimeError:  # the session loop is closed: there is no session left to reach
            self._stop_pending = self._pause_pending = False
            log.warning("mqtt remote command after session end", command=command.value)

    def _refuse(self, topic: str, reason: str, payload: bytes) -> None:
        """Dropped, never queued: counted, and logged through the throttle."""
        self.refused_commands += 1
        self._log_refused(topic=topic, reason=reason, payload=repr(payload[:60]))


def bridge_session(
    session: SessionControl, config: MqttConfig, *, weight_kg: float | None = None
) -> contextlib.AbstractAsyncContextManager[object]:
    """The engine's attachment: `async with bridge_session(control, settings.mqtt,
    weight_kg=settings.user.weight_kg): ...` (the weight for the energy estimate)."""
    return MqttBridge(config, session, weight_kg=weight_kg)
