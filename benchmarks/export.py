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
import tempfile
import time
from pathlib import Path

from benchmarks import _journals as journals
from benchmarks.cli import (
    WALL_TABLE_HEADER,
    child_env,
    medians_beside_bare,
    ms,
    spawn,
    wall_table_row,
)
from benchmarks.importtime import RETROTREAD, import_profile, print_top_imports
from retrotread.events import CommandEvent, Direction, Event
from retrotread.units import KMH_PER_MPH

MINUTES = 60
RUNS = 11
GOAL_FIT_S = 0.5
SESSION_ID = "20261201T070000Z-be11"
PROGRAM = "bench-60"
PAUSE = (1500.0, 60.0)  # a walker's pause: at t, for seconds


def _plan(minutes: int) -> list[journals.Segment]:
    """(name, direction, target mph, seconds, incline %) filling `minutes`."""
    share = minutes * 60 / 12
    return [
        ("warm up", Direction.backward, 0.8, 2 * share, 0.0),
        ("steady", Direction.backward, 1.4, 3 * share, 2.0),
        ("forward", Direction.forward, 2.5, share, 0.0),
        ("brisk", Direction.backward, 1.8, 3 * share, 4.0),
        ("forward again", Direction.forward, 2.5, share, 0.0),
        ("cool down", Direction.backward, 0.8, 2 * share, 0.0),
    ]


def session_events(minutes: int) -> list[Event]:
    """The journal of a `minutes`-long session, as the engine would write it."""
    plan = _plan(minutes)
    events = journals.opening(PROGRAM)
    segments, starts, end = journals.segment_events(plan)
    events += segments
    speed = distance = 0.0
    for second, now, segment in journals.each_second(plan, starts, int(end - journals.START_T)):
        target, incline = segment[2], segment[4] or 0.0
        paused = PAUSE[0] <= now < PAUSE[0] + PAUSE[1]
        if PAUSE[0] <= now < PAUSE[0] + 1:
            events.append(CommandEvent(t=now, op="pause", result="success", source="walker"))
            speed = 0.0
        elif PAUSE[0] + PAUSE[1] <= now < PAUSE[0] + PAUSE[1] + 1:
            events.append(CommandEvent(t=now, op="start", result="success"))
            speed = 0.5
        if not paused:
            speed = journals.ramp(events, now, speed, target)
        belt = 0.0 if paused else speed
        distance += belt * KMH_PER_MPH / 3.6
        heart_rate = int(80 + 25 * belt + incline)
        events.append(journals.sample(now, second, belt, distance, incline, heart_rate, "strap"))
    return events + journals.closing(end, distance, 2.5, SESSION_ID, PROGRAM)


def write_journal(sessions_dir: Path, minutes: int) -> Path:
    sessions_dir.mkdir(parents=True, exist_ok=True)
    path = sessions_dir / f"{SESSION_ID}.jsonl"
    path.write_text(journals.as_text(session_events(minutes)), encoding="utf-8")
    return path


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
        print(WALL_TABLE_HEADER)
        cases = [
            ("export ID --format fit", ["export", SESSION_ID, "--format", "fit"], True),
            ("export last --format fit", ["export", "last", "--format", "fit"], False),
            ("export ID --format tcx", ["export", SESSION_ID, "--format", "tcx"], False),
            ("export ID --format csv", ["export", SESSION_ID, "--format", "csv"], False),
            ("plot ID", ["plot", SESSION_ID], False),
        ]
        for label, command, goal in cases:
            runs = args.runs if goal else max(3, args.runs // 2)
            whole, bare, ratio = medians_beside_bare(env, [*command, "-o", str(out)], runs)
            verdict = ""
            if goal:
                met = "met" if whole <= GOAL_FIT_S else "MISSED"
                verdict = f"   (goal <= {GOAL_FIT_S} s: {met})"
            print(wall_table_row(label, whole, bare, ratio, verdict))
        _in_process(journal)
        rows = import_profile(env, ["export", SESSION_ID, "--format", "fit", "-o", str(out)], 5)
        total = sum(row[0] for row in rows)
        print(f"-X importtime of `export --format fit`: {len(rows)} modules,", end=" ")
        print(f"{total / 1000:.1f} ms self")
        print_top_imports(rows)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
