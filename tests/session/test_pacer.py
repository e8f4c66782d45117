"""The pacer's heart-rate zone rule (pure), and zone pacing on the simulator."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrotread.events import CommandEvent, PromptEvent, SegmentEvent, TelemetryEvent
from retrotread.session.pacer import (
    AT_FLOOR_TOLERANCE_MPH,
    SETTLED_TOLERANCE_MPH,
    ZONE_CHECK_INTERVAL_S,
    ZONE_RAISE_INTERVAL_S,
    ZoneSteps,
    zone_adjusted_mph,
)
from retrotread.session.plan import Segment
from tests.support.sessions import simulate, turning_plan, write_plan

ZONE = Segment(
    name="zone", duration_s=600, min_mph=1.0, max_mph=2.0, hr_min_bpm=100, hr_max_bpm=120
)


def test_above_the_zone_slows_one_step() -> None:
    assert zone_adjusted_mph(1.5, 130, ZONE, 0.1) == pytest.approx(1.4)


def test_below_the_zone_speeds_up_one_step() -> None:
    assert zone_adjusted_mph(1.5, 90, ZONE, 0.1) == pytest.approx(1.6)


def test_inside_the_zone_holds() -> None:
    assert zone_adjusted_mph(1.5, 110, ZONE, 0.1) == 1.5


def test_without_a_zone_nothing_changes() -> None:
    fixed = Segment(name="fixed", duration_s=60, target_mph=1.0)
    assert zone_adjusted_mph(1.0, 200, fixed, 0.1) == 1.0


def test_below_the_zone_holds_while_a_raise_is_not_allowed() -> None:
    assert zone_adjusted_mph(1.5, 90, ZONE, 0.1, may_raise=False) == 1.5
    assert zone_adjusted_mph(1.5, 130, ZONE, 0.1, may_raise=False) == pytest.approx(1.4)


def _walk(
    steps: ZoneSteps, start_mph: float, bpm: int, seconds: float
) -> list[tuple[float, float]]:
    """Feed `steps` one heart rate every second, as the pacer looks; (time, target) of each move."""
    moves: list[tuple[float, float]] = []
    target = start_mph
    for t in range(1, int(seconds) + 1):
        adjusted = steps.target(float(t), target, bpm)
        if adjusted != target:
            target = adjusted
            moves.append((float(t), target))
    return moves


def test_zone_steps_lower_a_full_step_at_every_check_above_the_zone() -> None:
    moves = _walk(ZoneSteps(ZONE, 0.1, now=0.0), 2.0, 150, 60)
    times = [t for t, _ in moves]
    assert times == [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    assert [round(mph, 2) for _, mph in moves] == [1.9, 1.8, 1.7, 1.6, 1.5, 1.4]


def test_zone_steps_raise_at_most_once_per_raise_interval_below_the_zone() -> None:
    moves = _walk(ZoneSteps(ZONE, 0.1, now=0.0), 1.0, 90, 200)
    times = [t for t, _ in moves]
    assert times[0] >= ZONE_RAISE_INTERVAL_S
    assert all(b - a >= ZONE_RAISE_INTERVAL_S for a, b in itertools.pairwise(times))
    assert len(times) == 200 // ZONE_RAISE_INTERVAL_S
    # Lowering is the fast direction: at least three times as many moves in the same time.
    assert ZONE_RAISE_INTERVAL_S >= 3 * ZONE_CHECK_INTERVAL_S


def test_zone_steps_never_undo_a_lowering_before_the_raise_interval() -> None:
    steps = ZoneSteps(ZONE, 0.1, now=0.0)
    assert steps.target(10.0, 1.5, 150) == pytest.approx(1.4)  # above: down at the first check
    for t in range(11, 50):  # below from here on: no raise within the raise interval
        assert steps.target(float(t), 1.4, 90) == 1.4
    assert steps.target(50.0, 1.4, 90) == pytest.approx(1.5)


def test_zone_steps_without_a_heart_rate_hold() -> None:
    steps = ZoneSteps(ZONE, 0.1, now=0.0)
    assert [steps.target(float(t), 1.5, None) for t in range(1, 100)] == [1.5] * 99


@given(
    current=st.floats(1.0, 2.0),
    bpm=st.integers(40, 220),
    step=st.floats(0.01, 0.5),
)
def test_zone_steps_stay_in_the_segment_range(current: float, bpm: int, step: float) -> None:
    adjusted = zone_adjusted_mph(current, bpm, ZONE, step)
    assert 1.0 <= adjusted <= 2.0
    assert abs(adjusted - current) <= step + 1e-9


def test_a_heart_rate_above_the_zone_lowers_the_target(tmp_path: Path) -> None:
    """Below the 80..120 zone the target climbs; the simulated walker reports 150 bpm from
    t=100: above the zone, the pacer steps the target down within the range, never below its
    floor."""
    plan = """
