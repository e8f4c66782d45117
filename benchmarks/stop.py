"""How fast a stop reaches the belt.

(a) `retrotread stop` as a fresh process against a simulated session (the engine, in a thread of
    this process, real-time clock): wall time from spawning it to the Stop arriving at the
    simulated control point, median of N runs, interleaved with `python -c pass` (spawn to exit)
    in the same venv; plus the `-X importtime` offenders of the fast path.
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
import threading
import time
from pathlib import Path
from typing import Any

from retrotread.session.events import Event

REPO = Path(__file__).resolve().parents[1]
VENV_PYTHON = REPO / ".venv" / "bin" / "python"
RETROTREAD = REPO / ".venv" / "bin" / "retrotread"
RUNS = 25


def child_env(runtime_dir: str, pycache: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = pycache
    env["XDG_RUNTIME_DIR"] = runtime_dir
    return env


def wall(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


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
    measured: list[tuple[float, float]] = []
    for _ in range(RUNS):
        bare.append(wall([str(VENV_PYTHON), "-c", "pass"], env))
        measured.append(_exec_to_control_point(env))
    base = statistics.median(bare)
    hit = statistics.median(m[0] for m in measured)
    ratio = statistics.median(m[0] / b for m, b in zip(measured, bare, strict=True))
    whole = statistics.median(m[1] for m in measured)
    print(f"    python -c pass                                    {ms(base)}")
    print(f"    retrotread stop, no session (whole process)       {ms(empty)}")
    print(f"    retrotread stop: exec -> Stop on the control point {ms(hit)}")
    print(
        f"      median of the per-run ratios to the bare interpreter: {ratio:.2f}x (goal <= 1.5x)"
    )
    print(f"    retrotread stop, one session (whole process, until acknowledged) {ms(whole)}")
    importtime(env)


def _exec_to_control_point(env: dict[str, str]) -> tuple[float, float]:
    """A real simulated session (the engine, in a thread, real-time clock), stopped by a
    `retrotread stop` process: from its exec to the Stop arriving at the simulated machine."""
    from retrotread.session.runner import RunOptions, run_to_result

    log = _StampedLog()
    walking = threading.Event()

    def on_event(event: Event) -> None:
        if getattr(event, "event", "") == "telemetry" and getattr(event, "speed_mph", 0) > 0:
            walking.set()

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
        session = threading.Thread(target=run_to_result, args=(options,))
        session.start()
        walking.wait(timeout=60)
        start = time.perf_counter()
        subprocess.run([str(RETROTREAD), "stop"], env=env, stdout=subprocess.DEVNULL, check=True)
        end = time.perf_counter()
        session.join()
    assert log.stop_arrived_at is not None
    return log.stop_arrived_at - start, end - start


def importtime(env: dict[str, str], runs: int = 7) -> None:
    """`-X importtime` of the fast path (no session), median per module over `runs` runs."""
    samples: dict[str, list[tuple[int, int]]] = {}
    for _ in range(runs):
        result = subprocess.run(
            [str(VENV_PYTHON), "-X", "importtime", str(RETROTREAD), "stop"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        for line in result.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, cumulative_us, name = line.removeprefix("import time:").split("|")
            samples.setdefault(name.strip(), []).append((int(self_us), int(cumulative_us)))
    rows = sorted(
        (
            statistics.median(s for s, _ in values),
            statistics.median(c for _, c in values),
            name,
        )
        for name, values in samples.items()
    )
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
        target_kmh = target_mph * 1.609344 - 0.05

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
    main()
