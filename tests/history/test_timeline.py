"""The session laid out in time for the exports: laps that tile the session and share out its
samples and distance, pauses asked for (not a turn-around's), distances that never go back."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrotread.events import CommandEvent, Direction
from retrotread.history import timeline
from retrotread.history.record import SessionLog
from tests.support.export_sessions import Seg, Shape, session_events, session_log

segments = st.lists(
    st.builds(
        Seg,
        seconds=st.integers(5, 90),
        mph=st.sampled_from([0.5, 1.0, 1.5, 2.5]),
        direction=st.sampled_from(list(Direction)),
        incline_pct=st.sampled_from([None, 0.0, 2.0, 5.0]),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=40, deadline=None)
@given(segs=segments, distance=st.booleans(), cut=st.none() | st.floats(1.0, 300.0))
def test_laps_tile_the_session_and_share_out_samples_and_distance(
    segs: list[Seg], distance: bool, cut: float | None
) -> None:
    log = session_log(Shape(segments=tuple(segs), distance=distance, cut_off_at=cut))
    spans = timeline.lap_spans(log)
    assert len(spans) == max(1, len(log.laps))
    assert spans[0].start_t == 0.0
    assert spans[-1].end_t == pytest.approx(timeline.end_t(log))
    for before, after in itertools.pairwise(spans):
        assert before.end_t == after.start_t
        assert before.end_distance_m == after.start_distance_m
    assert [s for span in spans for s in span.samples] == list(log.samples)
    distances = timeline.cumulative_distances(log.samples)
    assert distances == sorted(distances)
    total = sum(span.distance_m for span in spans)
    assert total == pytest.approx(distances[-1] if distances else 0.0)
    for span in spans:
        assert 0.0 <= span.timer_s <= span.elapsed_s
        for sample in span.samples:
            assert span.start_t <= sample.t or span.number == 0


def test_a_walkers_pause_lasts_until_the_resume_and_a_turnaround_pause_is_no_pause() -> None:
    events = session_events(Shape(pause=(60.0, 30.0)))
    turnaround = [
        CommandEvent(t=150.0, op="pause", result="success", source="turnaround"),
        CommandEvent(t=155.0, op="start", result="success"),
    ]
    log = SessionLog.from_events(
        "20260302T080000Z-0a0a", sorted([*events, *turnaround], key=lambda e: e.t)
    )
    (pause,) = timeline.pauses(log)
    assert (pause.start_t, pause.end_t, pause.source) == (60.0, 90.0, "walker")
    assert timeline.paused_s(log) == 30.0


def test_a_pause_never_resumed_lasts_to_the_end() -> None:
    log = session_log(Shape(pause=(60.0, 30.0), cut_off_at=80.0))
    (pause,) = timeline.pauses(log)
    assert pause.start_t == 60.0
    assert pause.end_t == timeline.end_t(log)


def test_without_a_reported_distance_the_belt_speed_is_integrated() -> None:
    log = session_log(Shape(segments=(Seg(60, 1.0),), distance=False))
    distances = timeline.cumulative_distances(log.samples)
    walked = sum(s.speed_kmh / 3.6 * s.dt_s for s in log.samples)
    assert distances[-1] == pytest.approx(
        walked - log.samples[-1].speed_kmh / 3.6 * log.samples[-1].dt_s
    )
    assert distances[-1] > 20.0


def test_commanded_speed_steps_follow_the_writes() -> None:
    log = session_log(Shape(segments=(Seg(30, 0.8),), pause=(10.0, 5.0)))
    steps = timeline.commanded_mph(log)
    assert steps[0] == (0.0, 0.0)
    assert max(mph for _, mph in steps) == 0.8
    assert (10.0, 0.0) in steps  # the pause
    assert steps[-1][1] == 0.0  # the stop
    assert [t for t, _ in steps] == sorted(t for t, _ in steps)


def test_heart_rate_sources_most_samples_first() -> None:
    assert session_log(Shape(heart_rate_source="strap")).heart_rate_sources == ("strap",)
    assert session_log(Shape(heart_rate=False)).heart_rate_sources == ()
