"""What spoken cues cost the session loop (goal: nothing measurable).

(a) Wall time of the 20-minute `intervals` program on virtual time, `--cues off` against
    `--cues speech` (a real espeak-ng rendering every cue to a discarded WAV, so each cue costs
    a real process spawn), best of N.
(b) In-session stop: a stop requested in the same loop pass as a cue (from a listener that sees
    the `speed_up` cue), to the Stop arriving at the simulated control point; p50 / p99 over N
    sessions per mode. The cue's speech starts after the Stop was written, by design.

Both run the whole session use case against the simulator in this process.
Usage: python -m benchmarks.cues
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from benchmarks.stop import _StampedLog
from retrotread.events import CueEvent, Event
from retrotread.run import RunOptions, run_to_result
from retrotread.session.control import SessionControl

WALL_RUNS = 5
STOP_RUNS = 40


def _options(data_dir: Path, cues: str, **extra: Any) -> RunOptions:
    return RunOptions(sim=True, data_dir=data_dir, control_socket=False, cues=cues, **extra)  # type: ignore[arg-type]


def session_wall(data_dir: Path, cues: str) -> float:
    walls = []
    for _ in range(WALL_RUNS):
        started = time.perf_counter()
        result = run_to_result(_options(data_dir, cues, program="intervals"))
        walls.append(time.perf_counter() - started)
        assert result.exit_code == 0, result
    return min(walls)


def stop_latency(data_dir: Path, cues: str) -> list[float]:
    latencies: list[float] = []
    for _ in range(STOP_RUNS):
        log = _StampedLog()
        requested: list[float] = []
        control: list[SessionControl] = []
        attach, on_event, on_simulator = _hooks(log, requested, control)

        result = run_to_result(
            _options(
                data_dir,
                cues,
                sinks=(on_event,),
                attachments=(attach,),
                on_simulator=on_simulator,
            )
        )
        assert result.exit_code == 3, result
        assert log.stop_arrived_at is not None
        assert requested
        latencies.append(log.stop_arrived_at - requested[0])
    return sorted(latencies)


def _hooks(log: _StampedLog, requested: list[float], control: list[SessionControl]) -> Any:
    """The session's hooks for one run: keep its control, stop with the first `speed_up` cue,
    stamp the Stop's arrival at the simulated machine."""

    @contextlib.asynccontextmanager
    async def attach(session: SessionControl) -> AsyncIterator[None]:
        control.append(session)
        yield

    def on_event(event: Event) -> None:
        if isinstance(event, CueEvent) and event.kind == "speed_up" and not requested:
            requested.append(time.perf_counter())
            control[0].request_stop("bench")

    def on_simulator(simulator: Any) -> None:
        simulator.treadmill.control_log = log

    return attach, on_event, on_simulator


def main() -> None:
    from retrotread.logs import configure_logging

    configure_logging("console", 0)
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed: nothing to compare")
        return
    # Every cue really spoken, into a WAV nobody keeps: the process's cost, not a sound card's.
    os.environ["RETROTREAD_CUES__ENGINE"] = "espeak-ng --stdout"
    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory)
        walls = {mode: session_wall(data_dir, mode) for mode in ("off", "speech")}
        print(
            f"(a) intervals on virtual time: cues off {walls['off']:.3f} s, speech "
            f"{walls['speech']:.3f} s wall (best of {WALL_RUNS}; ratio "
            f"{walls['speech'] / walls['off']:.2f})"
        )
        print(
            f"(b) stop requested with a cue, to the Stop at the machine, {STOP_RUNS} sessions each"
        )
        for mode in ("off", "speech"):
            lat = stop_latency(data_dir, mode)
            p50, p99 = lat[len(lat) // 2], lat[max(0, int(len(lat) * 0.99) - 1)]
            print(f"    cues {mode:6}  p50 {p50 * 1e3:.3f} ms   p99 {p99 * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
