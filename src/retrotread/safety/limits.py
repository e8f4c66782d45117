"""The speed band and the device grid as exact arithmetic (SPEC.md "Units and limits").

Two units meet here. A *belt speed* is a `Fraction` of hundredths of km/h ("centi"), the unit
the band, the telemetry and the overspeed check speak. A *parameter* is the int a device is sent
in Set Target Speed: hundredths of the device's own unit, which is km/h, or mph on a device with
the speed_param_mph quirk. The device grid lives in the parameter's unit, so that its rounding is
the device's own, and there is no second rounding anywhere else (the control point writes the
parameter as given).

FTMS does not say how a device snaps a written value onto its increment: to the nearest multiple
of the increment, or to the nearest `minimum + k * increment`. A `Setpoint` is a parameter
together with every belt speed the device may make of it under either reading (ties either
way, and clamped to the device's range); a band keeps only the setpoints whose every reading
lies inside it. So whatever the device does, the belt runs inside the band.
"""

from __future__ import annotations

import bisect
import functools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

from retrotread.errors import InputError
from retrotread.units import (
    DEFAULT_FORWARD_MAX_MPH,
    HARD_CEILING_MPH,
    HARD_FLOOR_MPH,
    KMH_PER_MPH_EXACT,
)

if TYPE_CHECKING:
    from retrotread.config import SafetyConfig
    from retrotread.treadmill import DeviceInfo

FINEST_INCREMENT = 1  # 0.01 in the device's unit, FTMS resolution, when a device reports none
MIN_SPEED_QUIRK_C = 100  # min_speed_1kmh: the belt never runs below 1.0 km/h

_KMH_PER_MPH = KMH_PER_MPH_EXACT
# mph per centi-km/h as integers: centi * _MPH_NUMERATOR / _MPH_DENOMINATOR, exactly.
_MPH_PER_CENTI = 1 / (_KMH_PER_MPH * 100)
_MPH_NUMERATOR = _MPH_PER_CENTI.numerator
_MPH_DENOMINATOR = _MPH_PER_CENTI.denominator

# Equal floats give equal Fractions, so a cache keyed on the value is exact.
_CONVERSION_CACHE_SIZE = 1024


@functools.lru_cache(maxsize=_CONVERSION_CACHE_SIZE)
def mph_to_centi(mph: float) -> Fraction:
    """Exact hundredths of km/h for the float `mph` (no rounding yet)."""
    return Fraction(mph) * _KMH_PER_MPH * 100


def centi_to_mph(centi: int | Fraction) -> float:
    if type(centi) is int:
        # Integer true division rounds the exact quotient once: the float of the Fraction.
        return centi * _MPH_NUMERATOR / _MPH_DENOMINATOR
    return float(Fraction(centi) / 100 / _KMH_PER_MPH)


def kmh_to_centi(kmh: float) -> int:
    """A device-reported km/h value (already on the 0.01 grid) to centi, rounded to nearest."""
    return round(kmh * 100)


@dataclass(frozen=True)
class Setpoint:
    """One Set Target Speed parameter and the belt speeds a device may make of it."""

    param: int  # hundredths of the device's unit: the value written
    written_c: Fraction  # the parameter as a speed (centi-km/h): what the events report
    low_c: Fraction  # the slowest belt any reading of the grid gives
    high_c: Fraction  # the fastest

    @property
    def mph(self) -> float:
        return centi_to_mph(self.written_c)

    @property
    def kmh(self) -> float:
        return float(self.written_c / 100)


