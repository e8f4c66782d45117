"""Treadmill Data (0x2ACD): the notification a treadmill sends about once a second.

Fields follow in flag-bit order, one to three per flag. What bites (DESIGN.md): bit 0 is inverted
(speed present when clear), pace is 1 byte (0.1 km/min, FTMS 1.0) or 2 bytes (seconds, GATT
Specification Supplement) and only the packet length tells which, reserved bit 13 carries a 3-byte
step count on KingSmith/FitShow machines, and all-ones values mean "not available".

Absent versus not available: a field the flags leave out is None and its name is *not* in
`not_available`; a field that is present but carries the sentinel is None and its name *is* in
`not_available`. So consumers read `value.instantaneous_speed_kmh` as `float | None`, and JSON
can omit absent fields while printing null for n/a ones.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass, field
from typing import Any, Final

from retrotread.ftms._wire import Reader, Writer, from_units, to_units
from retrotread.ftms.errors import FtmsEncodeError

WHAT: Final = "treadmill-data"

# Flag bits (bit 0 is inverted: "more data" set means speed absent).
MORE_DATA: Final = 1 << 0
STEP_COUNT_BIT: Final = 1 << 13
INSTANTANEOUS_PACE_BIT: Final = 1 << 5
AVERAGE_PACE_BIT: Final = 1 << 6
PACE_WIDTHS: Final = (1, 2)
DEFAULT_PACE_WIDTH: Final = 2


@dataclass(frozen=True)
class _Field:
    """One fixed-size field: its flag bit, width, signedness and resolution (None: plain int)."""

    name: str
    bit: int
    size: int
    signed: bool = False
    resolution: float | None = None

    @property
    def sentinel(self) -> int:
        return (1 << (8 * self.size - 1)) - 1 if self.signed else (1 << (8 * self.size)) - 1


# Wire order; pace fields (bits 5, 6) are handled apart because their width varies.
_FIELDS: Final = (
    _Field("instantaneous_speed_kmh", 0, 2, resolution=0.01),
    _Field("average_speed_kmh", 1, 2, resolution=0.01),
    _Field("total_distance_m", 2, 3),
    _Field("inclination_pct", 3, 2, signed=True, resolution=0.1),
    _Field("ramp_angle_deg", 3, 2, signed=True, resolution=0.1),
    _Field("positive_elevation_gain_m", 4, 2, resolution=0.1),
    _Field("negative_elevation_gain_m", 4, 2, resolution=0.1),
    _Field("instantaneous_pace", 5, 0),
    _Field("average_pace", 6, 0),
    _Field("total_energy_kcal", 7, 2),
    _Field("energy_per_hour_kcal", 7, 2),
    _Field("energy_per_minute_kcal", 7, 1),
    _Field("heart_rate_bpm", 8, 1),
    _Field("metabolic_equivalent", 9, 1, resolution=0.1),
    _Field("elapsed_time_s", 10, 2),
    _Field("remaining_time_s", 11, 2),
    _Field("force_on_belt_n", 12, 2, signed=True),
    _Field("power_output_w", 12, 2, signed=True),
    _Field("step_count", 13, 3),
)
_PACE_NAMES: Final = frozenset({"instantaneous_pace", "average_pace"})
FIELD_NAMES: Final = tuple(f.name for f in _FIELDS)


@dataclass(frozen=True)
class TreadmillData:
    """One decoded Treadmill Data value; see the module docstring for None and `not_available`.

    `flags` is the raw flags word on decode; `encode_treadmill_data` ignores it and derives the
    flags from the fields. `pace_width` (1 or 2) is how the paces travel; on encode a pace with
    `pace_width` None uses 2 bytes (the current GATT Specification Supplement form).
    """

    flags: int = 0
    instantaneous_speed_kmh: float | None = None
    average_speed_kmh: float | None = None
    total_distance_m: int | None = None
    inclination_pct: float | None = None
    ramp_angle_deg: float | None = None
    positive_elevation_gain_m: float | None = None
    negative_elevation_gain_m: float | None = None
    instantaneous_pace: float | None = None
    average_pace: float | None = None
    pace_width: int | None = None
    total_energy_kcal: int | None = None
    energy_per_hour_kcal: int | None = None
    energy_per_minute_kcal: int | None = None
    heart_rate_bpm: int | None = None
    metabolic_equivalent: float | None = None
    elapsed_time_s: int | None = None
    remaining_time_s: int | None = None
    force_on_belt_n: int | None = None
    power_output_w: int | None = None
    step_count: int | None = None
    not_available: frozenset[str] = field(default=frozenset())

    def is_present(self, name: str) -> bool:
        """True when the flags carry `name` (with a value or the "not available" sentinel)."""
        return getattr(self, name) is not None or name in self.not_available

    def present_fields(self) -> tuple[str, ...]:
        """Names of the fields the packet carries, in wire order."""
        return tuple(name for name in FIELD_NAMES if self.is_present(name))


def _sized(spec: _Field, pace_width: int) -> _Field:
    """The field as it travels: paces take the packet's width (1 byte: 0.1 km/min; 2: seconds)."""
    if spec.name not in _PACE_NAMES:
        return spec
    return _Field(spec.name, spec.bit, pace_width, resolution=0.1 if pace_width == 1 else None)


