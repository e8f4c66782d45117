"""Properties of the band, the grid rounding and the ramp (SPEC.md "Units and limits")."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from retrotread.errors import InputError
from retrotread.safety.limits import (
    Band,
    SpeedGrid,
    backward_band,
    centi_to_mph,
    command_speed,
    forward_band,
    mph_to_centi,
    next_ramp_value,
    ramp_step_c,
)
from retrotread.safety.supervisor import device_grid
from retrotread.treadmill import DeviceInfo

HARD_CEILING_C = mph_to_centi(3.0)  # 482.8032
HARD_FLOOR_C = mph_to_centi(0.5)


@st.composite
def grids(draw: st.DrawFn) -> SpeedGrid:
    inc = draw(st.integers(1, 100))  # 0.01 .. 1.0 km/h
    lo = draw(st.integers(0, 150))
    steps = draw(st.integers(1, 2500 // inc + 1))
    return SpeedGrid(lo, lo + steps * inc, inc)


caps = st.floats(0.5, 3.0)
speeds = st.floats(-5.0, 20.0, allow_nan=False)


def _on_grid(grid: SpeedGrid, centi: int) -> bool:
    return (centi - grid.min_c) % grid.inc_c == 0 and grid.min_c <= centi <= grid.max_c


def test_spec_example_coarse_grid_rounds_the_ceiling_down() -> None:
    grid = SpeedGrid.from_range_kmh(0.8, 16.0, 0.1)
    band = backward_band(grid)
    assert band.ceiling_c == 480  # 3.0 mph = 4.828 km/h -> 4.8, never 4.9
    assert band.floor_c == 90  # 0.5 mph = 0.805 km/h -> 0.9, never 0.8
    assert command_speed(grid, band, 3.0) == 480
    assert command_speed(grid, band, 0.1) == 90


def test_fine_grid_band() -> None:
    band = backward_band(SpeedGrid.from_range_kmh(0.5, 20.0, 0.01))
    assert band == Band(floor_c=81, ceiling_c=482)


@given(grids(), caps, st.floats(0.5, 3.0), speeds)
def test_commanded_speed_is_on_the_grid_inside_the_band(
    grid: SpeedGrid, cap: float, floor: float, mph: float
) -> None:
    assume(floor <= cap)
    try:
        band = backward_band(grid, cap, floor)
    except InputError:
        # Only when the grid truly has no speed within [floor, cap].
        lo, hi = mph_to_centi(floor), mph_to_centi(cap)
        top = grid.min_c + (grid.max_c - grid.min_c) // grid.inc_c * grid.inc_c
        assert not any(lo <= c <= hi for c in range(grid.min_c, top + 1, grid.inc_c))
        return
    centi = command_speed(grid, band, mph)
    assert _on_grid(grid, centi)
    assert band.floor_c <= centi <= band.ceiling_c
    assert Fraction(centi) <= mph_to_centi(cap) <= HARD_CEILING_C  # never above the cap
    assert Fraction(centi) >= mph_to_centi(floor) >= HARD_FLOOR_C  # never below the floor
    assert centi_to_mph(centi) <= cap + 1e-12


@given(grids(), caps, speeds, speeds)
def test_commanded_speed_is_monotone(grid: SpeedGrid, cap: float, a: float, b: float) -> None:
    try:
        band = backward_band(grid, cap)
    except InputError:
        return
    lo, hi = sorted((a, b))
    assert command_speed(grid, band, lo) <= command_speed(grid, band, hi)


@given(grids(), caps, st.floats(0.5, 3.0))
def test_in_band_requests_never_get_more_than_asked(
    grid: SpeedGrid, cap: float, mph: float
) -> None:
    try:
        band = backward_band(grid, cap)
    except InputError:
        return
    centi = command_speed(grid, band, mph)
    if centi > band.floor_c:
        assert Fraction(centi) <= mph_to_centi(mph)


@pytest.mark.parametrize("cap", [3.01, 3.5, 0.49, 0.0])
def test_band_cannot_be_widened(cap: float) -> None:
    with pytest.raises(InputError):
        backward_band(SpeedGrid.from_range_kmh(0.5, 20.0, 0.01), cap)


def test_forward_band_has_its_own_ceiling() -> None:
    band = forward_band(SpeedGrid.from_range_kmh(0.5, 20.0, 0.1), 4.0)
    assert band.ceiling_c == 640  # 4.0 mph = 6.437 km/h -> 6.4


def test_a_band_below_the_device_minimum_is_refused() -> None:
    with pytest.raises(InputError, match="holds no speed"):
        backward_band(SpeedGrid.from_range_kmh(5.0, 20.0, 0.1))


@given(grids(), st.floats(0.01, 0.5), st.lists(st.integers(0, 2500), min_size=1, max_size=20))
def test_ramp_steps_never_exceed_the_step_and_stay_on_the_grid(
    grid: SpeedGrid, max_step_mph: float, targets: list[int]
) -> None:
    step = ramp_step_c(grid, max_step_mph)
    assert step % grid.inc_c == 0
    # The step is within max_step, unless the grid's own increment is coarser than that.
    assert Fraction(step) <= max(mph_to_centi(max_step_mph), Fraction(grid.inc_c))
    current = grid.min_c
    for raw in targets:
        target = grid.floor(raw)
        for _ in range(10_000):
            if current == target:
                break
            nxt = next_ramp_value(current, target, step)
            assert 0 < abs(nxt - current) <= step
            assert _on_grid(grid, nxt)
            current = nxt
        assert current == target


# -- exact bands on awkward grids (review R1) -----------------------------------------------------


@pytest.mark.parametrize(
    ("grid_kmh", "cap_mph", "floor_c", "ceiling_c"),
    [
        ((0.5, 20.0, 0.01), 3.0, 81, 482),  # 3.0 mph = 4.828032 km/h
        ((0.5, 20.0, 0.1), 3.0, 90, 480),
        ((0.5, 20.0, 0.5), 3.0, 100, 450),
        ((0.5, 20.0, 0.25), 3.0, 100, 475),
        ((0.5, 20.0, 0.3), 3.0, 110, 470),  # 0.8 < 0.805 (0.5 mph): the floor is 1.1
        ((0.0, 20.0, 0.3), 3.0, 90, 480),
        ((0.85, 20.0, 0.1), 3.0, 85, 475),  # a grid off the 0.1 multiples
        ((1.2, 20.0, 0.1), 3.0, 120, 480),  # the device minimum is above the band floor
        ((0.5, 4.0, 0.1), 3.0, 90, 400),  # the device maximum is below the cap
        ((0.5, 20.0, 0.01), 2.5, 81, 402),  # 2.5 mph = 4.02336 km/h
        ((0.5, 20.0, 0.3), 2.5, 110, 380),
    ],
)
def test_band_edges_on_awkward_grids(
    grid_kmh: tuple[float, float, float], cap_mph: float, floor_c: int, ceiling_c: int
) -> None:
    grid = SpeedGrid.from_range_kmh(*grid_kmh)
    band = backward_band(grid, cap_mph)
    assert band == Band(floor_c, ceiling_c)
    assert command_speed(grid, band, 3.0) == ceiling_c
    assert command_speed(grid, band, 99.0) == ceiling_c
    assert command_speed(grid, band, 0.0) == floor_c


def test_an_mph_device_grid_is_its_range_times_1_609344() -> None:
    info = DeviceInfo("C0:00:00:00:00:01", "x", [], [], (0.5, 12.0, 0.1), None)
    assert device_grid(info, min_speed_1kmh=False, speed_param_mph=True) == SpeedGrid(81, 1931, 10)
    assert device_grid(info, min_speed_1kmh=False) == SpeedGrid(50, 1200, 10)
