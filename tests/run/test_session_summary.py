"""The end of a session in words (`retrotread.run.session_summary`), from hand-made events read
the way `SessionLog` reads a journal."""

from __future__ import annotations

from pathlib import Path

from retrotread.events import (
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
from retrotread.run import session_summary

JOURNAL = Path("/data/sessions/20261201T094915Z-6243.jsonl")


def walk(
    stopped: StoppedEvent, *extra: Event, heart_rate: bool = True, backward: bool = True
) -> SessionLog:
    """60 s backward at 1.0 mph (90 bpm) from t=3, then 30 s forward at 2.0 mph (110 bpm),
    then the belt at 0, `extra` events and the closing events."""
    first = Direction.backward if backward else Direction.forward
    events: list[Event] = [
        ConnectedEvent(t=0.1, device="sim", speed_range_kmh=(0.5, 20.0, 0.01), features=[]),
        SegmentEvent(t=3.0, index=0, name="back", direction=first, target_mph=1.0, duration_s=60.0),
    ]
    for t in range(3, 94):
        if t == 63:
            events.append(
                SegmentEvent(
                    t=63.0,
                    index=1,
                    name="fwd",
                    direction=Direction.forward,
                    target_mph=2.0,
                    duration_s=30.0,
                )
            )
        mph = 0.0 if t == 93 else (1.0 if t < 63 else 2.0)
        events.append(
            TelemetryEvent(
                t=float(t),
                speed_mph=mph,
                speed_kmh=mph * 1.609344,
                heart_rate_bpm=(90 if t < 63 else 110) if heart_rate else None,
                heart_rate_source="strap" if heart_rate else None,
            )
        )
    events += [
        *extra,
        stopped,
        SummaryEvent(
            t=stopped.t,
            outcome="completed" if stopped.reason == "completed" else "stopped",
            duration_s=stopped.t,
            distance_m=100.0,
            max_speed_mph=2.0,
            session=JOURNAL.stem,
        ),
    ]
    return SessionLog.from_events(JOURNAL.stem, events, path=JOURNAL)


def test_a_completed_session_in_words() -> None:
    log = walk(StoppedEvent(t=94.0, reason="completed", belt_mph=0.0, source="program"))
    assert session_summary(log).splitlines() == [
        "Program complete.",
        "  time        1:34 in all: 1:00 backward, 0:30 forward",
        "  backward    1.0 mph on average",
        "  distance    328 ft",
        "  heart rate  97 bpm on average, 110 bpm at most (strap)",
        f"  journal     {JOURNAL}",
        "`retrotread show last` to see more.",
    ]


def test_the_same_in_metric_units() -> None:
    log = walk(StoppedEvent(t=94.0, reason="completed", belt_mph=0.0, source="program"))
    text = session_summary(log, "metric")
    assert "  backward    1.6 km/h on average" in text.splitlines()
    assert "  distance    100 m" in text.splitlines()
    assert "mph" not in text
    assert " ft" not in text


def test_a_supervisor_stop_names_what_it_saw_and_a_moving_belt_is_said_second() -> None:
    stale = SafetyEvent(t=50.0, reason="telemetry_stale", action="stop", detail="no data for 3 s")
    unverified = SafetyEvent(t=93.5, reason="stop_unverified", action="stop")
    log = walk(
        StoppedEvent(t=94.0, reason="fault", belt_mph=0.5, source="supervisor"), stale, unverified
    )
    first, second, *_ = session_summary(log).splitlines()
    assert first == "Stopped by the supervisor: no data from the treadmill."
    assert second == ("The belt was last seen moving at 0.5 mph: check it, stop it at the console.")


def test_ctrl_c_and_no_heart_rate_and_no_backward_walking() -> None:
    log = walk(
        StoppedEvent(t=94.0, reason="interrupted", belt_mph=0.0, source="sigint"),
        heart_rate=False,
        backward=False,
    )
    lines = session_summary(log).splitlines()
    assert lines[0] == "Stopped by you (Ctrl-C)."
    assert "  time        1:34 in all: 0:00 backward, 1:30 forward" in lines
    assert "  backward    none" in lines
    assert "  heart rate  none reported" in lines


def test_a_journal_cut_off_before_its_stop_still_reads() -> None:
    log = SessionLog.from_events(
        "x", [TelemetryEvent(t=1.0, speed_mph=1.0, speed_kmh=1.61)], path=None
    )
    lines = session_summary(log).splitlines()
    assert lines[0] == "The session ended without a stop on record."
    assert lines[-1] == "`retrotread show last` to see more."
    assert not [line for line in lines if "journal" in line]
