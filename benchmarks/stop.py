"""How fast a stop reaches the belt, and how fast `retrotread stop` comes back.

(a) `retrotread stop` as a fresh process against a simulated session (the engine in a process of
    its own, real-time clock), median of N runs, each interleaved with a bare
    `python -c pass` in the same venv, both spawned and read the same way (stdout on a pipe):
    exec -> the Stop arriving at the simulated control point; exec -> the acknowledgement line
    printed (read off the pipe); exec -> process exit. Each figure is also given as the median
    of the per-run ratios to the bare interpreter (goal for the acknowledgement: <= 1.3x).
    Plus the `-X importtime` offenders of the fast path.
(b) In-process: stop trigger (`Supervisor.request_stop`) to the Stop arriving at the simulated
    control point, p50 / p99 (goal: p99 < 2 ms).
(c) Stop to belt at 0 on the simulator's generic profile (virtual seconds).

Clocks: `time.perf_counter()` is CLOCK_MONOTONIC on Linux, so instants taken in the benchmark
process and in a child process are comparable. The child interpreters get their bytecode cached
(in a temp dir) as an installed package would; this environment sets PYTHONDONTWRITEBYTECODE.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.importtime import RETROTREAD, VENV_PYTHON, import_profile
from retrotread.events import Event
from retrotread.units import KMH_PER_MPH

REPO = Path(__file__).resolve().parents[1]
RUNS = 25


def child_env(runtime_dir: str, pycache: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = pycache
    env["XDG_RUNTIME_DIR"] = runtime_dir
    return env


def wall(cmd: list[str], env: dict[str, str]) -> float:
    """Spawn to exit, stdout on a pipe read to its end: how every child here is timed."""
    return _spawn(cmd, env)[2]


def _spawn(cmd: list[str], env: dict[str, str]) -> tuple[float, float | None, float]:
    """Run `cmd`; (spawn instant, instant its first stdout line arrived or None, seconds to
    exit). The first line of `retrotread stop` is its acknowledgement (flushed at once)."""
    start = time.perf_counter()
    child = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert child.stdout is not None
    first = child.stdout.readline()
    printed = time.perf_counter() if first else None
    child.stdout.read()
    child.wait()
    return start, printed, time.perf_counter() - start


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def part_a(runtime_dir: str, pycache: str) -> None:
    env = child_env(runtime_dir, pycache)
    for _ in range(3):  # warm the bytecode cache and the page cache
        wall([str(VENV_PYTHON), "-c", "pass"], env)
        wall([str(RETROTREAD), "stop"], env)
    empty = statistics.median(wall([str(RETROTREAD), "stop"], env) for _ in range(RUNS))
    print(f"(a) median of {RUNS} runs, bytecode cached; load average {os.getloadavg()[0]:.1f}")
    # Interleaved with the bare interpreter, so that the machine's load weighs on both alike.
    bare: list[float] = []
    measured: list[tuple[float, float, float]] = []
    for _ in range(RUNS):
        bare.append(wall([str(VENV_PYTHON), "-c", "pass"], env))
        measured.append(_one_stop(env))
    base = statistics.median(bare)
    print(f"    python -c pass (spawn -> exit)                          {ms(base)}")
    print(f"    retrotread stop, no session (spawn -> exit)             {ms(empty)}")
    print("    retrotread stop, one session:                   median   per-run ratio")
    labels = (
        "exec -> Stop on the control point",
        "exec -> acknowledgement printed",
        "exec -> process exit",
    )
    goals = ("", "   (goal <= 1.3x)", "")
    for i, (label, goal) in enumerate(zip(labels, goals, strict=True)):
        value = statistics.median(m[i] for m in measured)
        ratio = statistics.median(m[i] / b for m, b in zip(measured, bare, strict=True))
        print(f"      {label:<38} {ms(value):>9}   {ratio:.2f}x{goal}")
    importtime(env)


def _one_stop(env: dict[str, str]) -> tuple[float, float, float]:
    """A real simulated session, stopped by a `retrotread stop` process: seconds from its exec
    to the Stop arriving at the simulated machine, to its acknowledgement line printed, and to
    its exit. The session runs in a process of its own (`_session_process`), so that nothing in
    this one competes for the GIL with the thread that reads the stop's pipe and times it."""
    session = subprocess.Popen(
        [str(VENV_PYTHON), "-m", "benchmarks.stop", "--session"],
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert session.stdout is not None
    try:
        assert session.stdout.readline() == "walking\n", "the session did not start walking"
        start, printed, whole = _spawn([str(RETROTREAD), "stop"], env)
        reported = session.stdout.readline().split()
    finally:
        session.stdout.close()
        if session.wait(timeout=60) != 0:
            raise RuntimeError("the benchmark session failed")
    assert reported[:1] == ["stop_arrived_at"], reported
    assert printed is not None, "`retrotread stop` printed no acknowledgement"
    return float(reported[1]) - start, printed - start, whole


def _session_process() -> None:
    """`python -m benchmarks.stop --session`: one simulated session (real-time clock) that says
    `walking` once the belt moves, and after it was stopped, the perf_counter instant the Stop
    reached the simulated control point."""
    from retrotread.logs import configure_logging
    from retrotread.run import RunOptions, run_to_result

    configure_logging("console", 0)
    log = _StampedLog()
    told = False

    def on_event(event: Event) -> None:
        nonlocal told
        moving = getattr(event, "event", "") == "telemetry" and getattr(event, "speed_mph", 0)
        if moving and not told:
            told = True
            print("walking", flush=True)

    def on_simulator(simulator: Any) -> None:
        simulator.treadmill.control_log = log

    with tempfile.TemporaryDirectory(prefix="rtb-data-") as data_dir:
        options = RunOptions(
            sim=True,
            yes=True,
            time_scale=1.0,
            data_dir=Path(data_dir),
            interactive=False,
            sinks=(on_event,),
            on_simulator=on_simulator,
        )
        run_to_result(options)
    print(f"stop_arrived_at {log.stop_arrived_at}", flush=True)


def importtime(env: dict[str, str], runs: int = 7) -> None:
    """`-X importtime` of the fast path (no session), median per module over `runs` runs."""
    rows = [(own, cum, name.strip()) for own, cum, name in import_profile(env, ["stop"], runs)]
    total = sum(row[0] for row in rows)
    print(f"    -X importtime of the fast path: {len(rows)} modules, {total / 1000:.1f} ms self")
    for own, cumulative, module in reversed(rows[-8:]):
        print(f"      {own / 1000:5.2f} ms self {cumulative / 1000:5.2f} ms cum  {module}")


STOP_OPCODE = 0x08
IN_PROCESS_RUNS = 200


class _StampedLog(list):  # type: ignore[type-arg]
    """The simulator's control log, stamping the real instant the Stop write arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.stop_arrived_at: float | None = None

    def append(self, exchange: Any) -> None:
        if exchange.opcode == STOP_OPCODE and self.stop_arrived_at is None:
            self.stop_arrived_at = time.perf_counter()
        super().append(exchange)


async def _stop_once(target_mph: float) -> tuple[float, float]:
    """One session on a fresh simulator: walk at `target_mph`, stop. Returns (trigger -> Stop on
    the control point in real seconds, Stop -> first telemetry at 0 in virtual seconds)."""
    from retrotread.config import SafetyConfig
    from retrotread.safety.supervisor import Supervisor
    from retrotread.treadmill import Telemetry, Treadmill
    from simulators.harness import open_simulator

    loop = asyncio.get_running_loop()
    async with open_simulator("generic") as sim:
        log = _StampedLog()
        sim.treadmill.control_log = log
        treadmill = await Treadmill.connect(
            sim.address, scanner_backend=sim.scanner_backend, client_backend=sim.client_backend
        )
        supervisor = Supervisor(treadmill, SafetyConfig())
        zero_at: list[float] = []
        at_speed = asyncio.Event()
        target_kmh = target_mph * KMH_PER_MPH - 0.05

        def on_telemetry(event: object) -> None:
            if isinstance(event, Telemetry) and event.speed_kmh is not None:
                if event.speed_kmh == 0:
                    zero_at.append(loop.time())
                elif event.speed_kmh >= target_kmh:
                    at_speed.set()

        treadmill.add_listener(on_telemetry)
        await supervisor.take_control()
        await supervisor.start()
        await supervisor.set_target(target_mph, "backward")
        await at_speed.wait()  # the belt caught up with the target
        zero_at.clear()
        triggered = time.perf_counter()
        stopped_at = loop.time()
        supervisor.request_stop("estop", "bench")
        await supervisor.wait_ended()
        await supervisor.close()
        await treadmill.disconnect()
    assert log.stop_arrived_at is not None
    return log.stop_arrived_at - triggered, zero_at[0] - stopped_at


def engine_parts() -> None:
    from simulators.clock import run_virtual

    # The virtual clock never waits for timers, so the real time measured is the work itself.
    latencies = [run_virtual(_stop_once(0.5))[0] for _ in range(IN_PROCESS_RUNS)]
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"(b) Supervisor.request_stop -> Stop at the simulated control point, {IN_PROCESS_RUNS}x")
    print(
        f"    p50 {p50 * 1e3:.3f} ms   p99 {p99 * 1e3:.3f} ms   max {latencies[-1] * 1e3:.3f} ms"
        "   (goal p99 < 2 ms)"
    )
    print(
        "(c) stop -> first Treadmill Data at 0 (generic profile, data every 1 s, virtual seconds)"
    )
    for mph in (0.5, 1.5, 3.0):
        _, to_zero = run_virtual(_stop_once(mph))
        print(f"    from {mph:.1f} mph: {to_zero:.2f} s")


def main() -> None:
    from retrotread.logs import configure_logging

    configure_logging("console", 0)  # the in-process sessions' own logs are not the point
    with tempfile.TemporaryDirectory(prefix="rtb-") as runtime_dir:
        os.chmod(runtime_dir, 0o700)
        with tempfile.TemporaryDirectory(prefix="rtb-pyc-") as pycache:
            os.environ["XDG_RUNTIME_DIR"] = runtime_dir
            part_a(runtime_dir, pycache)
    engine_parts()
    sys.stdout.flush()


if __name__ == "__main__":
    if sys.argv[1:] == ["--session"]:
        _session_process()
    else:
        main()
