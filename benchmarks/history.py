"""`retrotread history` over 1,000 journals of 20-minute sessions, as a whole process.

The journals are written straight from the event models (the JSON lines a session writes: the
connected event with its plan, segments, ramps of set_speed commands, cues, 1 Hz telemetry with
distance, incline and heart rate, now and then a safety slow-down or an RPE, stopped, summary),
not by running the simulator a thousand times. Then, each beside a bare `python -c pass` of the
same venv spawned and read the same way (`benchmarks.cli.spawn`):

- first run: no index yet, every journal is read and the index built;
- warm run: nothing changed, median of N runs (goal: at most 0.3 s);
- one new journal: the index extended by one session;
- `--limit 10 --json`.

Printed as absolute seconds and as ratios to the bare interpreter, then the warm run's
`-X importtime` top offenders.
Usage: python -m benchmarks.history [--sessions N] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks import _journals as journals
from benchmarks.cli import (
    WALL_TABLE_HEADER,
    beside_bare,
    child_env,
    medians_beside_bare,
    spawn,
    wall_table_row,
)
from benchmarks.importtime import RETROTREAD, VENV_PYTHON, import_profile, print_top_imports
from retrotread.events import CueEvent, Direction, Event, RpeEvent, SafetyEvent
from retrotread.units import KMH_PER_MPH

SESSIONS = 1000
RUNS = 11
GOAL_WARM_S = 0.3
SESSION_S = 20 * 60
FIRST_START = datetime(2024, 1, 1, 7, 30, tzinfo=UTC)
PROGRAM = "bench-20"


def _plan(back_mph: float) -> list[journals.Segment]:
    """(name, direction, target mph, seconds, no incline) of a 20-minute backward session."""
    return [
        ("warm up", Direction.backward, 0.8, 180.0, None),
        ("steady", Direction.backward, back_mph, 480.0, None),
        ("brisk", Direction.backward, min(3.0, back_mph + 0.3), 360.0, None),
        ("cool down", Direction.backward, 0.8, 180.0, None),
    ]


def session_events(session_id: str, rng: random.Random) -> list[Event]:
    """One 20-minute session's events, as the engine would journal them."""
    back = round(rng.uniform(1.0, 2.2), 1)
    plan = _plan(back)
    as_run = {
        "name": PROGRAM,
        "segments": [
            {"name": n, "direction": d.value, "duration_s": s, "target_mph": mph}
            for n, d, mph, s, _ in plan
        ],
    }
    events = journals.opening(PROGRAM, plan=as_run)
    segments, seg_starts, end_t = journals.segment_events(plan)
    events += segments
    safety_at = rng.uniform(300, 900) if rng.random() < 0.05 else None
    speed = 0.0
    distance = 0.0
    previous_target = 0.0
    for second, now, (_, _, target, _, _) in journals.each_second(plan, seg_starts, SESSION_S):
        if target != previous_target:
            kind = "speed_up" if target > previous_target else "slow_down"
            events.append(CueEvent(t=now, kind=kind, text=f"{kind.replace('_', ' ')} to {target}"))
            previous_target = target
        speed = journals.ramp(events, now, speed, target)
        distance += speed * KMH_PER_MPH / 3.6
        heart_rate = int(80 + 30 * speed + rng.uniform(-3, 3))
        events.append(journals.sample(now, second, speed, distance, 0.0, heart_rate, "treadmill"))
        if safety_at is not None and safety_at <= now < safety_at + 1:
            events.append(SafetyEvent(t=now, reason="heart_rate", action="slow"))
        if SESSION_S - second in (60, 10):
            left = SESSION_S - second
            events.append(CueEvent(t=now, kind="time_left", text=f"{left} seconds left"))
    events += journals.closing(end_t, distance, min(3.0, back + 0.3), session_id, PROGRAM)
    if rng.random() < 0.5:
        events.append(RpeEvent(t=end_t + 0.81, rpe=rng.randint(9, 15), source="prompt"))
    return events


def write_journals(sessions_dir: Path, count: int, *, first: int = 0) -> int:
    """`count` journals, one start every 1-3 days from FIRST_START; the bytes written."""
    sessions_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(1234 + first)
    written = 0
    start = FIRST_START + timedelta(days=2 * first)
    for i in range(first, first + count):
        start += timedelta(days=rng.choice((1, 2, 3)), minutes=rng.randint(-60, 60))
        session_id = f"{start.strftime('%Y%m%dT%H%M%SZ')}-{i:04x}"
        text = journals.as_text(session_events(session_id, rng))
        (sessions_dir / f"{session_id}.jsonl").write_text(text, encoding="utf-8")
        written += len(text)
    return written


def _line(label: str, whole: float, bare: float) -> None:
    print(wall_table_row(label, whole, bare, whole / bare))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=SESSIONS)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="rtb-history-"))
    try:
        env = child_env(root)
        sessions = Path(env["RETROTREAD_DATA_DIR"]) / "sessions"
        started = time.perf_counter()
        size = write_journals(sessions, args.sessions)
        print(
            f"{args.sessions} journals of {SESSION_S // 60} min at 1 Hz, {size / 1e6:.0f} MB,"
            f" written in {time.perf_counter() - started:.1f} s;"
            f" load average {os.getloadavg()[0]:.1f}"
        )
        for _ in range(3):  # warm the bytecode cache, without an index
            spawn([str(VENV_PYTHON), "-c", "pass"], env)
            spawn([str(RETROTREAD), "--help"], env)
        print(WALL_TABLE_HEADER)
        whole, bare = beside_bare(env, ["history"])
        _line("history, first run (builds index)", whole, bare)
        median, bare, ratio = medians_beside_bare(env, ["history"], args.runs)
        goal = f"   (goal <= {GOAL_WARM_S} s: {'met' if median <= GOAL_WARM_S else 'MISSED'})"
        print(wall_table_row(f"history, warm (median of {args.runs})", median, bare, ratio, goal))
        write_journals(sessions, 1, first=args.sessions)
        whole, bare = beside_bare(env, ["history"])
        _line("history, one new journal", whole, bare)
        whole, bare, _ = medians_beside_bare(env, ["history", "--limit", "10", "--json"], args.runs)
        _line("history --limit 10 --json, warm", whole, bare)
        rows = import_profile(env, ["history"], 5)
        total = sum(row[0] for row in rows)
        print(f"-X importtime of a warm `history`: {len(rows)} modules, {total / 1000:.1f} ms self")
        print_top_imports(rows)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
