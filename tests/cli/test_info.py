"""`retrotread info` and `retrotread scan` through the CLI entry (`run(argv)`), on the simulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrotread.cli.app import run


def test_info_json_on_the_simulator(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["info", "--sim", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["device"] == "RetroTread SIM"
    assert report["speed_range_kmh"] == [0.5, 20.0, 0.01]
    assert report["incline_range_pct"] == [0.0, 15.0, 0.5]
    assert "speed_target" in report["target_settings"]
    assert "total_distance" in report["features"]


def test_info_leaves_out_the_incline_range_when_there_is_none(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(["info", "--sim", "--sim-profile", "coarse-grid", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["speed_range_kmh"] == [0.8, 16.0, 0.1]
    assert "incline_range_pct" not in report


def test_info_for_a_person(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["info", "--sim"]) == 0
    lines = capsys.readouterr().out.splitlines()
    grid = "(the device: 0.5 to 20 km/h in steps of 0.01 km/h)"
    assert f"speed range      0.3 to 12.4 mph {grid}" in lines
    assert "incline range    0 to 15 % in steps of 0.5 %" in lines


def test_info_for_a_person_in_metric_units(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETROTREAD_DISPLAY__UNITS", "metric")
    assert run(["info", "--sim", "--sim-profile", "coarse-grid"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "speed range      0.8 to 16 km/h in steps of 0.1 km/h" in lines
    assert "incline range    not supported" in lines
    assert not any("mph" in line for line in lines)


# This machine has no Bluetooth (no BlueZ on a system bus): the real-radio paths must fail cleanly.
no_bluez = pytest.mark.skipif(
    Path("/run/dbus/system_bus_socket").exists(), reason="a system bus (maybe BlueZ) is present"
)


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["info"], 2, "--sim"),
        (["info", "--sim", "--device", "AA:BB:CC:DD:EE:FF"], 2, "exclude"),
        (["info", "--sim", "--sim-profile", "nope"], 2, "unknown simulator profile"),
        pytest.param(["info", "--device", "AA:BB:CC:DD:EE:FF"], 4, "--sim", marks=no_bluez),
        pytest.param(["scan", "--timeout", "0.5"], 4, "no Bluetooth adapter", marks=no_bluez),
    ],
)
def test_failures_are_one_line_with_the_exit_code(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    assert run(argv) == code
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err
