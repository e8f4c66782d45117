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


@dataclass(frozen=True)
class _Kind:
    """One Supported ... Range characteristic: three 2-byte fields, the bounds signed or not."""

    what: str
    quantity: str  # as the spec names it: "speed", "inclination"
    resolution: float
    unit: str
    suffix: str  # of the value's field names: "kmh", "pct"
    signed_bounds: bool


_SPEED: Final = _Kind(SPEED_WHAT, "speed", SPEED_RESOLUTION, "km/h", "kmh", signed_bounds=False)
_INCLINE: Final = _Kind(INCLINE_WHAT, "inclination", INCLINE_RESOLUTION, "%", "pct", True)


def _nonsense(kind: _Kind, raw: tuple[int, int, int]) -> tuple[int, str] | None:
    """Why raw (minimum, maximum, increment) describe no machine, with the offset of the field at
    fault (0: the minimum, 4: the increment); None when they make sense."""
    minimum, maximum, increment = raw
    if minimum > maximum:
        low, high = from_units(minimum, kind.resolution), from_units(maximum, kind.resolution)
        return 0, (
            f"minimum {kind.quantity} {low:g} {kind.unit} lies above the maximum "
            f"{high:g} {kind.unit}"
        )
    if increment == 0:
        return 4, "minimum increment is 0: no grid to round onto"
    return None


def _decode(kind: _Kind, data: bytes) -> tuple[float, float, float]:
    reader = Reader(kind.what, data)
    bound = reader.signed if kind.signed_bounds else reader.unsigned
    minimum = bound(2, f"minimum {kind.quantity}")
    maximum = bound(2, f"maximum {kind.quantity}")
    increment = reader.unsigned(2, "minimum increment")
    reader.expect_end()
    problem = _nonsense(kind, (minimum, maximum, increment))
    if problem is not None:
        raise FtmsDecodeError(reader.what, *problem)
    minimum_f, maximum_f, increment_f = (
        from_units(raw, kind.resolution) for raw in (minimum, maximum, increment)
    )
    return minimum_f, maximum_f, increment_f


def _encode(kind: _Kind, values: tuple[float, float, float]) -> bytes:
    writer = Writer(kind.what)
    names = (f"minimum_{kind.suffix}", f"maximum_{kind.suffix}", f"increment_{kind.suffix}")
    raw = tuple(to_units(v, kind.resolution, name) for v, name in zip(values, names, strict=True))
    bound = writer.signed if kind.signed_bounds else writer.unsigned
    bound(raw[0], 2, names[0])
    bound(raw[1], 2, names[1])
    writer.unsigned(raw[2], 2, names[2])
    problem = _nonsense(kind, (raw[0], raw[1], raw[2]))
    if problem is not None:
        raise FtmsEncodeError(f"{kind.what}: {problem[1]}")
    return writer.getvalue()


def decode_speed_range(data: bytes) -> SpeedRange:
    """FtmsDecodeError for truncated or extra bytes, reversed bounds or a zero increment."""
    return SpeedRange(*_decode(_SPEED, data))


def encode_speed_range(value: SpeedRange) -> bytes:
    return _encode(_SPEED, (value.minimum_kmh, value.maximum_kmh, value.increment_kmh))


def decode_incline_range(data: bytes) -> InclineRange:
    """FtmsDecodeError for truncated or extra bytes, reversed bounds or a zero increment."""
    return InclineRange(*_decode(_INCLINE, data))


def encode_incline_range(value: InclineRange) -> bytes:
    return _encode(_INCLINE, (value.minimum_pct, value.maximum_pct, value.increment_pct))
