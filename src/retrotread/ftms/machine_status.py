"""Fitness Machine Status (0x2ADA): the machine's own account of what changed and why.

The supervisor watches it for a safety-key stop, a console stop and lost control; some machines
acknowledge commands here instead of on the control point (DESIGN.md quirks).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from retrotread.ftms._wire import Reader, Writer, from_units, to_units
from retrotread.ftms.control_point import StopControl
from retrotread.ftms.errors import FtmsEncodeError

WHAT: Final = "machine-status"


class MachineStatusOpCode(enum.IntEnum):
    reset = 0x01
    stopped_or_paused_by_user = 0x02
    stopped_by_safety_key = 0x03
    started_or_resumed_by_user = 0x04
    target_speed_changed = 0x05
    target_incline_changed = 0x06
    target_resistance_level_changed = 0x07
    target_power_changed = 0x08
    target_heart_rate_changed = 0x09
    targeted_expended_energy_changed = 0x0A
    targeted_number_of_steps_changed = 0x0B
    targeted_number_of_strides_changed = 0x0C
    targeted_distance_changed = 0x0D
    targeted_training_time_changed = 0x0E
    targeted_time_in_two_heart_rate_zones_changed = 0x0F
    targeted_time_in_three_heart_rate_zones_changed = 0x10
    targeted_time_in_five_heart_rate_zones_changed = 0x11
    indoor_bike_simulation_parameters_changed = 0x12
    wheel_circumference_changed = 0x13
    spin_down_status = 0x14
    targeted_cadence_changed = 0x15
    control_permission_lost = 0xFF


_NO_PARAMETER: Final = frozenset(
    {
        MachineStatusOpCode.reset,
        MachineStatusOpCode.stopped_by_safety_key,
        MachineStatusOpCode.started_or_resumed_by_user,
        MachineStatusOpCode.control_permission_lost,
    }
)


@dataclass(frozen=True)
class MachineStatus:
    """One status; the field matching `opcode` is set, `parameter` holds other ops' raw bytes."""

    opcode: MachineStatusOpCode
    control: StopControl | None = None
    target_speed_kmh: float | None = None
    target_inclination_pct: float | None = None
    parameter: bytes = b""


def decode_machine_status(data: bytes) -> MachineStatus:
    reader = Reader(WHAT, data)
    raw_opcode = reader.unsigned(1, "op code")
    try:
        opcode = MachineStatusOpCode(raw_opcode)
    except ValueError:
        raise reader.error(f"unknown op code {raw_opcode:#04x}", 0) from None
    if opcode in _NO_PARAMETER:
        status = MachineStatus(opcode)
    elif opcode is MachineStatusOpCode.stopped_or_paused_by_user:
        raw = reader.unsigned(1, "stop/pause control")
        try:
            control = StopControl(raw)
        except ValueError:
            raise reader.error(f"stop/pause control must be 1 or 2, got {raw}", 1) from None
        status = MachineStatus(opcode, control=control)
    elif opcode is MachineStatusOpCode.target_speed_changed:
        speed = from_units(reader.unsigned(2, "target speed"), 0.01)
        status = MachineStatus(opcode, target_speed_kmh=speed)
    elif opcode is MachineStatusOpCode.target_incline_changed:
        incline = from_units(reader.signed(2, "target inclination"), 0.1)
        status = MachineStatus(opcode, target_inclination_pct=incline)
    else:
        status = MachineStatus(opcode, parameter=reader.rest())
    reader.expect_end()
    return status


def encode_machine_status(value: MachineStatus) -> bytes:
    writer = Writer(WHAT)
    writer.unsigned(int(value.opcode), 1, "opcode")
    opcode = value.opcode
    if opcode is MachineStatusOpCode.stopped_or_paused_by_user:
        if value.control is None:
            raise FtmsEncodeError(f"{WHAT}: stopped_or_paused_by_user needs control")
        writer.unsigned(int(value.control), 1, "control")
    elif opcode is MachineStatusOpCode.target_speed_changed:
        if value.target_speed_kmh is None:
            raise FtmsEncodeError(f"{WHAT}: target_speed_changed needs target_speed_kmh")
        writer.unsigned(to_units(value.target_speed_kmh, 0.01, "speed"), 2, "target_speed_kmh")
    elif opcode is MachineStatusOpCode.target_incline_changed:
        if value.target_inclination_pct is None:
            raise FtmsEncodeError(f"{WHAT}: target_incline_changed needs target_inclination_pct")
        incline = to_units(value.target_inclination_pct, 0.1, "inclination")
        writer.signed(incline, 2, "target_inclination_pct")
    elif opcode not in _NO_PARAMETER:
        writer.raw(value.parameter)
    return writer.getvalue()
