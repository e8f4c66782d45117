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
