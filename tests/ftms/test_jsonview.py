"""The JSON shapes of `decode` (SPEC.md) and the hex parser behind it."""

from __future__ import annotations

import pytest

from retrotread.ftms import KINDS, FtmsDecodeError, HexFormatError, parse_hex, to_json_dict


@pytest.mark.parametrize("text", ["84 04 90 01", "84:04:90:01", "84049001", " 8404 9001\n"])
def test_parse_hex_accepts_spaces_and_colons(text: str) -> None:
    assert parse_hex(text) == bytes.fromhex("84049001")


@pytest.mark.parametrize(
    ("text", "words"),
    [("84 0", "odd number"), ("zz", "'z' at position 0"), ("84-04", "'-'"), ("", "no hex")],
)
def test_parse_hex_refuses(text: str, words: str) -> None:
    with pytest.raises(HexFormatError, match=words):
        parse_hex(text)


def test_kinds_are_the_spec_list() -> None:
    assert set(KINDS) == {
        "treadmill-data",
        "control-point",
        "machine-status",
        "training-status",
        "feature",
        "speed-range",
        "incline-range",
    }


def test_treadmill_data_absent_fields_absent_and_not_available_null() -> None:
    out = to_json_dict("treadmill-data", parse_hex("84 04 90 01 01 00 00 00 00 ff ff ff 04 00"))
    assert out == {
        "flags": 0x0484,
        "instantaneous_speed_kmh": 4.0,
        "total_distance_m": 1,
        "total_energy_kcal": 0,
        "energy_per_hour_kcal": None,
        "energy_per_minute_kcal": None,
        "elapsed_time_s": 4,
    }


def test_treadmill_data_pace_width_and_step_count() -> None:
    out = to_json_dict("treadmill-data", parse_hex("2120 0a 102700"))
    assert out == {"flags": 0x2021, "instantaneous_pace": 1.0, "pace_width": 1, "step_count": 10000}


@pytest.mark.parametrize(
    ("hex_packet", "expected"),
    [
        ("00", {"opcode": "request_control"}),
        ("02 64 00", {"opcode": "set_target_speed", "target_speed_kmh": 1.0}),
        ("03 14 00", {"opcode": "set_target_inclination", "target_inclination_pct": 2.0}),
        ("08 02", {"opcode": "stop_or_pause", "control": "pause"}),
        ("05 c8 00", {"opcode": "set_target_power", "parameter": "c800"}),
        (
            "80 08 01",
            {"opcode": "response_code", "request_opcode": "stop_or_pause", "result": "success"},
        ),
        (
            "80 42 05",
            {"opcode": "response_code", "request_opcode": 0x42, "result": "control_not_permitted"},
        ),
    ],
)
def test_control_point(hex_packet: str, expected: dict[str, object]) -> None:
    assert to_json_dict("control-point", parse_hex(hex_packet)) == expected


@pytest.mark.parametrize(
    ("hex_packet", "expected"),
    [
        ("02 01", {"opcode": "stopped_or_paused_by_user", "control": "stop"}),
        ("03", {"opcode": "stopped_by_safety_key"}),
        ("05 90 01", {"opcode": "target_speed_changed", "target_speed_kmh": 4.0}),
        ("06 ecff", {"opcode": "target_incline_changed", "target_inclination_pct": -2.0}),
        ("ff", {"opcode": "control_permission_lost"}),
    ],
)
def test_machine_status(hex_packet: str, expected: dict[str, object]) -> None:
    assert to_json_dict("machine-status", parse_hex(hex_packet)) == expected


def test_training_status() -> None:
    assert to_json_dict("training-status", parse_hex("00 0e")) == {"status": "pre_workout"}
    assert to_json_dict("training-status", b"\x01\x01Idle") == {"status": "idle", "string": "Idle"}


def test_feature_and_ranges() -> None:
    assert to_json_dict("feature", parse_hex("0c000000 03000000")) == {
        "features": ["total_distance", "inclination"],
        "target_settings": ["speed_target", "inclination_target"],
    }
    assert to_json_dict("speed-range", parse_hex("f4 01 b8 0b 32 00")) == {
        "minimum_kmh": 5.0,
        "maximum_kmh": 30.0,
        "increment_kmh": 0.5,
    }
    assert to_json_dict("incline-range", parse_hex("0000 9600 0500")) == {
        "minimum_pct": 0.0,
        "maximum_pct": 15.0,
        "increment_pct": 0.5,
    }


def test_unknown_kind_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="treadmill-data, control-point") as caught:
        to_json_dict("heart-rate", b"\x00")
    assert not isinstance(caught.value, FtmsDecodeError)
