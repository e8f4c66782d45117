"""Which session moments fire which Home Assistant device trigger, from hand-made event lists."""

from __future__ import annotations

from typing import get_args

import pytest

from retrotread.channels.mqtt.triggers import (
    ANY,
    COMPLETED,
    ENDED,
    FULL_TEMPLATE,
    SAFETY_STOP,
    SAFETY_SUBTYPES,
    STARTED,
    TRIGGERS,
    TYPE_TEMPLATE,
    Moment,
    Trigger,
    TriggerWatch,
)
from retrotread.events import (
    CommandEvent,
    Event,
    SafetyEvent,
    SafetyReason,
    StoppedEvent,
    StopReason,
    SummaryEvent,
    TelemetryEvent,
)


def _summary(outcome: str, t: float = 60.0) -> SummaryEvent:
    return SummaryEvent(
        t=t,
        outcome="completed" if outcome == "completed" else "stopped",
        duration_s=t,
        distance_m=25.0,
        max_speed_mph=1.0,
        session="s1",
    )


def _session(*middle: Event, reason: StopReason = "completed", outcome: str = "") -> list[Event]:
    return [
        CommandEvent(t=0.0, op="request_control", result="success"),
        CommandEvent(t=3.0, op="start", result="success"),
        TelemetryEvent(t=4.0, speed_mph=0.5, speed_kmh=0.8),
        *middle,
        StoppedEvent(t=50.0, reason=reason, belt_mph=0.0),
        _summary(outcome or ("completed" if reason == "completed" else "stopped"), 51.0),
    ]


def _moments(events: list[Event]) -> list[Moment]:
    watch = TriggerWatch()
    return [moment for event in events for moment in watch.observe(event)]


def _pairs(events: list[Event]) -> list[tuple[str, str]]:
    return [(m.trigger.type, m.trigger.subtype) for m in _moments(events)]


def test_a_completed_session_starts_completes_and_ends() -> None:
    moments = _moments(_session())
    assert [(m.trigger.type, m.trigger.subtype) for m in moments] == [
        ("started", "session"),
        ("completed", "session"),
        ("ended", "session"),
    ]
    completed = moments[1].body()
    assert completed["outcome"] == "completed"
    assert completed["reason"] == "completed"
    assert completed["duration_s"] == 51.0


def test_only_the_first_start_is_a_start() -> None:
    resumed = [
        CommandEvent(t=10.0, op="pause", result="success"),
        CommandEvent(t=20.0, op="start", result="success"),  # the walker resumes
    ]
    assert _pairs(_session(*resumed)).count(("started", "session")) == 1


def test_a_refused_start_is_no_start() -> None:
    events: list[Event] = [
        CommandEvent(t=3.0, op="start", result="operation_failed"),
        SafetyEvent(t=3.0, reason="start_failed", action="stop"),
        StoppedEvent(t=4.0, reason="fault", belt_mph=0.0),
        _summary("stopped", 4.0),
    ]
    assert _pairs(events) == [("safety_stop", "start_failed"), ("ended", "session")]


@pytest.mark.parametrize("reason", ["overspeed", "telemetry_stale", "disconnected", "heart_rate"])
def test_a_supervisor_fault_is_a_safety_stop_named_by_its_safety_reason(
    reason: SafetyReason,
) -> None:
    fault = SafetyEvent(t=30.0, reason=reason, action="stop", detail="what was seen")
    moments = _moments(_session(fault, reason="fault"))
    assert [(m.trigger.type, m.trigger.subtype) for m in moments] == [
        ("started", "session"),
        ("safety_stop", reason),
        ("ended", "session"),
    ]
    body = moments[1].body()
    assert body["reason"] == "fault"
    assert body["detail"] == "what was seen"
    assert moments[2].body()["outcome"] == "stopped"


def test_a_slow_down_before_the_fault_does_not_name_it() -> None:
    events = _session(
        SafetyEvent(t=20.0, reason="heart_rate", action="slow"),
        SafetyEvent(t=20.0, reason="heart_rate_lost", action="slow"),
        SafetyEvent(t=30.0, reason="overspeed", action="stop"),
        reason="fault",
    )
    assert ("safety_stop", "overspeed") in _pairs(events)


@pytest.mark.parametrize("reason", ["estop", "safety_key", "console_stop"])
def test_a_stop_by_a_person_or_the_machine_is_named_by_the_stop_reason(reason: StopReason) -> None:
    # The first stop wins: a Stop never confirmed afterwards does not rename it.
    unverified = SafetyEvent(t=45.0, reason="stop_unverified", action="stop")
    assert ("safety_stop", reason) in _pairs(_session(unverified, reason=reason))


def test_a_fault_without_a_safety_event_is_a_fault() -> None:
    events: list[Event] = [StoppedEvent(t=1.0, reason="fault", belt_mph=0.0), _summary("stopped")]
    assert _pairs(events) == [("safety_stop", "fault"), ("ended", "session")]


def test_a_program_that_ran_out_with_a_belt_never_seen_at_0_is_a_safety_stop() -> None:
    unverified = SafetyEvent(t=45.0, reason="stop_unverified", action="stop", detail="not at 0")
    pairs = _pairs(_session(unverified, reason="completed", outcome="stopped"))
    assert pairs == [
        ("started", "session"),
        ("safety_stop", "stop_unverified"),
        ("ended", "session"),
    ]


def test_an_interrupt_only_ends_the_session() -> None:
    assert _pairs(_session(reason="interrupted")) == [("started", "session"), ("ended", "session")]


def test_every_safety_stop_subtype_has_a_trigger_and_any_matches_them_all() -> None:
    stop_reasons = set(get_args(SafetyReason)) - {"heart_rate_lost", "struggle"}
    assert set(SAFETY_SUBTYPES) == stop_reasons | {"fault"}
    advertised = {(t.type, t.subtype) for t in TRIGGERS}
    assert {(SAFETY_STOP, s) for s in SAFETY_SUBTYPES} | {(SAFETY_STOP, ANY)} <= advertised
    assert {(STARTED.type, "session"), (COMPLETED.type, "session"), (ENDED.type, "session")} <= (
        advertised
    )
    assert len(advertised) == len(TRIGGERS)  # type and subtype unique per device
    assert len({t.object_id for t in TRIGGERS}) == len(TRIGGERS)


def _render(template: str, body: dict[str, object]) -> str:
    """What Home Assistant's template renders for a message (its two template shapes)."""
    if template == FULL_TEMPLATE:
        return f"{body['type']} {body['subtype']}"
    assert template == TYPE_TEMPLATE
    return str(body["type"])


def test_each_message_fires_its_own_trigger_and_safety_stops_also_fire_any() -> None:
    events = _session(SafetyEvent(t=30.0, reason="overspeed", action="stop"), reason="fault")
    for moment in _moments(events):
        body = moment.body()
        fired = [t for t in TRIGGERS if _render(t.value_template, body) == t.payload]
        expected = {moment.trigger}
        if moment.trigger.type == SAFETY_STOP:
            expected.add(Trigger(SAFETY_STOP, ANY))
        assert set(fired) == expected