def _bit_present(flags: int, bit: int) -> bool:
    is_set = bool(flags & (1 << bit))
    return not is_set if bit == 0 else is_set


def _pace_width_for(length: int, flags: int, fixed_length: int, pace_count: int) -> int:
    """Tell the pace width from the packet length (the flags do not say)."""
    if pace_count == 0:
        return DEFAULT_PACE_WIDTH
    step_options = (0, 3) if flags & STEP_COUNT_BIT else (0,)
    for width in PACE_WIDTHS:
        for step_bytes in step_options:
            if fixed_length + pace_count * width + step_bytes == length:
                return width
    # No exact fit: read 1-byte paces so the error names the first field that runs short or the
    # first byte that is left over.
    return 1


def _present(flags: int) -> list[_Field]:
    return [f for f in _FIELDS if _bit_present(flags, f.bit)]


def _width_for(flags: int, length: int) -> tuple[int, int]:
    """(pace width, number of paces) of a packet with these flags and this length."""
    present = _present(flags)
    fixed_length = 2 + sum(f.size for f in present if f.name not in _PACE_NAMES)
    pace_count = sum(1 for f in present if f.name in _PACE_NAMES)
    return _pace_width_for(length, flags, fixed_length, pace_count), pace_count


@dataclass(frozen=True)
class _DecodePlan:
    """How to read every packet with one flags word and one length: a struct and its fields.

    A notification stream repeats one layout, so the field walk is worked out once per layout.
    3-byte fields (all unsigned) travel as a u16 and a u8 in the struct.
    """

    pace_width: int | None
    fields: tuple[tuple[str, bool, int, int], ...]  # name, is 3 bytes, sentinel, divisor (0: none)
    layout: struct.Struct


_STRUCT_CODES: Final = {(1, False): "B", (2, False): "H", (2, True): "h", (3, False): "HB"}


@functools.lru_cache(maxsize=256)
def _decode_plan(flags: int, length: int) -> _DecodePlan | None:
    """The plan for an exactly fitting packet; None sends it to the careful, error-naming reader."""
    width, pace_count = _width_for(flags, length)
    offset = 2
    fields: list[tuple[str, bool, int, int]] = []
    codes = ["<"]
    for spec in _present(flags):
        if spec.name == "step_count" and offset == length:
            break  # as in the careful reader: bit 13 without its 3 bytes is the reserved bit
        spec = _sized(spec, width)
        code = _STRUCT_CODES.get((spec.size, spec.signed))
        if code is None:
            return None
        divisor = 0 if spec.resolution is None else round(1 / spec.resolution)
        fields.append((spec.name, spec.size == 3, spec.sentinel, divisor))
        codes.append(code)
        offset += spec.size
    if offset != length:
        return None
    return _DecodePlan(width if pace_count else None, tuple(fields), struct.Struct("".join(codes)))


def decode_treadmill_data(data: bytes) -> TreadmillData:
    """Decode a Treadmill Data notification; raises FtmsDecodeError for truncated or odd packets."""
    flags = int.from_bytes(data[:2], "little")
    plan = _decode_plan(flags, len(data)) if len(data) >= 2 else None
    if plan is None:
        return _decode_carefully(data)
    raws = plan.layout.unpack_from(data, 2)
    values: dict[str, Any] = {}  # TreadmillData keyword arguments
    not_available: list[str] = []
    index = 0
    for name, three_bytes, sentinel, divisor in plan.fields:
        raw = raws[index]
        index += 1
        if three_bytes:
            raw |= raws[index] << 16
            index += 1
        if raw == sentinel:
            values[name] = None
            not_available.append(name)
        elif divisor:
            values[name] = raw / divisor  # as from_units: 0x0190 / 100 is exactly 4.0
        else:
            values[name] = raw
    return TreadmillData(
        flags=flags,
        pace_width=plan.pace_width,
        not_available=frozenset(not_available),
        **values,
    )


