"""Fitness Machine Status (0x2ADA): the machine's own account of what changed and why.

The supervisor watches it for a safety-key stop, a console stop and lost control; some machines
acknowledge commands here instead of on the control point (DESIGN.md quirks).

Every op code carries exactly the parameter FTMS v1.0 section 4.17 gives it, also the ones we keep
as raw bytes: a status of the wrong length is a broken (or misread) packet, and reading it anyway
would hand the supervisor a guess.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
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


_Op = MachineStatusOpCode

# FTMS v1.0 section 4.17: the parameter of each op code, in bytes.
PARAMETER_SIZES: Final[Mapping[MachineStatusOpCode, int]] = {
    _Op.reset: 0,
    _Op.stopped_or_paused_by_user: 1,  # uint8: 0x01 stop, 0x02 pause
    _Op.stopped_by_safety_key: 0,
    _Op.started_or_resumed_by_user: 0,
    _Op.target_speed_changed: 2,  # uint16, 0.01 km/h
    _Op.target_incline_changed: 2,  # sint16, 0.1 %
    _Op.target_resistance_level_changed: 1,  # uint8, 0.1
    _Op.target_power_changed: 2,  # sint16, W
    _Op.target_heart_rate_changed: 1,  # uint8, bpm
    _Op.targeted_expended_energy_changed: 2,  # uint16, kcal
    _Op.targeted_number_of_steps_changed: 2,  # uint16
    _Op.targeted_number_of_strides_changed: 2,  # uint16
    _Op.targeted_distance_changed: 3,  # uint24, m
    _Op.targeted_training_time_changed: 2,  # uint16, s
    _Op.targeted_time_in_two_heart_rate_zones_changed: 4,  # 2 x uint16, s
    _Op.targeted_time_in_three_heart_rate_zones_changed: 6,  # 3 x uint16, s
    _Op.targeted_time_in_five_heart_rate_zones_changed: 10,  # 5 x uint16, s
    _Op.indoor_bike_simulation_parameters_changed: 6,  # wind s16, grade s16, crr u8, cw u8
    _Op.wheel_circumference_changed: 2,  # uint16, 0.1 mm
    _Op.spin_down_status: 1,  # uint8
    _Op.targeted_cadence_changed: 2,  # uint16, 0.5 /min
    _Op.control_permission_lost: 0,
}


@dataclass(frozen=True)
class MachineStatus:
    """One status; the field matching `opcode` is set, `parameter` holds other ops' raw bytes
    (exactly `PARAMETER_SIZES[opcode]` of them)."""

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
    if opcode is MachineStatusOpCode.stopped_or_paused_by_user:
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
        size = PARAMETER_SIZES[opcode]
        status = MachineStatus(opcode, parameter=reader.raw(size, f"{opcode.name} parameter"))
    if reader.remaining:
        size = PARAMETER_SIZES[opcode]
        takes = f"a {size}-byte parameter" if size else "no parameter"
        raise reader.error(f"{opcode.name} takes {takes}, got {len(reader.data) - 1} byte(s)")
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
    else:
        size = PARAMETER_SIZES[opcode]
        if len(value.parameter) != size:
            takes = f"a {size}-byte parameter" if size else "no parameter"
            raise FtmsEncodeError(
                f"{WHAT}: {opcode.name} takes {takes}, got {len(value.parameter)} byte(s)"
            )
        writer.raw(value.parameter)
    return writer.getvalue()
