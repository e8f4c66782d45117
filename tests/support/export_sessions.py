"""Hand-made sessions for the export and plot tests: what a real session journals (connected,
segments with their ramps of set_speed commands, 1 Hz telemetry that follows the belt), with
the shapes a simulated run gives only with effort: a pause and its resume, a heart-rate
safety event, heart rate from a strap, incline, a journal cut off before its summary."""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from retrotread.events import (
    CommandEvent,
    ConnectedEvent,
    Direction,
    Event,
    SafetyEvent,
    SegmentEvent,
    StoppedEvent,
    SummaryEvent,
    TelemetryEvent,
)
from retrotread.history.record import SessionLog
from retrotread.units import KMH_PER_MPH

SESSION_ID = "20260302T080000Z-e1e1"
START_T = 3.0  # the first Start, after the countdown


@dataclass(frozen=True)
class Seg:
    """A segment of a hand-made session: `seconds` at `mph` facing `direction`."""

    seconds: int
    mph: float
    direction: Direction = Direction.backward
    incline_pct: float | None = None
    name: str = ""


@dataclass
class Shape:
    """What the session does beyond walking its segments."""

    segments: Sequence[Seg] = (Seg(120, 1.2), Seg(60, 2.5, Direction.forward), Seg(120, 1.5))
    heart_rate: bool = True
    heart_rate_source: Literal["strap", "treadmill"] = "strap"
    distance: bool = True  # the machine reports a distance
    pause: tuple[float, float] | None = None  # (at t, for seconds): walker pause, then resume
    safety: Sequence[tuple[float, str, str]] = field(default_factory=tuple)
    stop_reason: Literal["completed", "estop"] = "completed"
    cut_off_at: float | None = None  # drop every event from this t on (a crash)
    program: str = "hand-made"


def session_events(shape: Shape | None = None) -> list[Event]:
    """The journal of a session of `shape` (default: backward, forward, backward)."""
    shape = shape or Shape()
    events: list[Event] = [
        ConnectedEvent(
            t=0.4,
            device="Hand Treadmill",
            speed_range_kmh=(0.5, 20.0, 0.01),
            features=["total_distance", "inclination", "heart_rate_measurement"],
            program=shape.program,
            plan={"name": shape.program, "segments": []},
        ),
        CommandEvent(t=0.5, op="request_control", result="success"),
    ]
    events.append(_speed(START_T - 0.01, 0.5))
    events.append(CommandEvent(t=START_T, op="start", result="success"))
    t = START_T
    boundaries = []
    for index, seg in enumerate(shape.segments):
        boundaries.append((t, index, seg))
        events.append(
            SegmentEvent(
                t=t,
                index=index,
                name=seg.name or f"{seg.direction.value} {index + 1}",
                direction=seg.direction,
                target_mph=seg.mph,
                duration_s=seg.seconds,
                incline_pct=seg.incline_pct,
            )
        )
        t += seg.seconds
    end = t
    # Commands: a ramp of 0.1 mph a second to each segment's target.
    commanded = 0.5
    belt: list[tuple[float, float]] = []  # (t, mph) the belt runs at, second by second
    second = START_T
    while second < end:
        seg = next(s for b, _i, s in reversed(boundaries) if b <= second)
        if _paused(shape, second):
            commanded = 0.5  # the resume starts again at the floor
            belt.append((second, 0.0))
            second += 1.0
            continue
        if abs(commanded - seg.mph) > 1e-9:
            step = max(-0.1, min(0.1, seg.mph - commanded))
            commanded = round(commanded + step, 4)
            events.append(_speed(second + 0.01, commanded))
        belt.append((second, commanded))
        second += 1.0
    if shape.pause is not None:
        at, seconds = shape.pause
        events.append(CommandEvent(t=at, op="pause", result="success", source="walker"))
        events.append(_speed(at + seconds - 0.02, 0.5))
        events.append(CommandEvent(t=at + seconds, op="start", result="success"))
    for at, reason, action in shape.safety:
        events.append(SafetyEvent(t=at, reason=reason, action=action))  # type: ignore[arg-type]
    distance = reported = 0.0
    for i, (at, mph) in enumerate(belt):
        seg = next(s for b, _i, s in reversed(boundaries) if b <= at)
        sample_t = at + 0.2
        events.append(
            TelemetryEvent(
                t=sample_t,
                speed_mph=mph,
                speed_kmh=round(mph * KMH_PER_MPH, 2),
                distance_m=round(distance, 1) if shape.distance else None,
                incline_pct=seg.incline_pct,
                heart_rate_bpm=80 + (i % 40) if shape.heart_rate else None,
                heart_rate_source=shape.heart_rate_source if shape.heart_rate else None,
                elapsed_s=float(i),
            )
        )
        reported = round(distance, 1)
        distance += mph * KMH_PER_MPH / 3.6
    events.append(CommandEvent(t=end, op="stop", result="success", source="program"))
    events.append(StoppedEvent(t=end + 1.0, reason=shape.stop_reason, belt_mph=0.0))
    max_mph = max((mph for _, mph in belt), default=0.0)
    events.append(
        SummaryEvent(
            t=end + 1.1,
            outcome="completed" if shape.stop_reason == "completed" else "stopped",
            duration_s=end + 1.1,
            distance_m=reported,  # the machine's last figure, as the engine journals it
            max_speed_mph=max_mph,
            session=SESSION_ID,
            program=shape.program,
        )
    )
    events.sort(key=lambda e: e.t)
    if shape.cut_off_at is not None:
        events = [e for e in events if e.t < shape.cut_off_at]
    return events


def session_log(shape: Shape | None = None, session_id: str = SESSION_ID) -> SessionLog:
    return SessionLog.from_events(session_id, session_events(shape))


def _speed(t: float, mph: float) -> CommandEvent:
    return CommandEvent(
        t=t, op="set_speed", mph=mph, kmh=round(mph * KMH_PER_MPH, 2), result="success"
    )


def _paused(shape: Shape, t: float) -> bool:
    if shape.pause is None:
        return False
    at, seconds = shape.pause
    return at <= t < at + seconds


# -- reading the files back -------------------------------------------------------------------

TCX_SCHEMA_PATH = Path(__file__).resolve().parents[1] / "data" / "TrainingCenterDatabasev2.xsd"
TCX_NS = {"tcx": "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"}


def fit_messages(data: bytes) -> dict[str, list[dict[str, Any]]]:
    """Every data message of a FIT file by name, each as {field name: value}, read by fitdecode
    with its CRC checked (a bad CRC, a truncated or malformed file raises)."""
    import fitdecode

    found: dict[str, list[dict[str, Any]]] = {}
    with fitdecode.FitReader(
        io.BytesIO(data),
        check_crc=fitdecode.CrcCheck.ENABLED,
        error_handling=fitdecode.ErrorHandling.RAISE,
    ) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage):
                fields = {f.name: f.value for f in frame.fields}
                found.setdefault(frame.name, []).append(fields)
    return found


@functools.cache
def tcx_schema() -> Any:
    """Garmin's TrainingCenterDatabase v2 schema (tests/data), loaded once."""
    import xmlschema

    return xmlschema.XMLSchema(TCX_SCHEMA_PATH)


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; AssertionError unless it is a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