def _decode_carefully(data: bytes) -> TreadmillData:
    """Field by field, so a truncated or overlong packet gets an error naming field and byte."""
    reader = Reader(WHAT, data)
    flags = reader.unsigned(2, "flags")
    present = _present(flags)
    width, pace_count = _width_for(flags, len(reader.data))

    values: dict[str, Any] = {}  # TreadmillData keyword arguments
    not_available: set[str] = set()
    for spec in present:
        if spec.name == "step_count" and reader.remaining == 0:
            break  # bit 13 is reserved in the spec; only a vendor's 3 bytes make it a step count
        spec = _sized(spec, width)
        raw = (
            reader.signed(spec.size, spec.name)
            if spec.signed
            else reader.unsigned(spec.size, spec.name)
        )
        if raw == spec.sentinel:
            values[spec.name] = None
            not_available.add(spec.name)
        elif spec.resolution is None:
            values[spec.name] = raw
        else:
            values[spec.name] = from_units(raw, spec.resolution)
    reader.expect_end()
    return TreadmillData(
        flags=flags,
        pace_width=width if pace_count else None,
        not_available=frozenset(not_available),
        **values,
    )


def treadmill_data_flags(value: TreadmillData) -> int:
    """The flags word that `encode_treadmill_data` writes for `value`."""
    flags = MORE_DATA
    not_available = value.not_available
    for name, bit in _FLAG_BITS:
        if getattr(value, name) is not None or name in not_available:
            if bit == 0:
                flags &= ~MORE_DATA
            else:
                flags |= 1 << bit
    return flags


_FLAG_BITS: Final = tuple((f.name, f.bit) for f in _FIELDS)


@functools.lru_cache(maxsize=256)
def _encode_layout(flags: int, width: int) -> tuple[_Field, ...]:
    """The fields a packet with these flags carries, sized for this pace width, in wire order."""
    return tuple(_sized(spec, width) for spec in _present(flags))


@dataclass(frozen=True)
class _EncodePlan:
    """How to write every packet with one flags word and pace width: a struct and its fields.

    The mirror of `_DecodePlan`: a notification stream repeats one layout. 3-byte fields travel
    as a u16 and a u8 in the struct.
    """

    # name, resolution (1: none), sentinel, lowest and highest value that fits, is 3 bytes
    fields: tuple[tuple[str, float, int, int, int, bool], ...]
    layout: struct.Struct


@functools.lru_cache(maxsize=256)
def _encode_plan(flags: int, width: int) -> _EncodePlan:
    fields: list[tuple[str, float, int, int, int, bool]] = []
    codes = ["<H"]
    for spec in _encode_layout(flags, width):
        bits = 8 * spec.size
        low, high = (
            (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if spec.signed else (0, (1 << bits) - 1)
        )
        fields.append((spec.name, spec.resolution or 1, spec.sentinel, low, high, spec.size == 3))
        codes.append(_STRUCT_CODES[(spec.size, spec.signed)])
    return _EncodePlan(tuple(fields), struct.Struct("".join(codes)))


def encode_treadmill_data(value: TreadmillData) -> bytes:
    """Encode `value`; flags come from the fields that are set (or listed as not available).

    A flag group with only some members set writes the others as "not available". Scaled values
    are rounded to the field's resolution, never truncated. Raises FtmsEncodeError for values
    the fields cannot hold and for a `pace_width` other than 1, 2 or None.
    """
    flags = treadmill_data_flags(value)
    width = DEFAULT_PACE_WIDTH if value.pace_width is None else value.pace_width
    if width not in PACE_WIDTHS:
        raise FtmsEncodeError(f"{WHAT}: pace_width must be 1 or 2, got {value.pace_width}")
    plan = _encode_plan(flags, width)
    raws: list[int] = [flags]
    for name, resolution, sentinel, low, high, three_bytes in plan.fields:
        field_value = getattr(value, name)
        if field_value is None:
            raw = sentinel
        else:
            raw = to_units(field_value, resolution, name)
            if raw == sentinel or not low <= raw <= high:
                return _encode_carefully(value, flags, width)  # raises the error naming it
        if three_bytes:
            raws += (raw & 0xFFFF, raw >> 16)
        else:
            raws.append(raw)
    return plan.layout.pack(*raws)


def _encode_carefully(value: TreadmillData, flags: int, width: int) -> bytes:
    """Field by field with range checks, so a value that does not fit gets an error naming it."""
    writer = Writer(WHAT)
    writer.unsigned(flags, 2, "flags")
    for spec in _encode_layout(flags, width):
        field_value = getattr(value, spec.name)
        if field_value is None:
            raw = spec.sentinel
        else:
            raw = to_units(field_value, spec.resolution or 1, spec.name)
            if raw == spec.sentinel:
                raise FtmsEncodeError(f"{WHAT}: {spec.name}={field_value} is the n/a code")
        if spec.signed:
            writer.signed(raw, spec.size, spec.name)
        else:
            writer.unsigned(raw, spec.size, spec.name)
    return writer.getvalue()


__all__ = [
    "FIELD_NAMES",
    "TreadmillData",
    "decode_treadmill_data",
    "encode_treadmill_data",
    "treadmill_data_flags",
]
