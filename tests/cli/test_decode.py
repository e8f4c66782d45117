"""`retrotread decode KIND HEX` through the app, and once through the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from retrotread.cli.app import run

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
