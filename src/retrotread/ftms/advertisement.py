"""FTMS service data in advertisements: a flags byte and the machine types (u16).

Lets `scan` show a treadmill before connecting, and the simulator advertise as one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from retrotread.ftms._wire import Reader, Writer

WHAT: Final = "ftms-service-data"
AVAILABLE: Final = 1 << 0


class MachineType(enum.IntFlag):
    treadmill = 1 << 0
    cross_trainer = 1 << 1
    step_climber = 1 << 2
    stair_climber = 1 << 3
    rower = 1 << 4
    indoor_bike = 1 << 5


@dataclass(frozen=True)
class FtmsServiceData:
    available: bool
    machine_types: MachineType

    def machine_type_names(self) -> list[str]:
        return [m.name for m in MachineType if m.name is not None and m in self.machine_types]


def decode_service_data(data: bytes) -> FtmsServiceData:
    """Decode the service data bytes (bleak's `service_data[FTMS_SERVICE_UUID]`)."""
    reader = Reader(WHAT, data)
    flags = reader.unsigned(1, "flags")
    types = MachineType(reader.unsigned(2, "fitness machine type"))
    reader.expect_end()
    return FtmsServiceData(bool(flags & AVAILABLE), types)


def encode_service_data(value: FtmsServiceData) -> bytes:
    writer = Writer(WHAT)
    writer.unsigned(AVAILABLE if value.available else 0, 1, "flags")
    writer.unsigned(int(value.machine_types), 2, "machine_types")
    return writer.getvalue()
