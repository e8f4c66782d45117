"""The user speaks mph, FTMS speaks km/h: the one place that converts, and the hard limits of
backward walking in the user's unit (SPEC.md "Units and limits")."""

from __future__ import annotations

from fractions import Fraction

KMH_PER_MPH = 1.609344  # exact, by definition of the international mile
KMH_PER_MPH_EXACT = Fraction("1.609344")  # for safety arithmetic, which must not drift

HARD_FLOOR_MPH = 0.5  # SPEC.md: the backward-walking band is 0.5 to 3.0 mph
HARD_CEILING_MPH = 3.0
# The band stays at least this wide (ceiling >= floor + 0.1): SPEC.md "Units and limits".
MIN_BAND_WIDTH_MPH = 0.1
# Forward segments are walking between backward bouts (the guide's intervals); 4 mph is a brisk
# walk. Anything faster would be a run right before a turn-around, which the guide never suggests.
DEFAULT_FORWARD_MAX_MPH = 4.0


def mph_to_kmh(mph: float) -> float:
    return mph * KMH_PER_MPH


def kmh_to_mph(kmh: float) -> float:
    return kmh / KMH_PER_MPH


# -- for people ---------------------------------------------------------------------------------
# How a speed or distance reads for a person (`[display] units`). JSON keeps SPEC's units; these
# are for the live view, plain lines, `info`, `programs`, the summary and the cues. One decimal
# for speeds: a 1.0 mph target written as 1.6 km/h (0.994 mph) still reads "1.0 mph".

METRES_PER_MILE = 1609.344
FEET_PER_METRE = 1 / 0.3048
IMPERIAL = "imperial"
METRIC = "metric"


def speed_unit(units: str = IMPERIAL) -> str:
    """The unit's short name: "mph" or "km/h"."""
    return "km/h" if units == METRIC else "mph"


def speed_value(mph: float, units: str = IMPERIAL) -> float:
    return mph_to_kmh(mph) if units == METRIC else mph


def format_speed(mph: float, units: str = IMPERIAL, *, unit: bool = True) -> str:
    """`1.0 mph` or `1.6 km/h` (`unit=False`: the number alone)."""
    number = f"{speed_value(mph, units) + 0.0:.1f}"  # + 0.0: never "-0.0"
    return f"{number} {speed_unit(units)}" if unit else number


def spoken_speed(mph: float, units: str = IMPERIAL) -> str:
    """A speed as a cue says it: "1.2 miles per hour" / "1.9 kilometres per hour"."""
    name = "kilometres per hour" if units == METRIC else "miles per hour"
    return f"{format_speed(mph, units, unit=False)} {name}"


def format_distance(metres: float, units: str = IMPERIAL) -> str:
    """Short distances in feet or metres, longer ones in miles or km: "820 ft", "0.31 mi",
    "250 m", "1.20 km"."""
    if units == METRIC:
        return f"{metres:.0f} m" if metres < 1000 else f"{metres / 1000:.2f} km"
    miles = metres / METRES_PER_MILE
    return f"{metres * FEET_PER_METRE:.0f} ft" if miles < 0.1 else f"{miles:.2f} mi"
