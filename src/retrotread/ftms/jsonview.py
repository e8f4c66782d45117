"""The JSON shapes of `retrotread decode KIND HEX` (SPEC.md, "decode").

Absent fields are left out, "not available" fields are null, enums appear by their snake_case name.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any, Final

from retrotread.ftms.control_point import (
    ControlPointRequest,
    ControlPointResponse,
    OpCode,
    decode_control_point,
)
from retrotread.ftms.errors import HexFormatError
from retrotread.ftms.feature import decode_feature
from retrotread.ftms.machine_status import decode_machine_status
from retrotread.ftms.ranges import decode_incline_range, decode_speed_range
from retrotread.ftms.training_status import decode_training_status
from retrotread.ftms.treadmill_data import FIELD_NAMES, decode_treadmill_data

JsonDict = dict[str, Any]
_HEX_DIGITS: Final = frozenset(string.hexdigits)


def parse_hex(text: str) -> bytes:
    """Bytes from hex written as "84 04 90 01", "84:04:90:01" or "84049001".

    Raises HexFormatError naming the first offending character or the odd digit count.
    """
    digits = "".join(text.replace(":", " ").split())
    for position, char in enumerate(text):
        if char not in _HEX_DIGITS and char != ":" and not char.isspace():
            raise HexFormatError(f"not a hex digit: {char!r} at position {position} of {text!r}")
    if not digits:
        raise HexFormatError("no hex digits given")
    if len(digits) % 2:
        raise HexFormatError(f"odd number of hex digits ({len(digits)}) in {text!r}")
    return bytes.fromhex(digits)


def _treadmill_data(data: bytes) -> JsonDict:
    value = decode_treadmill_data(data)
    out: JsonDict = {"flags": value.flags}
    for name in FIELD_NAMES:
        if value.is_present(name):
            out[name] = getattr(value, name)
        if name == "average_pace" and value.pace_width is not None:
            out["pace_width"] = value.pace_width
    return out


def _opcode_name(opcode: int) -> str | int:
    return opcode.name if isinstance(opcode, OpCode) else opcode


def _control_point(data: bytes) -> JsonDict:
    message = decode_control_point(data)
    if isinstance(message, ControlPointResponse):
        out: JsonDict = {
            "opcode": OpCode.response_code.name,
            "request_opcode": _opcode_name(message.request_opcode),
            "result": message.result.name,
        }
        speeds = message.spin_down_target_speeds_kmh
        if speeds is not None:
            out["target_speed_low_kmh"], out["target_speed_high_kmh"] = speeds
        return out
    return _request(message)


def _request(message: ControlPointRequest) -> JsonDict:
    out: JsonDict = {"opcode": message.opcode.name}
    if message.target_speed_kmh is not None:
        out["target_speed_kmh"] = message.target_speed_kmh
    if message.target_inclination_pct is not None:
        out["target_inclination_pct"] = message.target_inclination_pct
    if message.control is not None:
        out["control"] = message.control.name
    if message.parameter:
        out["parameter"] = message.parameter.hex()
    return out


def _machine_status(data: bytes) -> JsonDict:
    status = decode_machine_status(data)
    out: JsonDict = {"opcode": status.opcode.name}
    if status.control is not None:
        out["control"] = status.control.name
    if status.target_speed_kmh is not None:
        out["target_speed_kmh"] = status.target_speed_kmh
    if status.target_inclination_pct is not None:
        out["target_inclination_pct"] = status.target_inclination_pct
    if status.parameter:
        out["parameter"] = status.parameter.hex()
    return out


def _training_status(data: bytes) -> JsonDict:
    status = decode_training_status(data)
    out: JsonDict = {"status": status.status.name}
    if status.string is not None:
        out["string"] = status.string
    return out


def _feature(data: bytes) -> JsonDict:
    feature = decode_feature(data)
    return {"features": feature.feature_names(), "target_settings": feature.target_names()}


def _speed_range(data: bytes) -> JsonDict:
    speed = decode_speed_range(data)
    return {
        "minimum_kmh": speed.minimum_kmh,
        "maximum_kmh": speed.maximum_kmh,
        "increment_kmh": speed.increment_kmh,
    }


def _incline_range(data: bytes) -> JsonDict:
    incline = decode_incline_range(data)
    return {
        "minimum_pct": incline.minimum_pct,
        "maximum_pct": incline.maximum_pct,
        "increment_pct": incline.increment_pct,
    }


_VIEWS: Final[dict[str, Callable[[bytes], JsonDict]]] = {
    "treadmill-data": _treadmill_data,
    "control-point": _control_point,
    "machine-status": _machine_status,
    "training-status": _training_status,
    "feature": _feature,
    "speed-range": _speed_range,
    "incline-range": _incline_range,
}
KINDS: Final = tuple(_VIEWS)


def to_json_dict(kind: str, data: bytes) -> JsonDict:
    """Decode `data` as characteristic `kind` into SPEC.md's JSON object.

    Raises ValueError for an unknown kind (listing the valid ones) and FtmsDecodeError for bytes
    that do not decode.
    """
    view = _VIEWS.get(kind)
    if view is None:
        raise ValueError(f"unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    return view(data)
