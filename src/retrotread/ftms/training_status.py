"""Training Status (0x2AD3): a flags byte, a status code and an optional UTF-8 string.

Flag bit 0 says a string follows; bit 1 (extended string, for reads longer than one packet) is
accepted and dropped. A string that is not valid UTF-8 is decoded with replacement characters rather
than refused: the status code is what matters.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from retrotread.ftms._wire import Reader, Writer
from retrotread.ftms.errors import FtmsEncodeError

WHAT: Final = "training-status"
STRING_PRESENT: Final = 1 << 0


class TrainingStatusCode(enum.IntEnum):
    other = 0x00
    idle = 0x01
    warming_up = 0x02
    low_intensity_interval = 0x03
    high_intensity_interval = 0x04
    recovery_interval = 0x05
    isometric = 0x06
    heart_rate_control = 0x07
    fitness_test = 0x08
    speed_outside_control_region_low = 0x09
    speed_outside_control_region_high = 0x0A
    cool_down = 0x0B
    watt_control = 0x0C
    manual_mode = 0x0D
    pre_workout = 0x0E
    post_workout = 0x0F


@dataclass(frozen=True)
class TrainingStatus:
    status: TrainingStatusCode
    string: str | None = None


def decode_training_status(data: bytes) -> TrainingStatus:
    reader = Reader(WHAT, data)
    flags = reader.unsigned(1, "flags")
    raw = reader.unsigned(1, "training status")
    try:
        status = TrainingStatusCode(raw)
    except ValueError:
        raise reader.error(f"unknown training status {raw:#04x}", 1) from None
    if not flags & STRING_PRESENT:
        reader.expect_end()
        return TrainingStatus(status)
    return TrainingStatus(status, reader.rest().decode("utf-8", errors="replace"))


def encode_training_status(value: TrainingStatus) -> bytes:
    writer = Writer(WHAT)
    writer.unsigned(STRING_PRESENT if value.string is not None else 0, 1, "flags")
    writer.unsigned(int(value.status), 1, "status")
    if value.string is not None:
        try:
            writer.raw(value.string.encode("utf-8"))
        except UnicodeEncodeError as err:
            raise FtmsEncodeError(f"{WHAT}: string is not encodable as UTF-8: {err}") from None
    return writer.getvalue()
