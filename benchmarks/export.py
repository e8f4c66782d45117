"""`retrotread export --format fit` of a 60-minute session, as a whole process.

The journal is written straight from the event models (the JSON lines a session writes: the
connected event, six segments with their ramps of set_speed commands, a walker's pause, cues,
3,600 telemetry samples at 1 Hz with distance, incline and heart rate from a strap, stopped,
summary), not by running the simulator for an hour. Then, each beside a bare `python -c pass`
of the same venv spawned and read the same way (`benchmarks.cli.spawn`), median of N runs:

- `export ID --format fit` (goal: at most 0.5 s), and the same with SESSION `last`;
- `export ID --format tcx` and `csv`, and `plot ID`, for comparison;
- in-process: reading the journal, and building each file from the `SessionLog`.

Then the `-X importtime` top offenders of the FIT export.
Usage: python -m benchmarks.export [--minutes N] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.cli import child_env, ms, spawn
from benchmarks.importtime import RETROTREAD, VENV_PYTHON, import_profile
from retrotread.events import (
    CommandEvent,
    ConnectedEvent,
    CueEvent,
    Direction,
    Event,
    SegmentEvent,
    StoppedEvent,
    SummaryEvent,
    TelemetryEvent,
)
from retrotread.units import KMH_PER_MPH

MINUTES = 60
RUNS = 11
GOAL_FIT_S = 0.5
SESSION_ID = "20261201T070000Z-be11"
PAUSE = (1500.0, 60.0)  # a walker's pause: at t, for seconds


def _plan(minutes: int) -> list[tuple[str, Direction, float, float, float]]:
    """(name, direction, target mph, incline %, seconds) filling `minutes`."""
    share = minutes * 60 / 12
    return [
        ("warm up", Direction.backward, 0.8, 0.0, 2 * share),
        ("steady", Direction.backward, 1.4, 2.0, 3 * share),
        ("forward", Direction.forward, 2.5, 0.0, share),
        ("brisk", Direction.backward, 1.8, 4.0, 3 * share),
        ("forward again", Direction.forward, 2.5, 0.0, share),
        ("cool down", Direction.backward, 0.8, 0.0, 2 * share),
    ]


def session_events(minutes: int) -> list[Event]:
    """The journal of a `minutes`-long session, as the engine would write it."""
    plan = _plan(minutes)
    events: list[Event] = [
        ConnectedEvent(
            t=0.5,
            device="RetroTread SIM",
            speed_range_kmh=(0.5, 20.0, 0.01),
            incline_range_pct=(0.0, 15.0, 0.5),
            features=["total_distance", "inclination", "heart_rate_measurement", "elapsed_time"],
            target_settings=["speed_target", "inclination_target"],
            program="bench-60",
        ),
        CommandEvent(t=0.51, op="request_control", result="success"),
        CueEvent(t=0.52, kind="starting", text="Belt starting in 3, 2, 1", in_s=3.0),
        CommandEvent(t=3.5, op="start", result="success"),
    ]
    starts = []
    t = 3.5
    for index, (name, direction, mph, incline, seconds) in enumerate(plan):
        starts.append(t)
        events.append(
            SegmentEvent(
                t=t,
                index=index,
                name=name,
                direction=direction,
                target_mph=mph,
                duration_s=seconds,
                incline_pct=incline,
            )
        )
        t += seconds
    end = t
    speed = distance = 0.0
    seg = 0
    for second in range(1, int(end - 3.5) + 1):
        now = 3.5 + second - 0.2
        while seg + 1 < len(starts) and starts[seg + 1] <= now:
            seg += 1
        _, _, target, incline, _ = plan[seg]
        paused = PAUSE[0] <= now < PAUSE[0] + PAUSE[1]
        if PAUSE[0] <= now < PAUSE[0] + 1:
            events.append(CommandEvent(t=now, op="pause", result="success", source="walker"))
            speed = 0.0
        elif PAUSE[0] + PAUSE[1] <= now < PAUSE[0] + PAUSE[1] + 1:
            events.append(CommandEvent(t=now, op="start", result="success"))
            speed = 0.5
        if not paused and abs(speed - target) > 1e-9:
            speed = min(target, speed + 0.1) if target > speed else max(target, speed - 0.1)
            kmh = round(speed * KMH_PER_MPH, 2)
            events.append(
                CommandEvent(
                    t=now,
                    op="set_speed",
                    mph=round(kmh / KMH_PER_MPH, 4),
                    kmh=kmh,
                    result="success",
                )
            )
        belt = 0.0 if paused else speed
        distance += belt * KMH_PER_MPH / 3.6
        events.append(
            TelemetryEvent(
                t=now + 0.1,
                speed_mph=round(belt, 3),
                speed_kmh=round(belt * KMH_PER_MPH, 2),
                distance_m=float(int(distance)),
                incline_pct=incline,
                heart_rate_bpm=int(80 + 25 * belt + incline),
                heart_rate_source="strap",
                elapsed_s=float(second),
            )
        )
    events += [
        CommandEvent(t=end, op="stop", result="success", source="program"),
        StoppedEvent(t=end + 0.8, reason="completed", belt_mph=0.0, source="program"),
        SummaryEvent(
            t=end + 0.81,
            outcome="completed",
            duration_s=round(end + 0.81, 3),
            distance_m=float(int(distance)),
            max_speed_mph=2.5,
            session=SESSION_ID,
            program="bench-60",
        ),
    ]
    return events


def write_journal(sessions_dir: Path, minutes: int) -> Path:
    sessions_dir.mkdir(parents=True, exist_ok=True)
    path = sessions_dir / f"{SESSION_ID}.jsonl"
    path.write_text("".join(e.to_json() + "\n" for e in session_events(minutes)), encoding="utf-8")
    return path


def _median_spawn(env: dict[str, str], args: list[str], runs: int) -> tuple[float, float, float]:
    """Median (command seconds, bare seconds, ratio) over `runs`, each run beside a bare one."""
    pairs = []
    for _ in range(runs):
        bare = spawn([str(VENV_PYTHON), "-c", "pass"], env)[1]
        whole = spawn([str(RETROTREAD), *args], env)[1]
        pairs.append((whole, bare))
    return (
        statistics.median(w for w, _ in pairs),
        statistics.median(b for _, b in pairs),
        statistics.median(w / b for w, b in pairs),
    )


def _in_process(journal: Path) -> None:
    from retrotread.history.export.csv import csv_bytes
    from retrotread.history.export.fit import fit_bytes
    from retrotread.history.export.tcx import tcx_bytes
    from retrotread.history.plot import png_bytes
    from retrotread.history.store import read_session

    started = time.perf_counter()
    log, _ = read_session(journal)
    print(f"  in-process: journal read in {ms(time.perf_counter() - started)}", end="")
    for name, render in (
        ("fit", lambda: fit_bytes(log)),
        ("tcx", lambda: tcx_bytes(log)),
        ("csv", lambda: csv_bytes(log)),
        ("png", lambda: png_bytes(log)),
    ):
        started = time.perf_counter()
        size = len(render())
        print(f"; {name} {ms(time.perf_counter() - started)} ({size / 1000:.0f} kB)", end="")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=MINUTES)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="rtb-export-"))
    try:
        env = child_env(root)
        journal = write_journal(Path(env["RETROTREAD_DATA_DIR"]) / "sessions", args.minutes)
        samples = sum(1 for line in journal.open() if '"telemetry"' in line)
        print(
            f"one {args.minutes}-minute journal: {samples} telemetry samples,"
            f" {journal.stat().st_size / 1e6:.1f} MB; load average {os.getloadavg()[0]:.1f}"
        )
        out = root / "out"
        out.mkdir()
        for _ in range(3):  # warm the bytecode cache
            spawn([str(RETROTREAD), "export", SESSION_ID, "--format", "fit", "-o", str(out)], env)
        print(f"  {'retrotread ...':<34} {'wall':>9} {'bare python':>10} {'ratio':>9}")
        cases = [
            ("export ID --format fit", ["export", SESSION_ID, "--format", "fit"], True),
            ("export last --format fit", ["export", "last", "--format", "fit"], False),
            ("export ID --format tcx", ["export", SESSION_ID, "--format", "tcx"], False),
            ("export ID --format csv", ["export", SESSION_ID, "--format", "csv"], False),
            ("plot ID", ["plot", SESSION_ID], False),
        ]
        for label, command, goal in cases:
            runs = args.runs if goal else max(3, args.runs // 2)
            whole, bare, ratio = _median_spawn(env, [*command, "-o", str(out)], runs)
            verdict = ""
            if goal:
                met = "met" if whole <= GOAL_FIT_S else "MISSED"
                verdict = f"   (goal <= {GOAL_FIT_S} s: {met})"
            print(f"  {label:<34} {whole:7.3f} s {ms(bare):>10} {ratio:8.1f}x{verdict}")
        _in_process(journal)
        rows = import_profile(env, ["export", SESSION_ID, "--format", "fit", "-o", str(out)], 5)
        total = sum(row[0] for row in rows)
        print(f"-X importtime of `export --format fit`: {len(rows)} modules,", end=" ")
        print(f"{total / 1000:.1f} ms self")
        by_cumulative = sorted(rows, key=lambda row: row[1], reverse=True)
        for own, cumulative, module in [r for r in by_cumulative if not r[2].startswith("  ")][:8]:
            print(
                f"    {cumulative / 1000:6.2f} ms cum {own / 1000:5.2f} ms self  {module.strip()}"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
