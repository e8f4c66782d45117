"""Awkward device grids against the simulator (SPEC.md "Units and limits"): what reached the
machine, and the belt it ran, stay inside the band under either reading of the grid; events
report what was written; ramps keep the average rate limit on grids coarser than one step."""

from __future__ import annotations

import itertools

import pytest

from retrotread.config import SafetyConfig
from retrotread.safety.limits import ramp_step_c
from retrotread.units import KMH_PER_MPH
from simulators.profiles import GridSnap, Profile, SpeedRange, load_profile
from tests.support.rig import rig
from tests.support.virtual_time import advance
from tests.support.wire import speed_params

FLOOR_KMH = 0.5 * KMH_PER_MPH
CEILING_KMH = 3.0 * KMH_PER_MPH


def with_speed(name: str, **speed: object) -> Profile:
    base = load_profile(name)
    return base.model_copy(update={"speed": SpeedRange.model_validate(speed)})


MPH_FROM_MINIMUM = with_speed(
    "mph-coarse", min_kmh=0.45, max_kmh=12.0, increment_kmh=0.1, snap=GridSnap.FROM_MINIMUM
)


@pytest.mark.parametrize("profile", ["mph-coarse", MPH_FROM_MINIMUM])
async def test_an_mph_grid_that_misses_the_floor_never_runs_below_it(
    profile: str | Profile,
) -> None:
    async with rig(profile) as r:
        await advance(8)
        assert r.sim.treadmill.belt_speed_kmh >= FLOOR_KMH - 1e-9
        (first,) = speed_params(r.sim.treadmill.control_log)
        assert first == 55  # 0.55 mph: 0.50 could be read as 0.45
        (event,) = r.commands("set_speed")
        assert event.mph == pytest.approx(0.55)  # the event names what was written
        assert event.kmh == pytest.approx(0.55 * KMH_PER_MPH, abs=1e-4)
        assert r.safety() == []


async def test_a_raised_floor_on_an_mph_device_is_written_in_its_unit() -> None:
    profile = with_speed("speed-as-mph", min_kmh=0.5, max_kmh=12.0, increment_kmh=0.1)
    async with rig(profile, safety=SafetyConfig(min_backward_mph=0.55)) as r:
        await advance(8)
        assert speed_params(r.sim.treadmill.control_log) == [60]  # 0.60 mph, never 0.50
        assert r.sim.treadmill.belt_speed_kmh >= 0.55 * KMH_PER_MPH


async def test_set_speed_events_report_the_mph_parameter_written() -> None:
    async with rig("speed-as-mph") as r:
        await r.supervisor.set_target(1.3, "backward")
        params = speed_params(r.sim.treadmill.control_log)
        events = r.commands("set_speed")
        assert [round(e.mph * 100) for e in events if e.mph is not None] == params
        assert params[-1] == 130


@pytest.mark.parametrize("profile", ["offset-grid", "offset-grid-multiples"])
async def test_an_offset_grid_never_runs_the_belt_above_the_ceiling(profile: str) -> None:
    """0.6-12 km/h in 0.7 steps: 4.8 km/h reads as 4.9 = 3.04 mph on the multiples reading."""
    async with rig(profile, safety=SafetyConfig(max_step_mph=0.5)) as r:
        await r.supervisor.set_target(3.0, "backward")
        await advance(20)
        assert r.sim.treadmill.belt_speed_kmh <= CEILING_KMH
        assert r.sim.treadmill.belt_speed_kmh >= 4.1  # as fast as the grid allows: 4.1 or 4.2
        assert all(p != 480 for p in speed_params(r.sim.treadmill.control_log))
        assert r.safety() == []


async def test_a_coarse_grid_ramps_at_the_average_rate_limit() -> None:
    """A 0.5 km/h grid: each step is one increment (0.31 mph), one step every 3.1 s."""
    profile = with_speed("coarse-grid", min_kmh=0.5, max_kmh=16.0, increment_kmh=0.5)
    async with rig(profile) as r:
        await r.supervisor.set_target(3.0, "backward")
        events = [e for e in r.commands("set_speed") if e.kmh is not None]
        assert len(events) >= 5
        limit = ramp_step_c(0.1)  # per step_interval_s = 1.0
        for a, b in itertools.combinations(events, 2):
            assert b.kmh is not None
            assert a.kmh is not None
            rise = (b.kmh - a.kmh) * 100
            assert rise <= float(limit) * (b.t - a.t) + 1e-6
        assert events[-1].kmh == 4.5  # 3.0 mph = 4.83 km/h, rounded down onto the grid
