"""Fitness Machine Control Point (0x2AD9): requests written by the client, responses indicated back.

Decoding a request that the machine cannot act on raises FtmsDecodeError; its `offset` tells a
peripheral how to answer: offset 0 means an unknown op code (answer `op_code_not_supported` with
`data[0]`), a larger offset means a bad parameter (answer `invalid_parameter`).

A response (0x80, request op code, result) is exactly 3 bytes, except where FTMS v1.0 (section
4.16, its procedure table) gives one a response parameter: only Spin Down Control answered with
success, which may carry the Target Speed Low and High (2 x uint16, 0.01 km/h; present when the
request was Start, absent for Ignore). Any other tail means the packet is not what it claims to be,
and an acknowledgement must not be read into it.

The constructors at the bottom return precomputed bytes where the message is constant, because
`stop()` sits on the emergency-stop path.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from retrotread.ftms._wire import Reader, Writer, from_units, to_units
from retrotread.ftms.errors import FtmsEncodeError

WHAT: Final = "control-point"
SPEED_RESOLUTION: Final = 0.01
INCLINE_RESOLUTION: Final = 0.1


class OpCode(enum.IntEnum):
    request_control = 0x00
    reset = 0x01
    set_target_speed = 0x02
    set_target_inclination = 0x03
    set_target_resistance_level = 0x04
    set_target_power = 0x05
    set_target_heart_rate = 0x06
    start_or_resume = 0x07
    stop_or_pause = 0x08
    set_targeted_expended_energy = 0x09
    set_targeted_number_of_steps = 0x0A
    set_targeted_number_of_strides = 0x0B
    set_targeted_distance = 0x0C
    set_targeted_training_time = 0x0D
    set_targeted_time_in_two_heart_rate_zones = 0x0E
    set_targeted_time_in_three_heart_rate_zones = 0x0F
    set_targeted_time_in_five_heart_rate_zones = 0x10
    set_indoor_bike_simulation_parameters = 0x11
    set_wheel_circumference = 0x12
    spin_down_control = 0x13
    set_targeted_cadence = 0x14
    response_code = 0x80


class ResultCode(enum.IntEnum):
    success = 0x01
    op_code_not_supported = 0x02
    invalid_parameter = 0x03
    operation_failed = 0x04
    control_not_permitted = 0x05


class StopControl(enum.IntEnum):
    """Parameter of Stop or Pause (and of the matching Fitness Machine Status)."""

    stop = 0x01
    pause = 0x02


SPIN_DOWN_RESPONSE_SIZE: Final = 4  # Target Speed Low, Target Speed High: uint16 each, 0.01 km/h

# Requests that carry no parameter at all; other op codes not modelled keep their raw parameter.
_NO_PARAMETER: Final = frozenset({OpCode.request_control, OpCode.reset, OpCode.start_or_resume})


@dataclass(frozen=True)
class ControlPointRequest:
    """A request; the field matching `opcode` is set, `parameter` holds any other op's raw bytes."""

    opcode: OpCode
    target_speed_kmh: float | None = None
    target_inclination_pct: float | None = None
    control: StopControl | None = None
    parameter: bytes = b""


@dataclass(frozen=True)
class ControlPointResponse:
    """An indication answering a request; `request_opcode` is an OpCode when known, else an int.

    `parameter` is empty except for a successful Spin Down Control, where it may hold the 4 bytes
    of the target speeds (see `spin_down_target_speeds_kmh`)."""

    request_opcode: int
    result: ResultCode
    parameter: bytes = b""

    @property
    def may_carry_parameter(self) -> bool:
        """True only for the one response FTMS gives a parameter: Spin Down Control, success."""
        return self.request_opcode == OpCode.spin_down_control and self.result is ResultCode.success

    @property
    def spin_down_target_speeds_kmh(self) -> tuple[float, float] | None:
        """(low, high) of a successful spin down started by the request, else None."""
        if not self.may_carry_parameter or len(self.parameter) != SPIN_DOWN_RESPONSE_SIZE:
            return None
        low = int.from_bytes(self.parameter[:2], "little")
        high = int.from_bytes(self.parameter[2:], "little")
        return from_units(low, SPEED_RESOLUTION), from_units(high, SPEED_RESOLUTION)


def _request_opcode(reader: Reader) -> OpCode:
    raw = reader.unsigned(1, "op code")
    if raw == OpCode.response_code:
        raise reader.error("response code 0x80 where a request was expected", 0)
    try:
        return OpCode(raw)
    except ValueError:
        raise reader.error(f"unknown op code {raw:#04x}", 0) from None


def decode_request(data: bytes) -> ControlPointRequest:
    reader = Reader(WHAT, data)
    opcode = _request_opcode(reader)
    if opcode in _NO_PARAMETER:
        request = ControlPointRequest(opcode)
    elif opcode is OpCode.set_target_speed:
        raw = reader.unsigned(2, "target speed")
        request = ControlPointRequest(opcode, target_speed_kmh=from_units(raw, SPEED_RESOLUTION))
    elif opcode is OpCode.set_target_inclination:
        raw = reader.signed(2, "target inclination")
        request = ControlPointRequest(
            opcode, target_inclination_pct=from_units(raw, INCLINE_RESOLUTION)
        )
    elif opcode is OpCode.stop_or_pause:
        raw = reader.unsigned(1, "stop/pause control")
        try:
            control = StopControl(raw)
        except ValueError:
            raise reader.error(f"stop/pause control must be 1 or 2, got {raw}", 1) from None
        request = ControlPointRequest(opcode, control=control)
    else:
        request = ControlPointRequest(opcode, parameter=reader.rest())
    reader.expect_end()
    return request


