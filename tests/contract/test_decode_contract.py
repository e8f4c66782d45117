"""`retrotread decode KIND HEX` with the field names, units and sentinels of SPEC.md."""

from __future__ import annotations

import json
import struct
from typing import Any

import pytest

from tests.support.cli import RunScript


def decoded(cli: RunScript, kind: str, hex_text: str) -> dict[str, Any]:
    result = cli("decode", kind, hex_text)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert len(lines) == 1
    value = json.loads(lines[0])
    assert isinstance(value, dict)
    return value


def treadmill_packet(flags: int, *fields: bytes) -> str:
    return (struct.pack("<H", flags) + b"".join(fields)).hex(" ")


def u24(value: int) -> bytes:
    return value.to_bytes(3, "little")


def test_treadmill_data_every_field_with_one_byte_paces(cli: RunScript) -> None:
    flags = 0x3FFE  # bits 1..13: every optional field, speed present (bit 0 clear)
    packet = treadmill_packet(
        flags,
        struct.pack("<H", 400),  # instantaneous speed 4.00 km/h
        struct.pack("<H", 350),  # average speed 3.50
        u24(1234),  # total distance m
        struct.pack("<hh", 25, -10),  # inclination 2.5 %, ramp angle -1.0 deg
        struct.pack("<HH", 30, 40),  # elevation gain +3.0 m, -4.0 m
        bytes([0x0A]),  # instantaneous pace 1.0 km/min (1-byte form)
        bytes([0x0B]),  # average pace 1.1
        struct.pack("<HHB", 50, 300, 5),  # energy total, per hour, per minute
        bytes([120]),  # heart rate
        bytes([35]),  # MET 3.5
        struct.pack("<HH", 600, 60),  # elapsed, remaining s
        struct.pack("<hh", 20, 150),  # force N, power W
        u24(4321),  # step count (vendor bit 13)
    )
    value = decoded(cli, "treadmill-data", packet)
    assert value == {
        "flags": flags,
        "instantaneous_speed_kmh": 4.0,
        "average_speed_kmh": 3.5,
        "total_distance_m": 1234,
        "inclination_pct": 2.5,
        "ramp_angle_deg": -1.0,
        "positive_elevation_gain_m": 3.0,
        "negative_elevation_gain_m": 4.0,
        "instantaneous_pace": 1.0,
        "average_pace": 1.1,
        "pace_width": 1,
        "total_energy_kcal": 50,
        "energy_per_hour_kcal": 300,
        "energy_per_minute_kcal": 5,
        "heart_rate_bpm": 120,
        "metabolic_equivalent": 3.5,
        "elapsed_time_s": 600,
        "remaining_time_s": 60,
        "force_on_belt_n": 20,
        "power_output_w": 150,
        "step_count": 4321,
    }


@pytest.mark.parametrize(
    ("tail", "width", "instantaneous", "average"),
    [("0a 0b", 1, 1.0, 1.1), ("0a 00 0b 00", 2, 10, 11)],
)
def test_pace_width_is_told_by_the_packet_length(
    cli: RunScript, tail: str, width: int, instantaneous: float, average: float
) -> None:
    value = decoded(cli, "treadmill-data", f"60 00 90 01 {tail}")
    assert value["pace_width"] == width
    assert value["instantaneous_pace"] == instantaneous
    assert value["average_pace"] == average


@pytest.mark.parametrize(
    ("packet", "field"),
    [
        (treadmill_packet(0x0100, b"\x90\x01", b"\xff"), "heart_rate_bpm"),
        (treadmill_packet(0x0004, b"\x90\x01", u24(0xFFFFFF)), "total_distance_m"),
        (treadmill_packet(0x0008, b"\x90\x01", b"\xff\x7f\x00\x00"), "inclination_pct"),
        (treadmill_packet(0x0008, b"\x90\x01", b"\x00\x00\xff\x7f"), "ramp_angle_deg"),
        (treadmill_packet(0x0080, b"\x90\x01", b"\xff\xff\xff\xff\xff"), "total_energy_kcal"),
        (treadmill_packet(0x0002, b"\x90\x01", b"\xff\xff"), "average_speed_kmh"),
    ],
)
def test_not_available_sentinels_are_null(cli: RunScript, packet: str, field: str) -> None:
    value = decoded(cli, "treadmill-data", packet)
    assert field in value
    assert value[field] is None


def test_fields_left_out_by_the_flags_are_absent(cli: RunScript) -> None:
    assert decoded(cli, "treadmill-data", "00:00:90:01") == {
        "flags": 0,
        "instantaneous_speed_kmh": 4.0,
    }
    assert decoded(cli, "treadmill-data", "0100") == {"flags": 1}  # "more data": no speed


