"""A session read back from its journal: the totals every history command shares."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from retrotread.energy import MAX_SAMPLE_GAP_S
from retrotread.events import ConnectedEvent, Direction, SegmentEvent, SummaryEvent, TelemetryEvent
from retrotread.history.record import SessionLog, started_at_of
from tests.support.journals import session_events, session_id


def test_totals_of_a_backward_then_forward_session() -> None:
    sid = session_id(0)
    log = SessionLog.from_events(sid, session_events(sid, seconds=60, mph=1.0, forward_s=30))
    assert log.complete
    assert log.worth_listing
    assert log.program == "hand-made"
    assert log.device == "Hand Made"
    assert log.backward_s == pytest.approx(60)
    assert log.forward_s == pytest.approx(30)
    assert log.avg_backward_mph == pytest.approx(1.0)
    assert [lap.direction.value for lap in log.laps] == ["backward", "forward"]
    assert log.started_at == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_a_journal_cut_off_before_its_summary_still_reads_what_it_holds() -> None:
    sid = session_id(1)
    events = [e for e in session_events(sid, seconds=40) if not isinstance(e, SummaryEvent)]
    log = SessionLog.from_events(sid, events[: len(events) // 2])
    assert not log.complete
    assert log.outcome == "incomplete"
    assert log.samples
    assert log.distance_m > 0
    assert log.duration_s == log.events[-1].t


def test_a_start_that_never_moved_the_belt_is_not_worth_listing() -> None:
    sid = session_id(2)
    zeros = [
        e.model_copy(update={"speed_mph": 0.0, "speed_kmh": 0.0})
        if isinstance(e, TelemetryEvent)
        else e
        for e in session_events(sid, seconds=20)
    ]
    assert not SessionLog.from_events(sid, zeros).worth_listing
    assert not SessionLog.from_events(sid, session_events(sid, telemetry=False)).worth_listing


def test_samples_before_the_first_segment_face_the_way_the_plan_begins() -> None:
    sid = session_id(3)
    events = session_events(sid, seconds=20)
    first = next(e for e in events if isinstance(e, SegmentEvent))
    plan = {"name": "p", "segments": [{"name": "f", "direction": "forward", "duration_s": 20}]}
    forward_first = [
        e.model_copy(update={"direction": Direction.forward, "t": 5.0})
        if e is first
        else e.model_copy(update={"plan": plan})
        if isinstance(e, ConnectedEvent)
        else e
        for e in events
    ]
    log = SessionLog.from_events(sid, sorted(forward_first, key=lambda e: e.t))
    early = [s for s in log.samples if s.t < 5.0]
    assert early
    assert {s.direction for s in early} == {Direction.forward}
    assert {s.segment for s in early} == {None}
    # A journal that does not record its plan: backward, the way most plans begin.
    unplanned = SessionLog.from_events(sid, sorted(events, key=lambda e: e.t))
    assert unplanned.samples[0].direction is Direction.backward


def test_a_gap_in_telemetry_is_not_counted_as_walking() -> None:
    sid = session_id(4)
    events = [
        e
        for e in session_events(sid, seconds=60)
        if not (isinstance(e, TelemetryEvent) and 10 < e.t < 10 + 2 * MAX_SAMPLE_GAP_S + 1)
    ]
    log = SessionLog.from_events(sid, events)
    assert log.backward_s == pytest.approx(60 - 2 * MAX_SAMPLE_GAP_S - 1, abs=1)


def test_energy_needs_a_weight_and_grows_with_it() -> None:
    sid = session_id(5)
    log = SessionLog.from_events(sid, session_events(sid, seconds=600, mph=1.5))
    assert log.kcal(None) is None
    light, heavy = log.kcal(60), log.kcal(90)
    assert light is not None
    assert heavy is not None
    assert heavy == pytest.approx(light * 1.5)
    assert light > 0


def test_the_latest_rating_counts() -> None:
    sid = session_id(6)
    events = session_events(sid, rpe=15)
    from retrotread.events import RpeEvent

    log = SessionLog.from_events(sid, [*events, RpeEvent(t=events[-1].t, rpe=11, source="rate")])
    assert log.rpe == 11


def test_an_id_that_is_no_stamp_falls_back() -> None:
    fallback = datetime(2020, 1, 1, tzinfo=UTC)
    assert started_at_of("not-a-stamp", fallback) == fallback
