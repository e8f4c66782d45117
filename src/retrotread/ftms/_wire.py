"""Little-endian field reading and writing shared by the characteristic codecs.

The reader turns every shortfall into FtmsDecodeError naming the field and byte; the writer rounds
scaled values half away from zero (never truncates) and refuses values the field cannot hold.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

from retrotread.ftms.errors import FtmsDecodeError, FtmsEncodeError

U8_NA = 0xFF
U16_NA = 0xFFFF
S16_NA = 0x7FFF
U24_NA = 0xFFFFFF

# to_units' float shortcut: below 2**20 steps an ulp is < 1e-9, far inside the margin around a
# half where only the decimal text can tell which way to round.
_FAST_ROUNDING_LIMIT = float(1 << 20)
_HALF_MARGIN = 1e-6


class Reader:
    """Walks a packet field by field, remembering the offset for error messages."""

    def __init__(self, what: str, data: bytes) -> None:
        self.what = what
        self.data = bytes(data)
        self.offset = 0

    @property
    def remaining(self) -> int:
        return len(self.data) - self.offset

    def error(self, message: str, offset: int | None = None) -> FtmsDecodeError:
        return FtmsDecodeError(self.what, self.offset if offset is None else offset, message)

    def _take(self, size: int, field: str) -> bytes:
        if self.remaining < size:
            raise self.error(
                f"truncated: {field} needs {size} byte(s), {self.remaining} left "
                f"(packet is {len(self.data)} bytes)"
            )
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def unsigned(self, size: int, field: str) -> int:
        return int.from_bytes(self._take(size, field), "little", signed=False)

    def signed(self, size: int, field: str) -> int:
        return int.from_bytes(self._take(size, field), "little", signed=True)

    def raw(self, size: int, field: str) -> bytes:
        """Exactly `size` bytes of a field kept as bytes (a parameter we do not interpret)."""
        return self._take(size, field)

    def rest(self) -> bytes:
        chunk = self.data[self.offset :]
        self.offset = len(self.data)
        return chunk

    def expect_end(self) -> None:
        if self.remaining:
            raise self.error(f"{self.remaining} unexpected byte(s) after the last field")


class Writer:
    """Builds a packet; every field is range-checked so encoding never wraps silently."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.parts = bytearray()

    def unsigned(self, value: int, size: int, field: str) -> None:
        limit = 1 << (8 * size)
        if not 0 <= value < limit:
            raise FtmsEncodeError(f"{self.what}: {field}={value} does not fit u{8 * size}")
        self.parts += value.to_bytes(size, "little", signed=False)

    def signed(self, value: int, size: int, field: str) -> None:
        limit = 1 << (8 * size - 1)
        if not -limit <= value < limit:
            raise FtmsEncodeError(f"{self.what}: {field}={value} does not fit s{8 * size}")
        self.parts += value.to_bytes(size, "little", signed=True)

    def raw(self, value: bytes) -> None:
        self.parts += value

    def getvalue(self) -> bytes:
        return bytes(self.parts)


def to_units(value: float, resolution: float, field: str) -> int:
    """Express `value` in steps of `resolution`, rounding half away from zero.

    Works on the decimal text of the float so that 0.29 km/h becomes 29 (not 28, as truncating
    0.29 * 100 = 28.999... does) and 4.005 becomes 401.
    """
    if type(value) is int and resolution == 1:
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise FtmsEncodeError(f"{field}={value} is not a finite number")
    if type(value) is float:
        # Float division is within a few ulps of the decimal quotient: away from a half (and for
        # magnitudes where an ulp is tiny) rounding it gives the same integer, without Decimal.
        steps_float = abs(value / resolution)
        if steps_float < _FAST_ROUNDING_LIMIT:
            whole = math.floor(steps_float)
            if abs(steps_float - whole - 0.5) > _HALF_MARGIN:
                rounded = whole + 1 if steps_float - whole > 0.5 else whole
                return rounded if value >= 0 else -rounded
    steps = Decimal(repr(value)) / Decimal(repr(resolution))
    return int(steps.to_integral_value(rounding=ROUND_HALF_UP))


def from_units(raw: int, resolution: float) -> float:
    """Scale a raw field to its unit; dividing by the inverse keeps 0x0190 exactly 4.0."""
    return raw / round(1 / resolution)
