"""The speed band and the device grid as pure integer arithmetic (SPEC.md "Units and limits").

Every speed here is an int in hundredths of km/h ("centi"), the unit FTMS writes, so that
rounding is exact: the mph -> km/h conversion is done once with `Fraction` and then floored or
ceiled, never left to float error (3.0 mph is 4.828032 km/h; on a 0.1 km/h grid it must be 4.8).
The grid rounding then works on the Fraction's numerator and denominator as integers, and the
conversions are cached: a session asks for the same few speeds hundreds of times.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction

from retrotread.errors import InputError
from retrotread.units import KMH_PER_MPH_EXACT

HARD_FLOOR_MPH = 0.5  # SPEC.md: the backward-walking band is 0.5 to 3.0 mph
HARD_CEILING_MPH = 3.0
# Forward segments are walking between backward bouts (the guide's intervals); 4 mph is a brisk
# walk. Anything faster would be a run right before a turn-around, which the guide never suggests.
DEFAULT_FORWARD_MAX_MPH = 4.0
FINEST_INCREMENT_C = 1  # 0.01 km/h, FTMS resolution, used when a device reports no increment

_KMH_PER_MPH = KMH_PER_MPH_EXACT
# centi / 100 / 1.609344 = centi * _MPH_NUMERATOR / _MPH_DENOMINATOR, exactly.
_MPH_NUMERATOR = 10_000
_MPH_DENOMINATOR = 1_609_344

# Equal floats give equal Fractions, so a cache keyed on the value is exact.
_CONVERSION_CACHE_SIZE = 1024


@functools.lru_cache(maxsize=_CONVERSION_CACHE_SIZE)
def mph_to_centi(mph: float) -> Fraction:
    """Exact hundredths of km/h for the float `mph` (no rounding yet)."""
    return Fraction(mph) * _KMH_PER_MPH * 100


def centi_to_mph(centi: int) -> float:
    if type(centi) is int:
        # Integer true division rounds the exact quotient once: the float of the Fraction.
        return centi * _MPH_NUMERATOR / _MPH_DENOMINATOR
    return float(Fraction(centi, 100) / _KMH_PER_MPH)


def kmh_to_centi(kmh: float) -> int:
    """A device-reported km/h value (already on the 0.01 grid) to centi, rounded to nearest."""
    return round(kmh * 100)


@dataclass(frozen=True)
class SpeedGrid:
    """The speeds a device accepts: min_c + k * inc_c, up to max_c."""

    min_c: int
    max_c: int
    inc_c: int

    def __post_init__(self) -> None:
        if self.inc_c < 1 or self.min_c < 0 or self.max_c < self.min_c:
            raise ValueError(f"invalid speed grid {self}")

    @classmethod
    def from_range_kmh(cls, minimum: float, maximum: float, increment: float | None) -> SpeedGrid:
        inc = kmh_to_centi(increment) if increment else FINEST_INCREMENT_C
        return cls(kmh_to_centi(minimum), kmh_to_centi(maximum), max(inc, FINEST_INCREMENT_C))

    def floor(self, value: Fraction | int) -> int:
        """The highest grid speed <= value (the device minimum when value is below it)."""
        above_min, per_step = self._steps_ratio(value)
        steps = above_min // per_step  # floor((value - min_c) / inc_c), exactly
        top = self.min_c + (self.max_c - self.min_c) // self.inc_c * self.inc_c
        return min(max(self.min_c + steps * self.inc_c, self.min_c), top)

    def ceil(self, value: Fraction | int) -> int:
        """The lowest grid speed >= value (the device minimum when value is below it)."""
        above_min, per_step = self._steps_ratio(value)
        steps = -(-above_min // per_step)  # ceil((value - min_c) / inc_c), exactly
        return max(self.min_c + steps * self.inc_c, self.min_c)

    def _steps_ratio(self, value: Fraction | int) -> tuple[int, int]:
        """(value - min_c) / inc_c as an integer numerator and a positive denominator."""
        if not isinstance(value, int | Fraction):
            value = Fraction(value)  # a float: exactly, as before
        numerator, denominator = value.numerator, value.denominator
        return numerator - self.min_c * denominator, denominator * self.inc_c

    @property
    def top_c(self) -> int:
        """The highest speed on the grid (max_c itself when it lies on the grid)."""
        return self.floor(self.max_c)


@dataclass(frozen=True)
class Band:
    """The commanded speed always lies in [floor_c, ceiling_c]; both are grid speeds."""

    floor_c: int
    ceiling_c: int

    def contains(self, centi: int) -> bool:
        return self.floor_c <= centi <= self.ceiling_c


def _band(grid: SpeedGrid, floor_mph: float, ceiling_mph: float, what: str) -> Band:
    ceiling_c = grid.floor(mph_to_centi(ceiling_mph))
    floor_c = grid.ceil(mph_to_centi(floor_mph))
    if mph_to_centi(ceiling_mph) < grid.min_c or floor_c > ceiling_c or floor_c > grid.top_c:
        raise InputError(
            f"{what} band {floor_mph:g}-{ceiling_mph:g} mph holds no speed of this device's grid "
            f"({grid.min_c / 100:g}-{grid.max_c / 100:g} km/h in {grid.inc_c / 100:g} steps)"
        )
    return Band(floor_c, ceiling_c)


def backward_band(
    grid: SpeedGrid, cap_mph: float = HARD_CEILING_MPH, floor_mph: float = HARD_FLOOR_MPH
) -> Band:
    """The backward band: a user may lower the ceiling or raise the floor, never widen it."""
    if not HARD_FLOOR_MPH <= floor_mph <= cap_mph <= HARD_CEILING_MPH:
        raise InputError(
            f"backward speeds must satisfy {HARD_FLOOR_MPH} <= floor ({floor_mph:g}) <= "
            f"max speed ({cap_mph:g}) <= {HARD_CEILING_MPH} mph"
        )
    return _band(grid, floor_mph, cap_mph, "backward")


def forward_band(
    grid: SpeedGrid,
    forward_max_mph: float = DEFAULT_FORWARD_MAX_MPH,
    floor_mph: float = HARD_FLOOR_MPH,
) -> Band:
    if not 0 < floor_mph <= forward_max_mph:
        raise InputError(f"forward_max_mph ({forward_max_mph:g}) must be >= {floor_mph:g} mph")
    return _band(grid, floor_mph, forward_max_mph, "forward")


def command_speed(grid: SpeedGrid, band: Band, mph: float) -> int:
    """The speed to write for a request of `mph`: rounded down to the grid, kept in the band.

    Rounding down means the walker never gets more than asked; below the floor the floor (itself
    rounded up onto the grid) is used, so the result is always inside the band and monotone in
    `mph`.
    """
    if not math.isfinite(mph):
        raise ValueError(f"speed must be a finite number, not {mph}")
    wanted = grid.floor(mph_to_centi(max(mph, 0.0)))
    return min(max(wanted, band.floor_c), band.ceiling_c)


def ramp_step_c(grid: SpeedGrid, max_step_mph: float) -> int:
    """The largest change per ramp step: a whole number of grid increments <= max_step_mph.

    When the device's increment is coarser than max_step_mph, no smaller change exists than one
    increment, so that is the step (the finest the device can go).
    """
    if max_step_mph <= 0:
        raise InputError(f"safety.max_step_mph must be > 0, not {max_step_mph:g}")
    increments = math.floor(mph_to_centi(max_step_mph) / grid.inc_c)
    return max(increments, 1) * grid.inc_c


def next_ramp_value(current_c: int, target_c: int, step_c: int) -> int:
    """One ramp step from current toward target, moving at most step_c."""
    if target_c > current_c:
        return min(target_c, current_c + step_c)
    return max(target_c, current_c - step_c)
