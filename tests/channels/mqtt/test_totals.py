"""The live totals behind the duration, backward-time and energy sensors: the same figures that
`retrotread history` reads back from the journal, and never falling while a session runs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrotread import energy
from retrotread.channels.mqtt.totals import SessionTotals
from retrotread.energy import MAX_SAMPLE_GAP_S
from retrotread.events import Direction, Event, SegmentEvent, SummaryEvent, TelemetryEvent
from retrotread.history import record
from retrotread.units import KMH_PER_MPH


def _telemetry(t: float, mph: float, incline: float | None = None) -> TelemetryEvent:
    return TelemetryEvent(
        t=t, speed_mph=mph, speed_kmh=round(mph * KMH_PER_MPH, 2), incline_pct=incline
    )


def _segment(t: float, index: int, direction: Direction) -> SegmentEvent:
    return SegmentEvent(
        t=t, index=index, name=f"s{index}", direction=direction, target_mph=1.0, duration_s=60
    )


def test_a_steady_backward_minute_counts_its_time_and_energy() -> None:
    totals = SessionTotals(weight_kg=70.0)
    events: list[Event] = [_segment(0.0, 0, Direction.backward)]
    events += [_telemetry(float(t), 1.5) for t in range(61)]
    for event in events:
        totals.observe(event)
    assert totals.duration_s == 60.0
    assert totals.backward_s == 60.0
    assert totals.kcal == pytest.approx(energy.net_kcal(1.5, 0.0, 60.0, 70.0))
    assert totals.as_json() == {
        "duration_s": 60.0,
        "backward_s": 60.0,
        "kcal": round(energy.net_kcal(1.5, 0.0, 60.0, 70.0), 2),
    }


def test_no_weight_no_estimate_but_the_times_still_count() -> None:
    totals = SessionTotals(weight_kg=None)
    for event in (_telemetry(0.0, 1.0), _telemetry(1.0, 1.0), _telemetry(2.0, 1.0)):
        totals.observe(event)
    assert totals.kcal is None
    assert totals.as_json() == {"duration_s": 2.0, "backward_s": 2.0, "kcal": None}


def test_forward_walking_a_standing_belt_and_a_long_gap_are_not_backward_time() -> None:
    totals = SessionTotals(weight_kg=80.0)
    events: list[Event] = [
        _segment(0.0, 0, Direction.forward),
        _telemetry(0.0, 2.0),
        _telemetry(10.0 + MAX_SAMPLE_GAP_S, 2.0),  # a gap: nothing counted for it
        _segment(20.0, 1, Direction.backward),
        _telemetry(20.0, 0.0),  # standing
        _telemetry(21.0, 1.0),
        _telemetry(22.0, 1.0),
    ]
    for event in events:
        totals.observe(event)
    assert totals.backward_s == 1.0  # 21 -> 22 only
    forward_kcal = energy.net_kcal(2.0, 0.0, 5.0, 80.0, backward=False)  # 15 -> 20
    assert totals.kcal == pytest.approx(forward_kcal + energy.net_kcal(1.0, 0.0, 1.0, 80.0))


def test_the_summary_fixes_the_duration_and_nothing_counts_after_it() -> None:
    totals = SessionTotals(weight_kg=70.0)
    for event in (_telemetry(0.0, 1.0), _telemetry(1.0, 1.0)):
        totals.observe(event)
    totals.observe(
        SummaryEvent(
            t=5.0, outcome="completed", duration_s=4.5, distance_m=1, max_speed_mph=1, session="x"
        )
    )
    before = totals.as_json()
    totals.observe(_telemetry(6.0, 1.0))
    assert totals.as_json() == before
    assert before["duration_s"] == 4.5


_steps = st.lists(
    st.tuples(
        st.floats(0.1, 8.0),  # seconds since the previous event
        st.floats(0.0, 4.0),  # belt mph
        st.one_of(st.none(), st.floats(0.0, 10.0)),  # incline
        st.sampled_from([None, Direction.backward, Direction.forward]),  # a new segment first
    ),
    max_size=60,
)


@given(_steps, st.one_of(st.none(), st.floats(30.0, 250.0)))
def test_live_totals_equal_the_journal_figures_and_never_fall(
    steps: list[tuple[float, float, float | None, Direction | None]], weight: float | None
) -> None:
    totals = SessionTotals(weight)
    events: list[Event] = []
    t = 0.0
    seen: list[dict[str, float | None]] = []
    for index, (dt, mph, incline, direction) in enumerate(steps):
        t += dt
        if direction is not None:
            events.append(_segment(t, index, direction))
            totals.observe(events[-1])
        events.append(_telemetry(t, mph, incline))
        totals.observe(events[-1])
        seen.append(totals.as_json())
    log = record.SessionLog.from_events("20250101T000000Z-x", events)
    assert totals.backward_s == pytest.approx(log.backward_s)
    expected_kcal = log.kcal(weight)
    if expected_kcal is None:
        assert totals.kcal is None
    else:
        assert totals.kcal == pytest.approx(expected_kcal)
    for key in ("duration_s", "backward_s", "kcal"):
        values = [value for figures in seen if (value := figures[key]) is not None]
        assert values == sorted(values), key