@pytest.mark.parametrize(
    ("hex_text", "expected"),
    [
        ("00", {"opcode": "request_control"}),
        ("01", {"opcode": "reset"}),
        ("02 90 01", {"opcode": "set_target_speed", "target_speed_kmh": 4.0}),
        ("03 14 00", {"opcode": "set_target_inclination", "target_inclination_pct": 2.0}),
        ("07", {"opcode": "start_or_resume"}),
        ("08 01", {"opcode": "stop_or_pause", "control": "stop"}),
        ("08 02", {"opcode": "stop_or_pause", "control": "pause"}),
        (
            "80 02 01",
            {"opcode": "response_code", "request_opcode": "set_target_speed", "result": "success"},
        ),
        (
            "80 07 02",
            {
                "opcode": "response_code",
                "request_opcode": "start_or_resume",
                "result": "op_code_not_supported",
            },
        ),
        (
            "80 02 03",
            {
                "opcode": "response_code",
                "request_opcode": "set_target_speed",
                "result": "invalid_parameter",
            },
        ),
        (
            "80 08 04",
            {
                "opcode": "response_code",
                "request_opcode": "stop_or_pause",
                "result": "operation_failed",
            },
        ),
        (
            "80 00 05",
            {
                "opcode": "response_code",
                "request_opcode": "request_control",
                "result": "control_not_permitted",
            },
        ),
    ],
)
def test_control_point(cli: RunScript, hex_text: str, expected: dict[str, Any]) -> None:
    assert decoded(cli, "control-point", hex_text) == expected


@pytest.mark.parametrize(
    ("hex_text", "expected"),
    [
        ("01", {"opcode": "reset"}),
        ("02 01", {"opcode": "stopped_or_paused_by_user", "control": "stop"}),
        ("02 02", {"opcode": "stopped_or_paused_by_user", "control": "pause"}),
        ("03", {"opcode": "stopped_by_safety_key"}),
        ("04", {"opcode": "started_or_resumed_by_user"}),
        ("05 90 01", {"opcode": "target_speed_changed", "target_speed_kmh": 4.0}),
        ("06 14 00", {"opcode": "target_incline_changed", "target_inclination_pct": 2.0}),
        ("ff", {"opcode": "control_permission_lost"}),
    ],
)
def test_machine_status(cli: RunScript, hex_text: str, expected: dict[str, Any]) -> None:
    assert decoded(cli, "machine-status", hex_text) == expected


@pytest.mark.parametrize(
    ("hex_text", "expected"),
    [
        ("00 01", {"status": "idle"}),
        ("00 0d", {"status": "manual_mode"}),
        ("00 09", {"status": "speed_outside_control_region_low"}),
        ("00 0a", {"status": "speed_outside_control_region_high"}),
        ("01 0e 48 69", {"status": "pre_workout", "string": "Hi"}),
    ],
)
def test_training_status(cli: RunScript, hex_text: str, expected: dict[str, Any]) -> None:
    assert decoded(cli, "training-status", hex_text) == expected


def test_feature(cli: RunScript) -> None:
    # machine: total distance (2), inclination (3), elevation gain (4), expended energy (9),
    # heart rate (10), elapsed time (12); targets: speed (0), inclination (1), heart rate (4).
    machine = (1 << 2) | (1 << 3) | (1 << 4) | (1 << 9) | (1 << 10) | (1 << 12)
    targets = (1 << 0) | (1 << 1) | (1 << 4)
    value = decoded(cli, "feature", struct.pack("<II", machine, targets).hex())
    assert set(value["features"]) == {
        "total_distance",
        "inclination",
        "elevation_gain",
        "expended_energy",
        "heart_rate_measurement",
        "elapsed_time",
    }
    assert set(value["target_settings"]) == {
        "speed_target",
        "inclination_target",
        "heart_rate_target",
    }


def test_ranges(cli: RunScript) -> None:
    assert decoded(cli, "speed-range", "32 00 d0 07 01 00") == {
        "minimum_kmh": 0.5,
        "maximum_kmh": 20.0,
        "increment_kmh": 0.01,
    }
    assert decoded(cli, "incline-range", "00 00 96 00 05 00") == {
        "minimum_pct": 0.0,
        "maximum_pct": 15.0,
        "increment_pct": 0.5,
    }


@pytest.mark.parametrize(
    ("kind", "hex_text"),
    [
        ("treadmill-data", "00"),
        ("treadmill-data", "04 00 90 01 10"),
        ("treadmill-data", "zz"),
        ("speed-range", "32 00 d0"),
        ("incline-range", "00 00 96 00 05"),
        ("control-point", ""),
        ("machine-status", "05 90"),
        ("sensor-location", "01"),
    ],
)
def test_bad_or_truncated_input_exits_2(cli: RunScript, kind: str, hex_text: str) -> None:
    result = cli("decode", kind, hex_text)
    assert result.code == 2
    assert result.error_line().startswith("retrotread: error:")
    assert result.out == ""