name = "zone"
[[segments]]
name = "zone"
duration_s = 200
min_mph = 1.0
max_mph = 2.0
hr_min_bpm = 80
hr_max_bpm = 120
"""
    run = simulate(
        tmp_path, plan_file=write_plan(tmp_path, plan), sim_faults=("hr@0:60", "hr@100:150")
    )
    assert run.exit_code == 0
    speeds = [e for e in run.events if isinstance(e, CommandEvent) and e.op == "set_speed"]
    reached = max(e.mph or 0 for e in speeds if e.t < 20)
    assert reached == pytest.approx(1.0, abs=0.01)  # a range starts at its low end
    assert max(e.mph or 0 for e in speeds if e.t < 100) >= 1.2 - 0.01  # climbed below the zone
    later = [e.mph or 0 for e in speeds if e.t > 100]
    assert min(later) >= 1.0 - 0.01  # never below the range
    assert later[-1] == pytest.approx(1.0, abs=0.01)  # stepped back down to its low end
    hr = [e.heart_rate_bpm for e in run.events if isinstance(e, TelemetryEvent) and e.t > 110]
    assert hr
    assert all(bpm == 150 for bpm in hr)


def test_a_heart_rate_below_the_zone_raises_the_target_slowly(tmp_path: Path) -> None:
    plan = """
name = "zone"
[[segments]]
name = "zone"
duration_s = 200
min_mph = 1.0
max_mph = 2.0
hr_min_bpm = 140
hr_max_bpm = 160
"""
    run = simulate(tmp_path, plan_file=write_plan(tmp_path, plan), sim_faults=("hr@0:100",))
    assert run.exit_code == 0
    speeds = [
        e
        for e in run.events
        if isinstance(e, CommandEvent) and e.op == "set_speed" and e.mph is not None
    ]
    top = max(e.mph for e in speeds if e.mph is not None)
    assert 1.2 <= top <= 2.0 + 1e-6  # it climbed above the start ...
    # A step on the device grid may be written as a step and a small settle a second later:
    # only moves of at least half a step count.
    increases = [b for a, b in itertools.pairwise(speeds) if (b.mph or 0) > (a.mph or 0) + 0.05]
    after_start = [e for e in increases if e.t > 30]
    gaps = [b.t - a.t for a, b in itertools.pairwise(after_start)]
    assert gaps
    assert min(gaps) >= ZONE_RAISE_INTERVAL_S - 1e-6  # ... one small step at a time, no faster


def test_zone_pacing_lowers_fast_and_raises_slowly_on_the_simulator(tmp_path: Path) -> None:
    """Below the 140..160 zone for 150 s the target climbs one step per raise interval; above it
    from t=150 each zone check takes a step off, several times faster than it climbed."""
    plan = """