def encode_request(value: ControlPointRequest) -> bytes:
    writer = Writer(WHAT)
    writer.unsigned(int(value.opcode), 1, "opcode")
    opcode = value.opcode
    if opcode is OpCode.response_code:
        raise FtmsEncodeError(f"{WHAT}: response_code is not a request; use encode_response")
    if opcode is OpCode.set_target_speed:
        if value.target_speed_kmh is None:
            raise FtmsEncodeError(f"{WHAT}: set_target_speed needs target_speed_kmh")
        speed = to_units(value.target_speed_kmh, SPEED_RESOLUTION, "target_speed_kmh")
        writer.unsigned(speed, 2, "target_speed_kmh")
    elif opcode is OpCode.set_target_inclination:
        if value.target_inclination_pct is None:
            raise FtmsEncodeError(f"{WHAT}: set_target_inclination needs target_inclination_pct")
        incline = to_units(value.target_inclination_pct, INCLINE_RESOLUTION, "inclination")
        writer.signed(incline, 2, "target_inclination_pct")
    elif opcode is OpCode.stop_or_pause:
        if value.control is None:
            raise FtmsEncodeError(f"{WHAT}: stop_or_pause needs control (stop or pause)")
        writer.unsigned(int(value.control), 1, "control")
    elif opcode not in _NO_PARAMETER:
        writer.raw(value.parameter)
    return writer.getvalue()


def decode_response(data: bytes) -> ControlPointResponse:
    reader = Reader(WHAT, data)
    code = reader.unsigned(1, "response code")
    if code != OpCode.response_code:
        raise reader.error(f"expected response code 0x80, got {code:#04x}", 0)
    request_raw = reader.unsigned(1, "request op code")
    request_opcode: int = request_raw
    if request_raw in OpCode._value2member_map_:
        request_opcode = OpCode(request_raw)
    result_raw = reader.unsigned(1, "result code")
    try:
        result = ResultCode(result_raw)
    except ValueError:
        raise reader.error(f"unknown result code {result_raw:#04x}", 2) from None
    response = ControlPointResponse(request_opcode, result)
    if reader.remaining and response.may_carry_parameter:
        parameter = reader.raw(SPIN_DOWN_RESPONSE_SIZE, "spin down target speeds")
        response = ControlPointResponse(request_opcode, result, parameter)
    if reader.remaining:
        raise reader.error(
            f"{reader.remaining} byte(s) after the result code: FTMS gives a response parameter "
            "only to a successful spin down control (4 bytes)"
        )
    return response


def encode_response(value: ControlPointResponse) -> bytes:
    """The indication's bytes; FtmsEncodeError for a parameter FTMS does not allow there."""
    if value.parameter and not (
        value.may_carry_parameter and len(value.parameter) == SPIN_DOWN_RESPONSE_SIZE
    ):
        raise FtmsEncodeError(
            f"{WHAT}: only a successful spin_down_control response carries a parameter "
            f"({SPIN_DOWN_RESPONSE_SIZE} bytes), got {len(value.parameter)} byte(s)"
        )
    writer = Writer(WHAT)
    writer.unsigned(int(OpCode.response_code), 1, "response code")
    writer.unsigned(int(value.request_opcode), 1, "request_opcode")
    writer.unsigned(int(value.result), 1, "result")
    writer.raw(value.parameter)
    return writer.getvalue()


def decode_control_point(data: bytes) -> ControlPointRequest | ControlPointResponse:
    """Decode either direction, told apart by the first byte (0x80 is a response)."""
    if data[:1] == bytes([OpCode.response_code]):
        return decode_response(data)
    return decode_request(data)


REQUEST_CONTROL_BYTES: Final = bytes([OpCode.request_control])
RESET_BYTES: Final = bytes([OpCode.reset])
START_OR_RESUME_BYTES: Final = bytes([OpCode.start_or_resume])
STOP_BYTES: Final = bytes([OpCode.stop_or_pause, StopControl.stop])
PAUSE_BYTES: Final = bytes([OpCode.stop_or_pause, StopControl.pause])


def request_control() -> bytes:
    return REQUEST_CONTROL_BYTES


def reset() -> bytes:
    return RESET_BYTES


def start_or_resume() -> bytes:
    return START_OR_RESUME_BYTES


def stop() -> bytes:
    return STOP_BYTES


def pause() -> bytes:
    return PAUSE_BYTES


def set_target_speed(kmh: float) -> bytes:
    """Set Target Speed, rounded to 0.01 km/h (0.29 -> 29, never 28)."""
    return encode_request(ControlPointRequest(OpCode.set_target_speed, target_speed_kmh=kmh))


def set_target_inclination(pct: float) -> bytes:
    """Set Target Inclination, rounded to 0.1 %."""
    return encode_request(
        ControlPointRequest(OpCode.set_target_inclination, target_inclination_pct=pct)
    )
