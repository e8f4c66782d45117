"""`retrotread decode KIND HEX` through the app, and once through the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrotread.cli.app import run
from retrotread.decode import decode
from retrotread.errors import InputError
from retrotread.ftms.heart_rate import (
    HeartRateMeasurement,
    SensorContact,
    encode_heart_rate_measurement,
)

CAPTURE = "84 04 90 01 01 00 00 00 00 ff ff ff 04 00"


def _decode(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(["decode", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_treadmill_capture(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _decode(capsys, "treadmill-data", CAPTURE)
    assert code == 0
    assert err == ""
    assert out.count("\n") == 1
    assert json.loads(out) == {
        "flags": 0x0484,
        "instantaneous_speed_kmh": 4.0,
        "total_distance_m": 1,
        "total_energy_kcal": 0,
        "energy_per_hour_kcal": None,
        "energy_per_minute_kcal": None,
        "elapsed_time_s": 4,
    }


@pytest.mark.parametrize(
    "argv",
    [
        ["speed-range", "f4 01 b8 0b 32 00"],
        ["speed-range", "f4:01:b8:0b:32:00"],
        ["speed-range", "f401b80b3200"],
        ["speed-range", "f4", "01", "b8", "0b", "32", "00"],  # unquoted bytes
    ],
)
def test_hex_spellings(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, _ = _decode(capsys, *argv)
    assert code == 0
    assert json.loads(out) == {"minimum_kmh": 5.0, "maximum_kmh": 30.0, "increment_kmh": 0.5}


def test_control_point_response(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _decode(capsys, "control-point", "80 02 01")
    assert code == 0
    assert json.loads(out) == {
        "opcode": "response_code",
        "request_opcode": "set_target_speed",
        "result": "success",
    }


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["treadmill-data", "84 04 9g"], "not a hex digit"),
        (["treadmill-data", "84 04 9"], "odd number of hex digits"),
        (["treadmill-data", "84 04 90 01 01"], "truncated: total_distance_m"),
        (["speed-range", "f4 01 b8 0b 32 00 00"], "unexpected byte"),
        (["feature"], "no hex digits"),
        (["heart-rate", "00"], "valid kinds: treadmill-data, control-point"),
        (["heart-rate", "00"], "did you mean heart-rate-measurement?"),
        (["heart-rate-measurement", "08 48 01"], "truncated: energy expended"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    code, out, err = _decode(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("retrotread: error: ")
    assert err.count("\n") == 1
    assert words in err


def test_console_script_bad_input_is_one_line_without_traceback() -> None:
    script = Path(sys.executable).with_name("retrotread")
    done = subprocess.run(
        [str(script), "decode", "treadmill-data", "84 04 90 01 01"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
    assert "at byte 4" in done.stderr


def test_console_script_prints_json() -> None:
    script = Path(sys.executable).with_name("retrotread")
    done = subprocess.run(
        [str(script), "decode", "control-point", "08:01"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"opcode": "stop_or_pause", "control": "stop"}


def test_heart_rate_measurement_through_the_app(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _decode(capsys, "heart-rate-measurement", "1e 48 0a 00 00 04")
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "flags": 0x1E,
        "heart_rate_bpm": 72,
        "sensor_contact": "detected",
        "energy_expended_kj": 10,
        "rr_intervals_s": [1.0],
    }


def test_the_help_lists_the_heart_rate_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["decode", "--help"]) == 0
    assert "heart-rate-measurement" in capsys.readouterr().out


@given(
    st.integers(0, 0xFFFF),
    st.sampled_from(list(SensorContact)),
    st.one_of(st.none(), st.integers(0, 0xFFFF)),
    st.lists(st.integers(0, 0xFFFF), max_size=8),
)
def test_an_encoded_measurement_decodes_to_its_fields(
    bpm: int, contact: SensorContact, energy: int | None, rr: list[int]
) -> None:
    value = HeartRateMeasurement(bpm, contact, energy, tuple(rr))
    out = decode("heart-rate-measurement", encode_heart_rate_measurement(value).hex(" "))
    assert out["heart_rate_bpm"] == bpm
    assert out["sensor_contact"] == contact.name
    assert out.get("energy_expended_kj") == energy
    assert out.get("rr_intervals_s", []) == [raw / 1024 for raw in rr]
    assert ("rr_intervals_s" in out) == bool(rr)


@given(st.binary(max_size=24))
def test_any_bytes_decode_or_raise_only_an_input_error(data: bytes) -> None:
    try:
        out = decode("heart-rate-measurement", data.hex())
    except InputError as err:
        message = str(err)
    else:
        assert set(out) >= {"flags", "heart_rate_bpm", "sensor_contact"}
        return
    assert message.startswith("heart-rate-measurement: ") or message == "no hex digits given"