@pytest.mark.parametrize(
    ("kind", "hex_text", "words"),
    [
        ("machine-status", "07", "target_resistance_level_changed"),  # its 1-byte level missing
        ("machine-status", "07 05 00", "target_resistance_level_changed"),  # one byte too many
        ("machine-status", "04 00", "started_or_resumed_by_user"),  # carries no parameter
        ("machine-status", "14", "spin_down_status"),
        ("control-point", "80 08 01 00", "response parameter"),  # FTMS allows no tail here
        ("control-point", "80 13 01 f4 01", "spin down target speeds"),  # half a speed pair
        ("control-point", "80 13 04 f4 01 e8 03", "response parameter"),  # failed: no speeds
        ("speed-range", "d0 07 32 00 01 00", "above the maximum"),  # reversed bounds
        ("speed-range", "32 00 d0 07 00 00", "increment is 0"),
        ("incline-range", "96 00 00 00 05 00", "above the maximum"),
        ("incline-range", "00 00 96 00 00 00", "increment is 0"),
    ],
)
def test_packets_ftms_does_not_allow_exit_2_naming_the_field(
    cli: RunScript, kind: str, hex_text: str, words: str
) -> None:
    """Lenient lengths and nonsense ranges are refused."""
    result = cli("decode", kind, hex_text)
    assert result.code == 2
    line = result.error_line()
    assert line.startswith("retrotread: error:")
    assert words in line
    assert "at byte" in line
    assert result.out == ""


def test_a_spin_down_response_with_its_speeds_decodes(cli: RunScript) -> None:
    assert decoded(cli, "control-point", "80 13 01 f4 01 e8 03") == {
        "opcode": "response_code",
        "request_opcode": "spin_down_control",
        "result": "success",
        "target_speed_low_kmh": 5.0,
        "target_speed_high_kmh": 10.0,
    }


def test_the_console_script_decodes_with_spaces_or_colons(retrotread: RunScript) -> None:
    result = retrotread("decode", "speed-range", "32:00:d0:07:01:00")
    assert result.code == 0
    assert json.loads(result.out)["maximum_kmh"] == 20.0
    bad = retrotread("decode", "speed-range", "32")
    assert bad.code == 2
    assert bad.error_line()


@pytest.mark.parametrize(
    ("hex_text", "expected"),
    [
        # u8 value, contact not supported, nothing else
        ("00 48", {"flags": 0x00, "heart_rate_bpm": 72, "sensor_contact": "unsupported"}),
        # raw contact 1 also means "the strap cannot tell"
        ("02 48", {"flags": 0x02, "heart_rate_bpm": 72, "sensor_contact": "unsupported"}),
        ("04 00", {"flags": 0x04, "heart_rate_bpm": 0, "sensor_contact": "not_detected"}),
        # u16 value, contact detected, energy expended, two RR intervals (1/1024 s)
        (
            "0f 2c 01 e8 03",
            {
                "flags": 0x0F,
                "heart_rate_bpm": 300,
                "sensor_contact": "detected",
                "energy_expended_kj": 1000,
            },
        ),
        (
            "16 48 00 04 34 03",
            {
                "flags": 0x16,
                "heart_rate_bpm": 72,
                "sensor_contact": "detected",
                "rr_intervals_s": [1.0, 820 / 1024],
            },
        ),
        # the RR flag with no interval in this packet: an empty list, not an absent field
        (
            "10 48",
            {
                "flags": 0x10,
                "heart_rate_bpm": 72,
                "sensor_contact": "unsupported",
                "rr_intervals_s": [],
            },
        ),
    ],
)
def test_heart_rate_measurement(cli: RunScript, hex_text: str, expected: dict[str, Any]) -> None:
    assert decoded(cli, "heart-rate-measurement", hex_text) == expected


@pytest.mark.parametrize(
    ("hex_text", "words"),
    [
        ("", "no hex digits"),
        ("00", "truncated: heart rate"),
        ("01 48", "truncated: heart rate"),
        ("08 48 01", "truncated: energy expended"),
        ("10 48 00", "odd byte"),
        ("00 48 00", "unexpected byte"),
    ],
)
def test_a_bad_heart_rate_measurement_exits_2_naming_the_field(
    cli: RunScript, hex_text: str, words: str
) -> None:
    result = cli("decode", "heart-rate-measurement", hex_text)
    assert result.code == 2
    line = result.error_line()
    assert line.startswith("retrotread: error:")
    assert words in line
    assert result.out == ""


def test_the_console_script_decodes_a_heart_rate_measurement(retrotread: RunScript) -> None:
    result = retrotread("decode", "heart-rate-measurement", "16:48:00:04")
    assert result.code == 0, result.err
    assert json.loads(result.out) == {
        "flags": 0x16,
        "heart_rate_bpm": 72,
        "sensor_contact": "detected",
        "rr_intervals_s": [1.0],
    }
    misspelt = retrotread("decode", "heart-rate", "00 48")
    assert misspelt.code == 2
    assert "did you mean heart-rate-measurement?" in misspelt.error_line()
