"""Control point: a captured real exchange, the stop-path constructors, decode errors."""

from __future__ import annotations

import pytest

from retrotread.ftms import (
    ControlPointRequest,
    ControlPointResponse,
    FtmsDecodeError,
    FtmsEncodeError,
    OpCode,
    ResultCode,
    StopControl,
    decode_control_point,
    decode_request,
    decode_response,
    encode_request,
    pause,
    request_control,
    reset,
    set_target_inclination,
    set_target_speed,
    start_or_resume,
    stop,
)

# (request written, indication received) from a real treadmill.
EXCHANGE = [
    ("00", ControlPointRequest(OpCode.request_control), "80 00 01"),
    ("02 64 00", ControlPointRequest(OpCode.set_target_speed, target_speed_kmh=1.0), "80 02 01"),
    ("07", ControlPointRequest(OpCode.start_or_resume), "80 07 01"),
    ("08 01", ControlPointRequest(OpCode.stop_or_pause, control=StopControl.stop), "80 08 01"),
]


@pytest.mark.parametrize(("request_hex", "expected", "response_hex"), EXCHANGE)
def test_captured_exchange(
    request_hex: str, expected: ControlPointRequest, response_hex: str
) -> None:
    request = decode_request(bytes.fromhex(request_hex))
    assert request == expected
    assert encode_request(request) == bytes.fromhex(request_hex)
    response = decode_response(bytes.fromhex(response_hex))
    assert response.request_opcode == expected.opcode
    assert isinstance(response.request_opcode, OpCode)
    assert response.result is ResultCode.success
    assert response.parameter == b""
    assert decode_control_point(bytes.fromhex(response_hex)) == response


def test_constructors_match_the_captured_bytes() -> None:
    assert request_control() == b"\x00"
    assert reset() == b"\x01"
    assert set_target_speed(1.0) == bytes.fromhex("02 64 00")
    assert start_or_resume() == b"\x07"
    assert stop() == bytes.fromhex("08 01")
    assert pause() == bytes.fromhex("08 02")
    assert set_target_inclination(-1.5) == bytes.fromhex("03 f1 ff")


def test_set_target_speed_rounds() -> None:
    assert set_target_speed(0.29) == bytes.fromhex("02 1d 00")  # 29, not 28
    assert set_target_speed(4.828032) == bytes.fromhex("02 e3 01")  # 3.0 mph -> 4.83
    assert set_target_inclination(2.04) == bytes.fromhex("03 14 00")


@pytest.mark.parametrize("kmh", [-0.01, 655.36, float("inf")])
def test_set_target_speed_refuses_values_off_the_field(kmh: float) -> None:
    with pytest.raises(FtmsEncodeError):
        set_target_speed(kmh)


@pytest.mark.parametrize(
    "request_value",
    [
        ControlPointRequest(OpCode.set_target_speed),
        ControlPointRequest(OpCode.set_target_inclination),
        ControlPointRequest(OpCode.stop_or_pause),
        ControlPointRequest(OpCode.response_code),
    ],
)
def test_encode_refuses_requests_missing_their_parameter(
    request_value: ControlPointRequest,
) -> None:
    with pytest.raises(FtmsEncodeError):
        encode_request(request_value)


def test_other_op_codes_keep_their_raw_parameter() -> None:
    request = decode_request(bytes.fromhex("05 c8 00"))
    assert request == ControlPointRequest(OpCode.set_target_power, parameter=b"\xc8\x00")


def test_response_with_unknown_request_op_code() -> None:
    response = decode_response(bytes.fromhex("80 42 02"))
    assert response == ControlPointResponse(0x42, ResultCode.op_code_not_supported)
    assert not isinstance(response.request_opcode, OpCode)


def test_response_tails_are_refused() -> None:
    # FTMS gives such a response no parameter: a tail is refused, not kept.
    with pytest.raises(FtmsDecodeError) as caught:
        decode_response(bytes.fromhex("80 42 02 aa"))
    assert caught.value.offset == 3


@pytest.mark.parametrize(
    ("hex_packet", "offset"),
    [
        ("", 0),  # empty write
        ("15", 0),  # reserved op code
        ("80 00 01", 0),  # a response where a request belongs
        ("02 64", 1),  # truncated speed
        ("08", 1),  # stop/pause without its parameter
        ("08 03", 1),  # neither stop nor pause
        ("07 00", 1),  # start takes no parameter
    ],
)
def test_request_errors_tell_the_peripheral_how_to_answer(hex_packet: str, offset: int) -> None:
    # offset 0: op_code_not_supported; offset >= 1: invalid_parameter (see the module docstring).
    with pytest.raises(FtmsDecodeError) as caught:
        decode_request(bytes.fromhex(hex_packet))
    assert caught.value.offset == offset


@pytest.mark.parametrize(
    ("hex_packet", "offset"), [("", 0), ("00", 0), ("80", 1), ("80 02", 2), ("80 02 06", 2)]
)
def test_response_errors(hex_packet: str, offset: int) -> None:
    with pytest.raises(FtmsDecodeError) as caught:
        decode_response(bytes.fromhex(hex_packet))
    assert caught.value.offset == offset


def test_stop_path_constructors_do_no_work() -> None:
    # Precomputed: the same bytes object every call, nothing encoded on the emergency path.
    assert stop() is stop()
    assert pause() is pause()
    assert start_or_resume() is start_or_resume()