name = "zone"
[[segments]]
name = "zone"
duration_s = 230
min_mph = 1.0
max_mph = 2.0
hr_min_bpm = 140
hr_max_bpm = 160
"""
    run = simulate(
        tmp_path, plan_file=write_plan(tmp_path, plan), sim_faults=("hr@0:100", "hr@150:180")
    )
    assert run.exit_code == 0
    # After the first ramp (5 s from the Start, which follows the walker's countdown).
    started = next(e.t for e in run.events if isinstance(e, CommandEvent) and e.op == "start")
    speeds = [
        e
        for e in run.events
        if isinstance(e, CommandEvent)
        and e.op == "set_speed"
        and e.mph is not None
        and e.t > started + 5
    ]
    # Moves of at least half a step: a grid step may be followed by a small settle.
    pairs = list(itertools.pairwise(speeds))
    ups = [b.t for a, b in pairs if (b.mph or 0) > (a.mph or 0) + 0.05]
    downs = [b.t for a, b in pairs if (b.mph or 0) < (a.mph or 0) - 0.05 and b.t < 225]
    assert len(ups) >= 2
    assert all(t < 155 for t in ups)
    assert min(b - a for a, b in itertools.pairwise(ups)) >= ZONE_RAISE_INTERVAL_S - 1e-6
    assert len(downs) >= 3
    assert max(b - a for a, b in itertools.pairwise(downs)) <= ZONE_CHECK_INTERVAL_S + 2.0
    assert downs[0] - 150 <= ZONE_CHECK_INTERVAL_S + 2.0  # the first step down comes promptly


def test_a_ramp_past_its_deadline_shortens_the_segment_not_the_session(tmp_path: Path) -> None:
    """Slowing 1.0 -> 0.5 mph (5 s) and the 5 s hold leave the 10 s forward segment no time to
    ramp 0.5 -> 2.0 mph (15 s): the ramp ends at the segment's deadline, 40 s into the program,
    instead of running on to 2.0 mph and stretching the session."""
    plan = """
name = "short-forward"
[[segments]]
name = "back"
duration_s = 30
target_mph = 1.0
[[segments]]
name = "fwd"
direction = "forward"
duration_s = 10
target_mph = 2.0
"""
    run = simulate(tmp_path, plan_file=write_plan(tmp_path, plan))
    assert run.exit_code == 0
    starts = [e.t for e in run.events if isinstance(e, SegmentEvent)]
    program_end = starts[0] + 40.0
    speeds = [e for e in run.events if isinstance(e, CommandEvent) and e.op == "set_speed"]
    assert speeds
    assert max(e.t for e in speeds) <= program_end + 1e-6
    assert max(e.mph or 0.0 for e in speeds if e.t > starts[1]) < 2.0 - 0.01  # cut short
    assert run.stopped.t <= program_end + 1.0


OFFSET_PLAN = turning_plan(forward=(30, 1.0), backward=(30, 0.7))


def test_a_belt_that_settles_a_little_above_the_floor_still_turns(tmp_path: Path) -> None:
    """From t=36 the belt runs 30 % faster than commanded (a readout offset within the overspeed
    tolerance): at the floor it reads about 0.65 mph, never within 0.1 mph of 0.5. Two packets
    in a row show it no longer slowing, and the walker is told to turn then, not never."""
    run = simulate(
        tmp_path, plan_file=write_plan(tmp_path, OFFSET_PLAN), sim_faults=("overspeed@36:1.3",)
    )
    assert run.exit_code == 0
    (turn,) = [e for e in run.of(PromptEvent) if e.phase == "turn"]
    seen = [e.speed_mph for e in run.of(TelemetryEvent) if e.t <= turn.t]
    assert AT_FLOOR_TOLERANCE_MPH + 0.5 < seen[-1] <= 0.5 + SETTLED_TOLERANCE_MPH
    assert abs(seen[-1] - seen[-2]) <= 0.02
    assert [e.direction for e in run.of(SegmentEvent)] == ["forward", "backward"]


def test_a_turn_around_at_a_target_equal_to_the_floor_has_no_ramp(tmp_path: Path) -> None:
    plan = turning_plan(forward=(30, 1.0), backward=(30, 0.5))
    run = simulate(tmp_path, plan_file=write_plan(tmp_path, plan))
    assert run.exit_code == 0
    phases = [e.phase for e in run.of(PromptEvent) if e.kind == "turnaround"]
    assert phases == ["slowing", "turn", "resuming", "done"]
    done = next(e for e in run.of(PromptEvent) if e.phase == "done")
    assert done.ramping_s == 0.0
    assert done.message == ""
