"""Hand-made journals: the JSON lines a session writes, built from the event models, for tests of
the history commands that need many sessions or shapes a simulated one cannot give (cut off,
damaged, a failed start)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from retrotread.events import (
    CommandEvent,
    ConnectedEvent,
    Direction,
    Event,
    RpeEvent,
    SafetyAction,
    SafetyEvent,
    SafetyReason,
    SegmentEvent,
    StoppedEvent,
    StopReason,
    SummaryEvent,
    TelemetryEvent,
)
from retrotread.units import KMH_PER_MPH

DAY_ONE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def session_id(day: int, suffix: str = "0a0a") -> str:
    """An id as `session.journal.new_session_id` makes them, `day` days after DAY_ONE."""
    return f"{(DAY_ONE + timedelta(days=day)).strftime('%Y%m%dT%H%M%SZ')}-{suffix}"


def session_events(
    sid: str,
    *,
    seconds: int = 60,
    mph: float = 1.0,
    forward_s: int = 0,
    heart_rate: int | None = 90,
    heart_rate_source: Literal["strap", "treadmill"] = "treadmill",
    program: str = "hand-made",
    telemetry: bool = True,
    rpe: int | None = None,
    safety: Sequence[tuple[float, SafetyReason, SafetyAction]] = (),
    stop_reason: StopReason = "completed",
) -> list[Event]:
    """A whole session: connected, one backward segment of `seconds` at `mph` (then a forward
    one of `forward_s`), 1 Hz telemetry (none with `telemetry=False`: a failed start),
    stopped and summary, then an RPE when given."""
    events: list[Event] = [
        ConnectedEvent(
            t=0.5,
            device="Hand Made",
            speed_range_kmh=(0.5, 20.0, 0.01),
            features=["total_distance", "heart_rate_measurement"],
            program=program,
        ),
        CommandEvent(t=0.6, op="request_control", result="success"),
        CommandEvent(t=1.0, op="start", result="success"),
        _segment(1.0, 0, Direction.backward, mph, seconds),
    ]
    segments = [(1.0, Direction.backward, mph, seconds)]
    if forward_s:
        start = 1.0 + seconds
        events.append(_segment(start, 1, Direction.forward, 2.0, forward_s))
        segments.append((start, Direction.forward, 2.0, forward_s))
    end = 1.0 + seconds + forward_s
    if telemetry:
        distance = 0.0
        for second in range(seconds + forward_s + 1):
            t = 1.0 + second
            speed = next(s[2] for s in reversed(segments) if s[0] <= t)
            events.append(
                TelemetryEvent(
                    t=t,
                    speed_mph=speed,
                    speed_kmh=round(speed * KMH_PER_MPH, 2),
                    distance_m=round(distance, 1),
                    heart_rate_bpm=heart_rate,
                    heart_rate_source=heart_rate_source if heart_rate else None,
                )
            )
            distance += speed * KMH_PER_MPH / 3.6
    for t, reason, action in safety:
        events.append(SafetyEvent(t=t, reason=reason, action=action))
    events += [
        CommandEvent(t=end, op="stop", result="success"),
        StoppedEvent(t=end + 0.5, reason=stop_reason, belt_mph=0.0),
        SummaryEvent(
            t=end + 0.6,
            outcome="completed" if stop_reason == "completed" else "stopped",
            duration_s=end + 0.6,
            distance_m=round(distance, 1) if telemetry else 0.0,
            max_speed_mph=max(s[2] for s in segments) if telemetry else 0.0,
            session=sid,
            program=program,
        ),
    ]
    if rpe is not None:
        events.append(RpeEvent(t=end + 0.6, rpe=rpe, source="prompt"))
    return events


def _segment(t: float, index: int, direction: Direction, mph: float, seconds: int) -> Event:
    name = "back" if direction is Direction.backward else "fwd"
    return SegmentEvent(
        t=t, index=index, name=name, direction=direction, target_mph=mph, duration_s=seconds
    )


def write_journal(sessions_dir: Path, sid: str, events: Sequence[Event], *, tail: str = "") -> Path:
    """`<sessions_dir>/<sid>.jsonl` with one line per event, then `tail` verbatim (a line cut
    off by a crash, say)."""
    sessions_dir.mkdir(parents=True, exist_ok=True)
    path = sessions_dir / f"{sid}.jsonl"
    path.write_text("".join(e.to_json() + "\n" for e in events) + tail, encoding="utf-8")
    return path


def keep_signature(path: Path, text: str) -> None:
    """Replace the journal's text with `text` of the same size, restoring its mtime_ns: a
    change that the index, keyed by (size, mtime_ns), cannot see."""
    st = path.stat()
    assert len(text.encode()) == st.st_size
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
