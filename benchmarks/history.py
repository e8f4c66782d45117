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
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.cli import child_env, ms, spawn
from benchmarks.importtime import RETROTREAD, VENV_PYTHON, import_profile
from retrotread.events import (
    CommandEvent,
    ConnectedEvent,
    CueEvent,
    Direction,
    Event,
    RpeEvent,
    SafetyEvent,
    SegmentEvent,
    StoppedEvent,
    SummaryEvent,
    TelemetryEvent,
)
from retrotread.units import KMH_PER_MPH

SESSIONS = 1000
RUNS = 11
GOAL_WARM_S = 0.3
SESSION_S = 20 * 60
FIRST_START = datetime(2024, 1, 1, 7, 30, tzinfo=UTC)


def _plan(back_mph: float) -> list[tuple[str, Direction, float, float]]:
    """(name, direction, target mph, seconds) of a 20-minute backward session."""
    return [
        ("warm up", Direction.backward, 0.8, 180.0),
        ("steady", Direction.backward, back_mph, 480.0),
        ("brisk", Direction.backward, min(3.0, back_mph + 0.3), 360.0),
        ("cool down", Direction.backward, 0.8, 180.0),
    ]


def session_events(session_id: str, rng: random.Random) -> list[Event]:
    """One 20-minute session's events, as the engine would journal them."""
    back = round(rng.uniform(1.0, 2.2), 1)
    plan = _plan(back)
    events: list[Event] = [
        ConnectedEvent(
            t=0.5,
            device="RetroTread SIM",
            speed_range_kmh=(0.5, 20.0, 0.01),
            incline_range_pct=(0.0, 15.0, 0.5),
            features=["total_distance", "inclination", "heart_rate_measurement", "elapsed_time"],
            target_settings=["speed_target", "inclination_target"],
            program="bench-20",
            plan={
                "name": "bench-20",
                "segments": [
                    {"name": n, "direction": d.value, "duration_s": s, "target_mph": mph}
                    for n, d, mph, s in plan
                ],
            },
        ),
        CommandEvent(t=0.51, op="request_control", result="success"),
        CueEvent(t=0.52, kind="starting", text="Belt starting in 3, 2, 1", in_s=3.0),
        CommandEvent(t=3.5, op="start", result="success"),
    ]
    seg_starts: list[float] = []
    t = 3.5
    for index, (name, direction, mph, seconds) in enumerate(plan):
        seg_starts.append(t)
        events.append(
            SegmentEvent(
                t=t, index=index, name=name, direction=direction, target_mph=mph, duration_s=seconds
            )
        )
        t += seconds
    end_t = t
    safety_at = rng.uniform(300, 900) if rng.random() < 0.05 else None
    speed = 0.0
    distance = 0.0
    seg = 0
    previous_target = 0.0
    for second in range(1, SESSION_S + 1):
        now = 3.5 + second - 0.2
        while seg + 1 < len(seg_starts) and seg_starts[seg + 1] <= now:
            seg += 1
        target = plan[seg][2]
        if target != previous_target:
            kind = "speed_up" if target > previous_target else "slow_down"
            events.append(CueEvent(t=now, kind=kind, text=f"{kind.replace('_', ' ')} to {target}"))
            previous_target = target
        if abs(speed - target) > 1e-9:
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
        distance += speed * KMH_PER_MPH / 3.6
        events.append(
            TelemetryEvent(
                t=now + 0.1,
                speed_mph=round(speed, 3),
                speed_kmh=round(speed * KMH_PER_MPH, 2),
                distance_m=float(int(distance)),
                incline_pct=0.0,
                heart_rate_bpm=int(80 + 30 * speed + rng.uniform(-3, 3)),
                heart_rate_source="treadmill",
                elapsed_s=float(second),
            )
        )
        if safety_at is not None and safety_at <= now < safety_at + 1:
            events.append(SafetyEvent(t=now, reason="heart_rate", action="slow"))
        if SESSION_S - second in (60, 10):
            left = SESSION_S - second
            events.append(CueEvent(t=now, kind="time_left", text=f"{left} seconds left"))
    events += [
        CommandEvent(t=end_t, op="stop", result="success", source="program"),
        StoppedEvent(t=end_t + 0.8, reason="completed", belt_mph=0.0, source="program"),
        SummaryEvent(
            t=end_t + 0.81,
            outcome="completed",
            duration_s=round(end_t + 0.81, 3),
            distance_m=float(int(distance)),
            max_speed_mph=min(3.0, back + 0.3),
            session=session_id,
            program="bench-20",
        ),
    ]
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
        text = "".join(e.to_json() + "\n" for e in session_events(session_id, rng))
        (sessions_dir / f"{session_id}.jsonl").write_text(text, encoding="utf-8")
        written += len(text)
    return written


def _timed(env: dict[str, str], args: list[str]) -> tuple[float, float]:
    """(command seconds, bare interpreter seconds), spawned back to back."""
    bare = spawn([str(VENV_PYTHON), "-c", "pass"], env)[1]
    whole = spawn([str(RETROTREAD), *args], env)[1]
    return whole, bare


def _line(label: str, whole: float, bare: float, goal: str = "") -> None:
    print(f"  {label:<34} {whole:7.3f} s {ms(bare):>10} {whole / bare:8.1f}x{goal}")


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
        print(f"  {'retrotread ...':<34} {'wall':>9} {'bare python':>10} {'ratio':>9}")
        whole, bare = _timed(env, ["history"])
        _line("history, first run (builds index)", whole, bare)
        warm = [_timed(env, ["history"]) for _ in range(args.runs)]
        median = statistics.median(w for w, _ in warm)
        ratio = statistics.median(w / b for w, b in warm)
        goal = f"   (goal <= {GOAL_WARM_S} s: {'met' if median <= GOAL_WARM_S else 'MISSED'})"
        print(
            f"  {'history, warm (median of ' + str(args.runs) + ')':<34} {median:7.3f} s"
            f" {ms(statistics.median(b for _, b in warm)):>10} {ratio:8.1f}x{goal}"
        )
        write_journals(sessions, 1, first=args.sessions)
        whole, bare = _timed(env, ["history"])
        _line("history, one new journal", whole, bare)
        limited = [_timed(env, ["history", "--limit", "10", "--json"]) for _ in range(args.runs)]
        _line(
            "history --limit 10 --json, warm",
            statistics.median(w for w, _ in limited),
            statistics.median(b for _, b in limited),
        )
        rows = import_profile(env, ["history"], 5)
        total = sum(row[0] for row in rows)
        print(f"-X importtime of a warm `history`: {len(rows)} modules, {total / 1000:.1f} ms self")
        by_cumulative = sorted(rows, key=lambda row: row[1], reverse=True)
        for own, cumulative, module in [r for r in by_cumulative if not r[2].startswith("  ")][:8]:
            print(
                f"    {cumulative / 1000:6.2f} ms cum {own / 1000:5.2f} ms self  {module.strip()}"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