@dataclass(frozen=True)
class SpeedGrid:
    """The parameters a device accepts, in hundredths of its own unit: min_u + k * inc_u up to
    max_u; `kmh_per_unit` turns a parameter into belt km/h (1, or the mph factor when the device
    reads the parameter as mph). `min_belt_c`: a belt that never runs slower (min_speed_1kmh)."""

    min_u: int
    max_u: int
    inc_u: int
    kmh_per_unit: Fraction = Fraction(1)
    min_belt_c: int = 0

    def __post_init__(self) -> None:
        if self.inc_u < 1 or self.min_u < 0 or self.max_u < self.min_u:
            raise ValueError(f"invalid speed grid {self}")

    @classmethod
    def from_range(
        cls,
        minimum: float,
        maximum: float,
        increment: float | None,
        *,
        unit_is_mph: bool = False,
        min_belt_kmh: float = 0.0,
    ) -> SpeedGrid:
        """The grid of a Supported Speed Range as the device reports it (in its own unit)."""
        inc = kmh_to_centi(increment) if increment else FINEST_INCREMENT
        return cls(
            kmh_to_centi(minimum),
            kmh_to_centi(maximum),
            max(inc, FINEST_INCREMENT),
            _KMH_PER_MPH if unit_is_mph else Fraction(1),
            kmh_to_centi(min_belt_kmh),
        )

    def describe(self) -> str:
        unit = "mph" if self.kmh_per_unit != 1 else "km/h"
        return f"{self.min_u / 100:g}-{self.max_u / 100:g} {unit} in {self.inc_u / 100:g} steps"

    def belt_c(self, param: int) -> Fraction:
        """The belt speed a parameter on the device's own grid means (centi-km/h)."""
        return max(param * self.kmh_per_unit, Fraction(self.min_belt_c))

    def param_at_most(self, belt_c: Fraction) -> Fraction:
        """`belt_c` as an exact parameter value (not yet on any grid)."""
        return Fraction(belt_c) / self.kmh_per_unit

    def readings(self, param: int) -> tuple[int, ...]:
        """Every value the device may snap `param` to: the nearest multiple of the increment, or
        the nearest minimum + k * increment, a tie either way, clamped to the range."""
        found: set[int] = set()
        for origin in (0, self.min_u):
            steps, rest = divmod(param - origin, self.inc_u)
            candidates = [steps] if 2 * rest < self.inc_u else [steps + 1]
            if 2 * rest == self.inc_u:
                candidates = [steps, steps + 1]
            for k in candidates:
                found.add(min(max(origin + k * self.inc_u, self.min_u), self.max_u))
        return tuple(sorted(found))

    def setpoint(self, param: int) -> Setpoint:
        readings = self.readings(param)
        return Setpoint(
            param,
            param * self.kmh_per_unit,
            self.belt_c(readings[0]),
            self.belt_c(readings[-1]),
        )

    def parameters_between(
        self, low_c: Fraction, high_c: Fraction, *, grid_points_only: bool = True
    ) -> list[int]:
        """The parameters whose belt speed may lie in [low_c, high_c] (one increment around):
        the points of either reading's grid, or with `grid_points_only=False` every value (on
        a grid coarser than the band, a value between two grid points can be the only one that
        both readings keep inside it)."""
        lo = max(math.floor(self.param_at_most(low_c)) - self.inc_u, self.min_u)
        if self.min_belt_c >= low_c:  # every parameter from the minimum up runs fast enough
            lo = self.min_u
        hi = min(math.ceil(self.param_at_most(high_c)) + self.inc_u, self.max_u)
        if not grid_points_only:
            return list(range(lo, hi + 1))
        params: set[int] = set()
        for origin in (0, self.min_u):
            first = origin + max(-(-(lo - origin) // self.inc_u), 0) * self.inc_u
            params.update(range(max(first, lo), hi + 1, self.inc_u))
        return sorted(params)


def device_grid(info: DeviceInfo, min_speed_1kmh: bool, speed_param_mph: bool = False) -> SpeedGrid:
    """The device's speed grid in its own unit: its Supported Speed Range as reported (in mph on
    a speed_param_mph device, which reads the parameter as mph); with min_speed_1kmh the belt
    never runs below 1.0 km/h whatever is written."""
    lo, hi, inc = info.speed_range_kmh
    return SpeedGrid.from_range(
        lo,
        hi,
        inc,
        unit_is_mph=speed_param_mph,
        min_belt_kmh=MIN_SPEED_QUIRK_C / 100 if min_speed_1kmh else 0.0,
    )


@dataclass(frozen=True)
class Band:
    """The setpoints whose every reading lies in [floor_c, ceiling_c], slowest first.

    A request is answered with the fastest setpoint that cannot exceed it (rounding down toward
    the ceiling), and never with less than the floor setpoint (rounding up toward the floor), so
    the commanded belt always lies inside the band and is monotone in the request."""

    floor_c: Fraction  # the band's limits as belt speeds (centi-km/h), before any grid
    ceiling_c: Fraction
    setpoints: tuple[Setpoint, ...]
    _highs: tuple[Fraction, ...] = field(init=False, repr=False, compare=False)
    _cache: dict[float, Setpoint] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        if not self.setpoints:
            raise ValueError("a band needs at least one setpoint")
        object.__setattr__(self, "_highs", tuple(s.high_c for s in self.setpoints))

    @property
    def floor(self) -> Setpoint:
        return self.setpoints[0]

    @property
    def ceiling(self) -> Setpoint:
        return self.setpoints[-1]

    def contains(self, setpoint: Setpoint) -> bool:
        return self.floor_c <= setpoint.low_c and setpoint.high_c <= self.ceiling_c

    def for_request(self, mph: float) -> Setpoint:
        """The setpoint for a request of `mph`: the fastest whose every reading is <= mph, and at
        least the floor."""
        cached = self._cache.get(mph)
        if cached is not None:
            return cached
        if not math.isfinite(mph):
            raise ValueError(f"speed must be a finite number, not {mph}")
        wanted = mph_to_centi(max(mph, 0.0))
        index = bisect.bisect_right(self._highs, wanted) - 1
        chosen = self.setpoints[max(index, 0)]
        if len(self._cache) < _CONVERSION_CACHE_SIZE:
            self._cache[mph] = chosen
        return chosen

    def step_toward(self, current: Setpoint, target: Setpoint, max_step_c: Fraction) -> Setpoint:
        """One ramp step from `current` toward `target`: the farthest setpoint whose fastest
        reading moves at most `max_step_c`, or the next setpoint when none is that close (a grid
        coarser than the step: one increment is one step)."""
        if target.param == current.param:
            return target
        up = target.high_c > current.high_c
        ordered = self.setpoints if up else tuple(reversed(self.setpoints))
        best: Setpoint | None = None
        for candidate in ordered:
            if up and not current.high_c < candidate.high_c <= target.high_c:
                continue
            if not up and not target.high_c <= candidate.high_c < current.high_c:
                continue
            if abs(candidate.high_c - current.high_c) <= max_step_c or best is None:
                best = candidate
            else:
                break
        return best if best is not None else target


def _band(grid: SpeedGrid, floor_mph: float, ceiling_mph: float, what: str) -> Band:
    floor_c, ceiling_c = mph_to_centi(floor_mph), mph_to_centi(ceiling_mph)
    inside: list[Setpoint] = []
    # Grid points first; values between them only when no grid point fits the band.
    for grid_points_only in (True, False):
        for param in grid.parameters_between(floor_c, ceiling_c, grid_points_only=grid_points_only):
            setpoint = grid.setpoint(param)
            if floor_c <= setpoint.low_c and setpoint.high_c <= ceiling_c:
                inside.append(setpoint)
        if inside:
            break
    if not inside:
        raise InputError(
            f"{what} band {floor_mph:g}-{ceiling_mph:g} mph holds no speed of this device's grid "
            f"({grid.describe()}) under either reading of its increment"
        )
    # Parameters that reach the same belt speeds are one setpoint. The one kept names a speed
    # the device may run (a grid point, preferably), the largest such: 1.0 km/h, not 0.79, on a
    # min_speed_1kmh device.
    best: dict[tuple[Fraction, Fraction], tuple[tuple[bool, int], Setpoint]] = {}
    for setpoint in inside:
        key = (setpoint.high_c, setpoint.low_c)
        rank = (setpoint.param in grid.readings(setpoint.param), setpoint.param)
        if key not in best or rank > best[key][0]:
            best[key] = (rank, setpoint)
    unique = [setpoint for _rank, setpoint in sorted(best.values(), key=lambda x: x[1].high_c)]
    return Band(floor_c, ceiling_c, tuple(unique))


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


def session_bands(
    grid: SpeedGrid, safety: SafetyConfig, max_speed_mph: float | None, *, forward_segments: bool
) -> tuple[Band, Band]:
    """A session's (backward, forward) bands: `--max-speed` is the walker's top speed whichever
    way they face. Forward limits matter only to a plan with forward segments; without any, a
    forward request (there should be none) gets the backward band, the stricter one."""
    cap = safety.max_backward_mph
    forward_cap = safety.forward_max_mph
    if max_speed_mph is not None:
        cap, forward_cap = min(max_speed_mph, cap), min(max_speed_mph, forward_cap)
    backward = backward_band(grid, cap, safety.min_backward_mph)
    if not forward_segments:
        return backward, backward
    return backward, forward_band(grid, forward_cap, safety.min_backward_mph)


def ramp_step_c(max_step_mph: float) -> Fraction:
    """The largest change of belt speed per ramp step (before the grid has its say)."""
    if max_step_mph <= 0:
        raise InputError(f"safety.max_step_mph must be > 0, not {max_step_mph:g}")
    return mph_to_centi(max_step_mph)


def step_wait_s(change_c: Fraction, max_step_c: Fraction, step_interval_s: float) -> float:
    """How long a step of `change_c` must wait after the previous change: one interval per
    max_step, so that speed changes at most max_step per interval on average, also when one
    grid increment is larger than max_step (a 0.5 km/h grid: 0.31 mph, one step every 3.1 s)."""
    return step_interval_s * max(1.0, float(abs(change_c) / max_step_c))


def incline_deci(pct: float, incline_range: tuple[float, float, float]) -> int:
    """`pct` as a Set Target Inclination parameter (0.1 % steps): clamped to the device's
    range, rounded to its increment, and never outside the range after the rounding."""
    lo, hi, inc = incline_range
    step = max(round(inc * 10), 1)
    deci = round(min(max(pct, lo), hi) * 10 / step) * step
    return min(max(deci, round(lo * 10)), round(hi * 10))
