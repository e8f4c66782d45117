"""Heart Rate Measurement (0x2A37, Heart Rate Service 0x180D): bytes <-> a typed reading.

Not FTMS, but the same kind of codec: the strap client decodes it and the simulated strap encodes
it, and the simulator may import only `ftms` of ours, so the one codec lives here.

Flags byte: bit 0 the value is u16 (else u8); bits 1-2 sensor contact (0 or 1: the strap cannot
tell, 2: no skin contact, 3: contact); bit 3 an Energy Expended u16 (kJ) follows; bit 4 RR
intervals follow, u16 each in 1/1024 s, to the end of the packet. Bits 5-7 are reserved: accepted
and ignored, as a later revision may use them. Bad input raises only FtmsDecodeError, naming the
byte at fault.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from retrotread.ftms._wire import Reader, Writer
from retrotread.ftms.errors import FtmsEncodeError

WHAT: Final = "heart-rate-measurement"
VALUE_U16: Final = 1 << 0
CONTACT_SHIFT: Final = 1
CONTACT_MASK: Final = 0b11 << CONTACT_SHIFT
ENERGY_PRESENT: Final = 1 << 3
RR_PRESENT: Final = 1 << 4
RR_UNITS_PER_S: Final = 1024


class SensorContact(enum.IntEnum):
    """What bits 1-2 say about skin contact. Raw 0 and 1 both mean "not supported"."""

    unsupported = 0
    not_detected = 2
    detected = 3


@dataclass(frozen=True)
class HeartRateMeasurement:
    """One notification of the strap. `rr_intervals` are raw, in 1/1024 s (exact round trip)."""

    heart_rate_bpm: int
    contact: SensorContact = SensorContact.unsupported
    energy_expended_kj: int | None = None
    rr_intervals: tuple[int, ...] = ()
    wide: bool = False  # the value was (or is to be) sent as u16

    @property
    def heart_rate(self) -> int | None:
        """The heart rate to believe, or None: without skin contact a strap reports noise (or
        its last value), and 0 bpm is how many straps say "no reading"."""
        if self.contact is SensorContact.not_detected or self.heart_rate_bpm == 0:
            return None
        return self.heart_rate_bpm

    @property
    def rr_intervals_s(self) -> tuple[float, ...]:
        return tuple(raw / RR_UNITS_PER_S for raw in self.rr_intervals)


def decode_heart_rate_measurement(data: bytes) -> HeartRateMeasurement:
    reader = Reader(WHAT, data)
    flags = reader.unsigned(1, "flags")
    wide = bool(flags & VALUE_U16)
    bpm = reader.unsigned(2 if wide else 1, "heart rate")
    contact_bits = (flags & CONTACT_MASK) >> CONTACT_SHIFT
    contact = SensorContact.unsupported if contact_bits < 2 else SensorContact(contact_bits)
    energy = reader.unsigned(2, "energy expended") if flags & ENERGY_PRESENT else None
    rr: list[int] = []
    if flags & RR_PRESENT:
        if reader.remaining % 2:
            raise reader.error(
                "RR intervals are u16 each: an odd byte is left", len(reader.data) - 1
            )
        while reader.remaining:
            rr.append(reader.unsigned(2, "RR interval"))
    reader.expect_end()
    return HeartRateMeasurement(bpm, contact, energy, tuple(rr), wide)


def encode_heart_rate_measurement(value: HeartRateMeasurement) -> bytes:
    """The bytes a strap sends; the value goes out as u16 when `wide` or when it needs 16 bits."""
    wide = value.wide or value.heart_rate_bpm > 0xFF
    flags = (VALUE_U16 if wide else 0) | (int(value.contact) << CONTACT_SHIFT)
    if value.energy_expended_kj is not None:
        flags |= ENERGY_PRESENT
    if value.rr_intervals:
        flags |= RR_PRESENT
    writer = Writer(WHAT)
    writer.unsigned(flags, 1, "flags")
    writer.unsigned(value.heart_rate_bpm, 2 if wide else 1, "heart rate")
    if value.energy_expended_kj is not None:
        writer.unsigned(value.energy_expended_kj, 2, "energy expended")
    for raw in value.rr_intervals:
        writer.unsigned(raw, 2, "RR interval")
    return writer.getvalue()


def rr_units(seconds: float) -> int:
    """An RR interval in seconds as the strap's 1/1024 s units (rounded, not truncated)."""
    if not 0 <= seconds < 0x10000 / RR_UNITS_PER_S:
        raise FtmsEncodeError(f"{WHAT}: RR interval {seconds} s does not fit u16 in 1/1024 s")
    return round(seconds * RR_UNITS_PER_S)
