"""Properties of the band, the device grid and the ramp (SPEC.md "Units and limits").

The limits are class constants and every check sweeps requests across and beyond the band, on
grids in km/h and in mph, with minimums on and off the increment's multiples: whatever the
device makes of a written parameter (nearest multiple of the increment, or nearest
minimum + k * increment), the belt must stay inside the band.
"""

from __future__ import annotations

from fractions import Fraction
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrotread.errors import InputError
from retrotread.safety.limits import (
    SpeedGrid,
    backward_band,
    device_grid,
    forward_band,
    mph_to_centi,
    ramp_step_c,
    step_wait_s,
)
from retrotread.treadmill import DeviceInfo
from retrotread.units import KMH_PER_MPH_EXACT


class Limits:
    HARD_FLOOR_C = mph_to_centi(0.5)  # 80.4672
    HARD_CEILING_C = mph_to_centi(3.0)  # 482.8032
    # Requests across and beyond the band.
    REQUESTS_MPH: ClassVar[list[float]] = [x / 100 for x in range(-100, 600, 7)]


def device_snaps(grid: SpeedGrid, param: int) -> set[Fraction]:
    """What a device may run for `param`, computed the slow way: every grid point at the least
    distance, on both readings of the increment, clamped to the range, as a belt speed."""
    found: set[Fraction] = set()
    for origin in (0, grid.min_u):
        points = [
            origin + k * grid.inc_u
            for k in range(-2, (grid.max_u + 2 * grid.inc_u) // grid.inc_u + 3)
        ]
        best = min(abs(p - param) for p in points)
        for p in points:
            if abs(p - param) == best:
                clamped = min(max(p, grid.min_u), grid.max_u)
                found.add(max(clamped * grid.kmh_per_unit, Fraction(grid.min_belt_c)))
    return found


@st.composite
def grids(draw: st.DrawFn) -> SpeedGrid:
    inc = draw(st.sampled_from([1, 5, 7, 10, 25, 30, 50, 70, 100]))
    lo = draw(st.integers(0, 150))
    top = lo + draw(st.integers(1, 2500 // inc + 1)) * inc + draw(st.integers(0, inc - 1))
    mph = draw(st.booleans())
    min_belt = draw(st.sampled_from([0, 100]))
    return SpeedGrid(lo, top, inc, KMH_PER_MPH_EXACT if mph else Fraction(1), min_belt)


caps = st.floats(0.6, 3.0)
floors = st.floats(0.5, 2.9)
requests = st.floats(-5.0, 20.0, allow_nan=False)


def test_spec_example_a_coarse_grid_rounds_the_ceiling_down_and_the_floor_up() -> None:
    grid = SpeedGrid.from_range(0.8, 16.0, 0.1)
    band = backward_band(grid)
    assert band.ceiling.param == 480  # 3.0 mph = 4.828 km/h -> 4.8, never 4.9
    assert band.floor.param == 90  # 0.5 mph = 0.805 km/h -> 0.9, never 0.8
    assert band.for_request(3.0).param == 480
    assert band.for_request(0.1).param == 90


def test_a_fine_grid_band() -> None:
    band = backward_band(SpeedGrid.from_range(0.5, 20.0, 0.01))
    assert (band.floor.param, band.ceiling.param) == (81, 482)


def test_an_offset_grid_is_never_written_a_value_the_device_may_snap_above_the_ceiling() -> None:
    """0.6-12 km/h in 0.7 steps: 4.8 km/h is minimum + 6 increments, but the nearest multiple of
    0.7 is 4.9 km/h = 3.04 mph. Only values under 3.0 mph on both readings are written."""
    grid = SpeedGrid.from_range(0.6, 12.0, 0.7)
    band = backward_band(grid)
    assert grid.readings(480) == (480, 490)
    assert band.ceiling.high_c <= Limits.HARD_CEILING_C
    assert band.ceiling.param == 420  # 4.2 km/h, read as 4.1 or 4.2: 2.61 mph at most
    assert band.floor.low_c >= Limits.HARD_FLOOR_C


def test_an_mph_device_whose_grid_misses_the_floor_gets_a_value_at_or_above_it() -> None:
    """0.45-12 mph in 0.1 steps: 0.50 is a tie on the offset reading (0.45 or 0.55), so the floor
    is 0.55, read as 0.50, 0.55 or 0.60 mph: never the 0.45 mph the device could make of 0.50."""
    grid = device_grid(
        DeviceInfo("C0:00:00:00:00:01", "x", [], [], (0.45, 12.0, 0.1), None),
        min_speed_1kmh=False,
        speed_param_mph=True,
    )
    band = backward_band(grid)
    assert band.floor.param == 55
    assert band.floor.low_c >= Limits.HARD_FLOOR_C
    assert band.floor.mph == pytest.approx(0.55)
    assert band.ceiling.param == 295  # 3.00 would be a tie on the offset reading: 2.95 or 3.05
    assert band.ceiling.high_c <= Limits.HARD_CEILING_C


def test_a_raised_floor_on_an_mph_device_is_rounded_up_in_the_devices_own_unit() -> None:
    grid = SpeedGrid.from_range(0.5, 12.0, 0.1, unit_is_mph=True)
    band = backward_band(grid, 3.0, 0.55)
    assert band.floor.param == 60  # 0.60 mph, not 0.50
    assert band.floor.mph == pytest.approx(0.6)


def test_the_min_speed_quirk_makes_the_floor_one_kmh() -> None:
    grid = SpeedGrid.from_range(0.5, 20.0, 0.01, min_belt_kmh=1.0)
    band = backward_band(grid)
    assert band.floor.param == 100
    assert band.floor.low_c == band.floor.high_c == 100


@given(grids(), st.integers(0, 3000))
def test_readings_are_every_nearest_grid_point_on_both_readings(grid: SpeedGrid, raw: int) -> None:
    param = min(max(raw, grid.min_u), grid.max_u)
    setpoint = grid.setpoint(param)
    snaps = device_snaps(grid, param)
    assert setpoint.low_c == min(snaps)
    assert setpoint.high_c == max(snaps)


@given(grids(), caps, floors)
def test_every_request_gets_a_setpoint_inside_the_band_under_both_readings(
    grid: SpeedGrid, cap: float, floor: float
) -> None:
    if floor > cap:
        floor, cap = cap, floor
    try:
        band = backward_band(grid, cap, floor)
    except InputError:
        # Only when no parameter at all stays inside [floor, cap] on both readings.
        for param in range(grid.min_u, grid.max_u + 1):
            snaps = device_snaps(grid, param)
            assert not (min(snaps) >= mph_to_centi(floor) and max(snaps) <= mph_to_centi(cap))
        return
    previous = None
    for mph in Limits.REQUESTS_MPH:
        setpoint = band.for_request(mph)
        snaps = device_snaps(grid, setpoint.param)
        assert min(snaps) >= mph_to_centi(floor) >= Limits.HARD_FLOOR_C
        assert max(snaps) <= mph_to_centi(cap) <= Limits.HARD_CEILING_C
        assert grid.min_u <= setpoint.param <= grid.max_u
        if setpoint.param != band.floor.param:
            assert setpoint.high_c <= mph_to_centi(max(mph, 0.0))  # never more than asked
        if previous is not None:
            assert previous.high_c <= setpoint.high_c  # monotone in the request
        previous = setpoint


@given(grids(), caps, requests)
def test_the_written_value_is_reported_in_the_devices_unit(
    grid: SpeedGrid, cap: float, mph: float
) -> None:
    try:
        band = backward_band(grid, cap)
    except InputError:
        return
    setpoint = band.for_request(mph)
    assert setpoint.written_c == setpoint.param * grid.kmh_per_unit
    if grid.kmh_per_unit != 1:
        assert setpoint.mph == pytest.approx(setpoint.param / 100)
    else:
        assert setpoint.kmh == pytest.approx(setpoint.param / 100)


@pytest.mark.parametrize("cap", [3.01, 3.5, 0.49, 0.0])
def test_the_band_cannot_be_widened(cap: float) -> None:
    with pytest.raises(InputError):
        backward_band(SpeedGrid.from_range(0.5, 20.0, 0.01), cap)


def test_the_forward_band_has_its_own_ceiling() -> None:
    band = forward_band(SpeedGrid.from_range(0.5, 20.0, 0.1), 4.0)
    assert band.ceiling.param == 640  # 4.0 mph = 6.437 km/h -> 6.4


def test_a_band_below_the_device_minimum_is_refused_naming_grid_and_band() -> None:
    with pytest.raises(InputError, match=r"0.5-3 mph holds no speed .*5-20 km/h in 0.1 steps"):
        backward_band(SpeedGrid.from_range(5.0, 20.0, 0.1))


@given(grids(), st.sampled_from([0.05, 0.1, 0.25, 0.5]), st.lists(requests, min_size=1, max_size=8))
def test_ramp_steps_are_one_setpoint_or_at_most_max_step_and_reach_the_target(
    grid: SpeedGrid, max_step_mph: float, targets: list[float]
) -> None:
    try:
        band = backward_band(grid)
    except InputError:
        return
    max_step_c = ramp_step_c(max_step_mph)
    highs = [s.high_c for s in band.setpoints]
    current = band.floor
    for mph in targets:
        target = band.for_request(mph)
        for _ in range(10_000):
            if current.param == target.param:
                break
            nxt = band.step_toward(current, target, max_step_c)
            change = abs(nxt.high_c - current.high_c)
            between = [
                h
                for h in highs
                if min(current.high_c, nxt.high_c) < h < max(current.high_c, nxt.high_c)
            ]
            assert change <= max_step_c or not between  # a bigger move only to the neighbour
            assert band.contains(nxt)
            current = nxt
        assert current.param == target.param


def test_a_coarse_grid_ramps_at_the_average_rate_limit() -> None:
    """0.5 km/h = 0.31 mph: one increment per step, one step every 3.1 s (SPEC example)."""
    band = backward_band(SpeedGrid.from_range(0.5, 20.0, 0.5))
    max_step_c = ramp_step_c(0.1)
    current = band.floor
    nxt = band.step_toward(current, band.ceiling, max_step_c)
    assert nxt.param - current.param == 50
    assert step_wait_s(nxt.high_c - current.high_c, max_step_c, 1.0) == pytest.approx(
        3.107, abs=1e-3
    )
    assert step_wait_s(mph_to_centi(0.05), max_step_c, 1.0) == 1.0


@given(grids(), st.sampled_from([0.05, 0.1, 0.25]), st.sampled_from([0.5, 1.0, 2.0]))
def test_a_whole_ramp_never_beats_the_average_rate(
    grid: SpeedGrid, max_step_mph: float, interval: float
) -> None:
    try:
        band = backward_band(grid)
    except InputError:
        return
    max_step_c = ramp_step_c(max_step_mph)
    current, t = band.floor, 0.0
    while current.param != band.ceiling.param:
        nxt = band.step_toward(current, band.ceiling, max_step_c)
        t += step_wait_s(nxt.high_c - current.high_c, max_step_c, interval)
        current = nxt
        rise = current.high_c - band.floor.high_c
        assert rise <= max_step_c * Fraction(t / interval) + Fraction(1, 10**6)


def test_an_mph_device_grid_is_its_range_in_mph() -> None:
    info = DeviceInfo("C0:00:00:00:00:01", "x", [], [], (0.5, 12.0, 0.1), None)
    mph_grid = device_grid(info, min_speed_1kmh=False, speed_param_mph=True)
    assert (mph_grid.min_u, mph_grid.max_u, mph_grid.inc_u) == (50, 1200, 10)
    assert mph_grid.belt_c(100) == Fraction("160.9344")
    assert device_grid(info, min_speed_1kmh=False) == SpeedGrid(50, 1200, 10)
