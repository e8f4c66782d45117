"""Journals written straight from the event models, the JSON lines a session writes, for the
benchmarks that need long or many sessions without running the simulator for each
(`benchmarks.export`, `benchmarks.history`).

Not a benchmark of its own (`scripts/bench` runs only the modules without a leading underscore).
Every session here connects, counts down, starts at `START_T`, walks its segments with the belt
following each target in 0.1 mph ramp steps, and ends as a completed program.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal

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

START_T = 3.5  # the Start, after the walker's countdown
RAMP_STEP_MPH = 0.1

# name, direction, target mph, seconds, incline % (None: the segment sets no incline)
Segment = tuple[str, Direction, float, float, float | None]
HeartRateSource = Literal["strap", "treadmill"]


def opening(program: str, plan: dict[str, Any] | None = None) -> list[Event]:
    """What a session journals before the belt moves: connected (with `plan` as run), control
    requested, the starting cue, the Start at START_T."""
    return [
        ConnectedEvent(
            t=0.5,
            device="RetroTread SIM",
            speed_range_kmh=(0.5, 20.0, 0.01),
            incline_range_pct=(0.0, 15.0, 0.5),
            features=["total_distance", "inclination", "heart_rate_measurement", "elapsed_time"],
            target_settings=["speed_target", "inclination_target"],
            program=program,
            plan=plan,
        ),
        CommandEvent(t=0.51, op="request_control", result="success"),
        CueEvent(t=0.52, kind="starting", text="Belt starting in 3, 2, 1", in_s=3.0),
        CommandEvent(t=START_T, op="start", result="success"),
    ]


def segment_events(plan: Sequence[Segment]) -> tuple[list[Event], list[float], float]:
    """The segment events of `plan` back to back from START_T: the events, each segment's start
    and the moment the last one ends."""
    events: list[Event] = []
    starts: list[float] = []
    t = START_T
    for index, (name, direction, mph, seconds, incline) in enumerate(plan):
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
    return events, starts, t


def each_second(
    plan: Sequence[Segment], starts: Sequence[float], seconds: int
) -> Iterator[tuple[int, float, Segment]]:
    """Every second of the walk after the Start, `seconds` of them: (seconds since the Start,
    the moment the engine acts on it, the segment under way then)."""
    seg = 0
    for second in range(1, seconds + 1):
        now = START_T + second - 0.2
        while seg + 1 < len(starts) and starts[seg + 1] <= now:
            seg += 1
        yield second, now, plan[seg]


def ramp(events: list[Event], now: float, speed: float, target: float) -> float:
    """One ramp step from `speed` toward `target` with its set_speed command appended to
    `events` (none once the belt is there); the new speed."""
    if abs(speed - target) <= 1e-9:
        return speed
    speed = (
        min(target, speed + RAMP_STEP_MPH) if target > speed else max(target, speed - RAMP_STEP_MPH)
    )
    kmh = round(speed * KMH_PER_MPH, 2)
    events.append(
        CommandEvent(
            t=now, op="set_speed", mph=round(kmh / KMH_PER_MPH, 4), kmh=kmh, result="success"
        )
    )
    return speed


def sample(
    now: float,
    second: int,
    belt_mph: float,
    distance_m: float,
    incline_pct: float,
    heart_rate_bpm: int,
    heart_rate_source: HeartRateSource,
) -> TelemetryEvent:
    """The telemetry of `second` seconds into the session, read 0.1 s after `now`."""
    return TelemetryEvent(
        t=now + 0.1,
        speed_mph=round(belt_mph, 3),
        speed_kmh=round(belt_mph * KMH_PER_MPH, 2),
        distance_m=float(int(distance_m)),
        incline_pct=incline_pct,
        heart_rate_bpm=heart_rate_bpm,
        heart_rate_source=heart_rate_source,
        elapsed_s=float(second),
    )


def closing(
    end: float, distance_m: float, max_speed_mph: float, session: str, program: str
) -> list[Event]:
    """The program's Stop at `end`, the belt stopped, and the summary of a completed session."""
    return [
        CommandEvent(t=end, op="stop", result="success", source="program"),
        StoppedEvent(t=end + 0.8, reason="completed", belt_mph=0.0, source="program"),
        SummaryEvent(
            t=end + 0.81,
            outcome="completed",
            duration_s=round(end + 0.81, 3),
            distance_m=float(int(distance_m)),
            max_speed_mph=max_speed_mph,
            session=session,
            program=program,
        ),
    ]


def as_text(events: Sequence[Event]) -> str:
    """The journal's text: one JSON line per event."""
    return "".join(e.to_json() + "\n" for e in events)
