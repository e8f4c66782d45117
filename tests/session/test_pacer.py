"""The pacer's heart-rate zone rule (pure), and zone pacing on the simulator."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrotread.events import CommandEvent, SegmentEvent, TelemetryEvent
from retrotread.session.pacer import zone_adjusted_mph
from retrotread.session.plan import Segment
from tests.support.sessions import simulate, write_plan

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
    """The simulated walker reports 150 bpm from t=30: above the 80..120 zone, the pacer steps the
    target down within the range, never below its floor."""
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
    run = simulate(tmp_path, plan_file=write_plan(tmp_path, plan), sim_faults=("hr@30:150",))
    assert run.exit_code == 0
    speeds = [e for e in run.events if isinstance(e, CommandEvent) and e.op == "set_speed"]
    reached = max(e.mph or 0 for e in speeds if e.t < 20)
    assert reached == pytest.approx(1.0, abs=0.01)  # a range starts at its low end
    later = [e.mph or 0 for e in speeds if e.t > 30]
    assert min(later) >= 1.0 - 0.01  # never below the range
    assert later[-1] == pytest.approx(1.0, abs=0.01)  # stepped back down to its low end
    hr = [e.heart_rate_bpm for e in run.events if isinstance(e, TelemetryEvent) and e.t > 40]
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
    increases = [b for a, b in itertools.pairwise(speeds) if (b.mph or 0) > (a.mph or 0)]
    after_start = [e for e in increases if e.t > 30]
    gaps = [b.t - a.t for a, b in itertools.pairwise(after_start)]
    assert gaps
    assert min(gaps) >= 20.0 - 1e-6  # ... one small step per zone check, no faster


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
