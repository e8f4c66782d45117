"""The user speaks mph, FTMS speaks km/h: the one place that converts."""

from __future__ import annotations

from fractions import Fraction

KMH_PER_MPH = 1.609344  # exact, by definition of the international mile
KMH_PER_MPH_EXACT = Fraction("1.609344")  # for safety arithmetic, which must not drift


def mph_to_kmh(mph: float) -> float:
    return mph * KMH_PER_MPH


def kmh_to_mph(kmh: float) -> float:
    return kmh / KMH_PER_MPH
