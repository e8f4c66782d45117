"""Supported Speed Range (0x2AD4) and Supported Inclination Range (0x2AD5).

The increment is the device's grid: the supervisor rounds commanded speeds onto it (SPEC.md).
A range whose minimum lies above its maximum, or whose increment is 0, describes no machine: the
band and grid arithmetic built on it would be nonsense, so it is refused as a decode error (and
the treadmill client refuses such a device, exit 4) rather than read.
Encoding refuses the same values, so the codec never writes what it would not read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from retrotread.ftms._wire import Reader, Writer, from_units, to_units
from retrotread.ftms.errors import FtmsDecodeError, FtmsEncodeError

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


def _nonsense(
    quantity: str, raw: tuple[int, int, int], resolution: float, unit: str
) -> tuple[int, str] | None:
    """Why raw (minimum, maximum, increment) describe no machine, with the offset of the field at
    fault (0: the minimum, 4: the increment); None when they make sense."""
    minimum, maximum, increment = raw
    if minimum > maximum:
        low, high = from_units(minimum, resolution), from_units(maximum, resolution)
        return 0, f"minimum {quantity} {low:g} {unit} lies above the maximum {high:g} {unit}"
    if increment == 0:
        return 4, "minimum increment is 0: no grid to round onto"
    return None


_SPEED: Final = ("speed", SPEED_RESOLUTION, "km/h")
_INCLINE: Final = ("inclination", INCLINE_RESOLUTION, "%")


def _check(reader: Reader, kind: tuple[str, float, str], raw: tuple[int, int, int]) -> None:
    problem = _nonsense(kind[0], raw, kind[1], kind[2])
    if problem is not None:
        raise FtmsDecodeError(reader.what, *problem)


def _refuse(what: str, kind: tuple[str, float, str], raw: tuple[int, int, int]) -> None:
    problem = _nonsense(kind[0], raw, kind[1], kind[2])
    if problem is not None:
        raise FtmsEncodeError(f"{what}: {problem[1]}")


def decode_speed_range(data: bytes) -> SpeedRange:
    """FtmsDecodeError for truncated or extra bytes, reversed bounds or a zero increment."""
    reader = Reader(SPEED_WHAT, data)
    minimum = reader.unsigned(2, "minimum speed")
    maximum = reader.unsigned(2, "maximum speed")
    increment = reader.unsigned(2, "minimum increment")
    reader.expect_end()
    _check(reader, _SPEED, (minimum, maximum, increment))
    return SpeedRange(
        from_units(minimum, SPEED_RESOLUTION),
        from_units(maximum, SPEED_RESOLUTION),
        from_units(increment, SPEED_RESOLUTION),
    )


def encode_speed_range(value: SpeedRange) -> bytes:
    writer = Writer(SPEED_WHAT)
    minimum = to_units(value.minimum_kmh, SPEED_RESOLUTION, "minimum_kmh")
    maximum = to_units(value.maximum_kmh, SPEED_RESOLUTION, "maximum_kmh")
    increment = to_units(value.increment_kmh, SPEED_RESOLUTION, "increment_kmh")
    writer.unsigned(minimum, 2, "minimum_kmh")
    writer.unsigned(maximum, 2, "maximum_kmh")
    writer.unsigned(increment, 2, "increment_kmh")
    _refuse(SPEED_WHAT, _SPEED, (minimum, maximum, increment))
    return writer.getvalue()


def decode_incline_range(data: bytes) -> InclineRange:
    """FtmsDecodeError for truncated or extra bytes, reversed bounds or a zero increment."""
    reader = Reader(INCLINE_WHAT, data)
    minimum = reader.signed(2, "minimum inclination")
    maximum = reader.signed(2, "maximum inclination")
    increment = reader.unsigned(2, "minimum increment")
    reader.expect_end()
    _check(reader, _INCLINE, (minimum, maximum, increment))
    return InclineRange(
        from_units(minimum, INCLINE_RESOLUTION),
        from_units(maximum, INCLINE_RESOLUTION),
        from_units(increment, INCLINE_RESOLUTION),
    )


def encode_incline_range(value: InclineRange) -> bytes:
    writer = Writer(INCLINE_WHAT)
    minimum = to_units(value.minimum_pct, INCLINE_RESOLUTION, "minimum_pct")
    maximum = to_units(value.maximum_pct, INCLINE_RESOLUTION, "maximum_pct")
    increment = to_units(value.increment_pct, INCLINE_RESOLUTION, "increment_pct")
    writer.signed(minimum, 2, "minimum_pct")
    writer.signed(maximum, 2, "maximum_pct")
    writer.unsigned(increment, 2, "increment_pct")
    _refuse(INCLINE_WHAT, _INCLINE, (minimum, maximum, increment))
    return writer.getvalue()
