"""Supported Speed Range (0x2AD4) and Supported Inclination Range (0x2AD5).

The increment is the device's grid: the supervisor rounds commanded speeds onto it (SPEC.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from retrotread.ftms._wire import Reader, Writer, from_units, to_units

SPEED_WHAT: Final = "speed-range"
INCLINE_WHAT: Final = "incline-range"
SPEED_RESOLUTION: Final = 0.01
INCLINE_RESOLUTION: Final = 0.1


@dataclass(frozen=True)
class SpeedRange:
    minimum_kmh: float
    maximum_kmh: float
    increment_kmh: float


@dataclass(frozen=True)
class InclineRange:
    minimum_pct: float
    maximum_pct: float
    increment_pct: float


def decode_speed_range(data: bytes) -> SpeedRange:
    reader = Reader(SPEED_WHAT, data)
    minimum = reader.unsigned(2, "minimum speed")
    maximum = reader.unsigned(2, "maximum speed")
    increment = reader.unsigned(2, "minimum increment")
    reader.expect_end()
    return SpeedRange(
        from_units(minimum, SPEED_RESOLUTION),
        from_units(maximum, SPEED_RESOLUTION),
        from_units(increment, SPEED_RESOLUTION),
    )


def encode_speed_range(value: SpeedRange) -> bytes:
    writer = Writer(SPEED_WHAT)
    for name, kmh in (
        ("minimum_kmh", value.minimum_kmh),
        ("maximum_kmh", value.maximum_kmh),
        ("increment_kmh", value.increment_kmh),
    ):
        writer.unsigned(to_units(kmh, SPEED_RESOLUTION, name), 2, name)
    return writer.getvalue()


def decode_incline_range(data: bytes) -> InclineRange:
    reader = Reader(INCLINE_WHAT, data)
    minimum = reader.signed(2, "minimum inclination")
    maximum = reader.signed(2, "maximum inclination")
    increment = reader.unsigned(2, "minimum increment")
    reader.expect_end()
    return InclineRange(
        from_units(minimum, INCLINE_RESOLUTION),
        from_units(maximum, INCLINE_RESOLUTION),
        from_units(increment, INCLINE_RESOLUTION),
    )


def encode_incline_range(value: InclineRange) -> bytes:
    writer = Writer(INCLINE_WHAT)
    writer.signed(to_units(value.minimum_pct, INCLINE_RESOLUTION, "minimum_pct"), 2, "minimum_pct")
    writer.signed(to_units(value.maximum_pct, INCLINE_RESOLUTION, "maximum_pct"), 2, "maximum_pct")
    increment = to_units(value.increment_pct, INCLINE_RESOLUTION, "increment_pct")
    writer.unsigned(increment, 2, "increment_pct")
    return writer.getvalue()
