"""The other commands of the CLI table: info, programs, config, stop without a session, scan,
help."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import RunScript

PROGRAMS = ["first-steps", "cooldown", "intervals", "rehab", "athletic"]


def test_info_sim_json_has_the_spec_keys(cli: RunScript) -> None:
    result = cli("info", "--sim", "--json")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert {"device", "features", "target_settings", "speed_range_kmh"} <= set(report)
    assert report["speed_range_kmh"] == [0.5, 20.0, 0.01]
    assert report["incline_range_pct"] == [0.0, 15.0, 0.5]
    assert "speed_target" in report["target_settings"]
    assert all(isinstance(name, str) for name in report["features"])


def test_info_leaves_out_an_incline_range_the_machine_lacks(cli: RunScript) -> None:
    result = cli("info", "--sim", "--sim-profile", "coarse-grid", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["speed_range_kmh"] == [0.8, 16.0, 0.1]
    assert "incline_range_pct" not in report


def test_info_without_a_treadmill_is_bad_input(cli: RunScript) -> None:
    result = cli("info")
    assert result.code == 2
    assert "--sim" in result.error_line()


def test_info_for_a_person_is_readable(cli: RunScript) -> None:
    result = cli("info", "--sim")
    assert result.code == 0
    assert "speed" in result.out
    assert "20" in result.out
    assert not result.out.lstrip().startswith("{")


def test_programs_lists_the_five_built_ins(cli: RunScript) -> None:
    result = cli("programs")
    assert result.code == 0, result.err
    for name in PROGRAMS:
        assert name in result.out


@pytest.mark.parametrize("name", PROGRAMS)
def test_programs_name_shows_its_segments(cli: RunScript, name: str) -> None:
    result = cli("programs", name)
    assert result.code == 0, result.err
    assert name in result.out
    assert "mph" in result.out
    assert "backward" in result.out


def test_an_unknown_program_lists_the_names(cli: RunScript) -> None:
    result = cli("programs", "marathon")
    assert result.code == 2
    line = result.error_line()
    assert "marathon" in line
    assert "first-steps" in line


def test_stop_with_no_session_running_exits_1_with_one_line(retrotread: RunScript) -> None:
    result = retrotread("stop")
    assert result.code == 1
    assert "no session" in result.error_line()
    assert result.out == ""


def test_scan_without_an_adapter_exits_4_with_one_line(retrotread: RunScript) -> None:
    result = retrotread("scan", "--timeout", "0.2")
    if result.code == 0:
        pytest.skip("this machine has a Bluetooth adapter and found a treadmill")
    assert result.code == 4
    assert result.error_line()


def test_an_unknown_command_exits_2(cli: RunScript) -> None:
    result = cli("jog")
    assert result.code == 2
    assert "jog" in result.error_line()


@pytest.mark.parametrize(
    ("command", "flags"),
    [
        (
            "run",
            [
                "--device",
                "--sim",
                "--program",
                "--plan",
                "--max-speed",
                "--yes",
                "--json",
                "--mqtt",
                "--time-scale",
                "--sim-profile",
                "--sim-fault",
            ],
        ),
        ("stop", ["--device", "--mqtt"]),
        ("scan", ["--timeout"]),
        ("info", ["--device", "--sim", "--json"]),
        ("programs", []),
        ("decode", ["treadmill-data", "incline-range"]),
    ],
)
def test_every_command_explains_its_flags(cli: RunScript, command: str, flags: list[str]) -> None:
    result = cli(command, "--help")
    assert result.code == 0
    for flag in flags:
        assert flag in result.out, flag
    if command == "run":
        assert "list[str]" not in result.out  # metavars a person can read


def test_global_options_come_before_the_command(cli: RunScript) -> None:
    result = cli("--log-format", "json", "-v", "programs")
    assert result.code == 0
    assert "first-steps" in result.out
    bad = cli("--log-format", "xml", "programs")
    assert bad.code == 2
    assert "--log-format" in bad.error_line()


def test_config_names_each_settings_source(retrotread: RunScript) -> None:
    result = retrotread(
        "config",
        "--json",
        env={
            "RETROTREAD_SAFETY__MAX_BACKWARD_MPH": "2.0",
            "RETROTREAD_MQTT__PASSWORD": "hunter2",
        },
    )
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["safety"]["max_backward_mph"] == {
        "value": 2.0,
        "source": "environment RETROTREAD_SAFETY__MAX_BACKWARD_MPH",
    }
    assert report["safety"]["min_backward_mph"] == {"value": 0.5, "source": "default"}
    assert report["mqtt"]["password"]["value"] == "(set)"
    assert "hunter2" not in result.out


def test_config_names_the_users_file(cli: RunScript, tmp_path: Path) -> None:
    user = tmp_path / "mine.toml"
    user.write_text("[safety]\nmax_backward_mph = 2.5\n")
    result = cli("--config", str(user), "config")
    assert result.code == 0, result.err
    assert f"safety.max_backward_mph = 2.5  (file {user})" in result.out.splitlines()


def test_config_refuses_a_bad_setting_with_one_line(retrotread: RunScript) -> None:
    result = retrotread("config", env={"RETROTREAD_SAFETY__MAX_BACKWARD_MPH": "3.5"})
    assert result.code == 2
    assert "max_backward_mph" in result.error_line()


def test_programs_checks_a_plan_file(cli: RunScript, tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[[segments]]\nname = "a"\nduration_s = 20\ntarget_mph = 1.0\n')
    result = cli("programs", str(good), "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["segments"][0]["target_mph"] == 1.0
    bad = tmp_path / "bad.toml"
    bad.write_text('[[segments]]\nname = "a"\nduration_s = 20\ntarget_mph = 9.0\n')
    result = cli("programs", str(bad))
    assert result.code == 2
    assert "segments[0].target_mph" in result.error_line()
