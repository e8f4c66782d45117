"""Bad input exits 2 with one actionable line and nothing starts; the band is refused, not
clamped."""

from __future__ import annotations

import json

import pytest

from tests.contract.conftest import FAST, RunScript, Sandbox
from tests.contract.schema import check_session, of_kind


def test_neither_device_nor_sim_suggests_both_ways_out(retrotread: RunScript) -> None:
    result = retrotread("run")
    assert result.code == 2
    line = result.error_line()
    assert "--sim" in line
    assert "retrotread scan" in line
    assert result.out == ""


@pytest.mark.parametrize("mph", ["3.01", "3.5", "10"])
def test_max_speed_above_the_band_is_refused(cli: RunScript, sandbox: Sandbox, mph: str) -> None:
    result = cli("run", "--sim", "--max-speed", mph, *FAST)
    assert result.code == 2
    line = result.error_line()
    assert "--max-speed" in line
    assert "3.0" in line
    assert not sandbox.sessions_dir.exists()


def test_max_speed_inside_the_band_lowers_the_ceiling(cli: RunScript, sandbox: Sandbox) -> None:
    plan = sandbox.plan('[[segments]]\nname = "top"\nduration_s = 30\ntarget_mph = 3.0\n')
    result = cli("run", "--sim", "--plan", str(plan), "--max-speed", "1.5", "--json", *FAST)
    assert result.code == 0, result.err
    events = result.events()
    check_session(events)
    speeds = [c["mph"] for c in of_kind(events, "command") if c["op"] == "set_speed"]
    assert max(speeds) <= 1.5


@pytest.mark.parametrize(
    ("name", "text", "field"),
    [
        (
            "fast.toml",
            '[[segments]]\nname = "a"\nduration_s = 10\ntarget_mph = 3.1\n',
            "target_mph",
        ),
        (
            "fast.json",
            json.dumps(
                {
                    "segments": [
                        {"name": "a", "duration_s": 10, "target_mph": 1.0},
                        {"name": "b", "duration_s": 10, "target_mph": 4.0},
                    ]
                }
            ),
            "segments[1].target_mph",
        ),
        (
            "range.toml",
            '[[segments]]\nname = "a"\nduration_s = 10\nmin_mph = 1.0\nmax_mph = 3.2\n',
            "max_mph",
        ),
        (
            "typo.toml",
            '[[segments]]\nname = "a"\nduration_s = 10\ntarget_mhp = 1.0\n',
            "target_mhp",
        ),
    ],
)
def test_a_plan_outside_the_band_or_malformed_names_the_field(
    cli: RunScript, sandbox: Sandbox, name: str, text: str, field: str
) -> None:
    plan = sandbox.plan(text, name=name)
    result = cli("run", "--sim", "--plan", str(plan), *FAST)
    assert result.code == 2
    assert field in result.error_line()
    assert not sandbox.sessions_dir.exists()


def test_a_missing_plan_file_is_bad_input(cli: RunScript, sandbox: Sandbox) -> None:
    result = cli("run", "--sim", "--plan", str(sandbox.root / "nope.toml"), *FAST)
    assert result.code == 2
    assert "nope.toml" in result.error_line()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--time-scale", "0"], "--time-scale"),
        (["--time-scale", "-1"], "--time-scale"),
        (["--time-scale", "fast"], "--time-scale"),
        (["--sim-profile", "treadmill-9000"], "treadmill-9000"),
        (["--program", "marathon"], "marathon"),
        (["--device", "AA:BB:CC:DD:EE:FF"], "--device"),
        (["--bogus-flag"], "--bogus-flag"),
    ],
)
def test_bad_run_flags_exit_2(
    cli: RunScript, sandbox: Sandbox, args: list[str], named: str
) -> None:
    result = cli("run", "--sim", *args)
    assert result.code == 2
    assert named in result.error_line()
    assert not sandbox.sessions_dir.exists()


@pytest.mark.parametrize(
    "args", [["--time-scale", "10"], ["--sim-profile", "generic"], ["--sim-fault", "stall@3"]]
)
def test_simulator_flags_need_sim(cli: RunScript, args: list[str]) -> None:
    result = cli("run", "--device", "AA:BB:CC:DD:EE:FF", "--yes", *args)
    assert result.code == 2
    assert args[0] in result.error_line()


def test_a_real_device_without_a_terminal_or_yes_refuses(retrotread: RunScript) -> None:
    result = retrotread("run", "--device", "AA:BB:CC:DD:EE:FF")
    assert result.code == 2
    assert "--yes" in result.error_line()


def test_a_bad_environment_value_names_the_variable_key_and_range(
    cli: RunScript, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETROTREAD_SAFETY__MAX_BACKWARD_MPH", "3.5")
    result = cli("run", "--sim", *FAST)
    assert result.code == 2
    line = result.error_line()
    assert "RETROTREAD_SAFETY__MAX_BACKWARD_MPH" in line
    assert "max_backward_mph" in line
    assert "3.5" in line
    assert "0.5..3.0" in line


@pytest.mark.parametrize("command", [["info", "--sim", "--json"], ["run", "--sim", *FAST]])
def test_every_command_that_reads_config_refuses_a_bad_value(
    cli: RunScript, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("RETROTREAD_SAFETY__MAX_STEP_MPH", "0.9")
    result = cli(*command)
    assert result.code == 2
    assert "max_step_mph" in result.error_line()


def test_a_bad_config_file_names_the_file_and_key(cli: RunScript, sandbox: Sandbox) -> None:
    config = sandbox.plan("[safety]\nmax_backward_mph = 4.0\n", name="config.toml")
    result = cli("--config", str(config), "run", "--sim", *FAST)
    assert result.code == 2
    line = result.error_line()
    assert "config.toml" in line
    assert "max_backward_mph" in line


def test_the_user_config_file_is_read_from_xdg_config_home(
    cli: RunScript, sandbox: Sandbox
) -> None:
    user = sandbox.root / "config" / "retrotread"
    user.mkdir(parents=True)
    (user / "config.toml").write_text("[safety]\nmax_bogus = 1\n")
    result = cli("run", "--sim", *FAST)
    assert result.code == 2
    assert "max_bogus" in result.error_line()


def test_a_config_file_may_narrow_the_band(cli: RunScript, sandbox: Sandbox) -> None:
    config = sandbox.plan("[safety]\nmax_backward_mph = 1.2\n", name="narrow.toml")
    plan = sandbox.plan('[[segments]]\nname = "a"\nduration_s = 20\ntarget_mph = 2.5\n')
    result = cli("--config", str(config), "run", "--sim", "--plan", str(plan), "--json", *FAST)
    assert result.code == 0, result.err
    speeds = [c["mph"] for c in of_kind(result.events(), "command") if c["op"] == "set_speed"]
    assert max(speeds) <= 1.2


def test_a_missing_config_file_is_refused_by_every_command(
    cli: RunScript, sandbox: Sandbox
) -> None:
    result = cli("--config", str(sandbox.root / "missing.toml"), "programs")
    assert result.code == 2
    assert "missing.toml" in result.error_line()
