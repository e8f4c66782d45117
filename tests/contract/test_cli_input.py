"""Bad input exits 2 with one actionable line and nothing starts; the band is refused, not
clamped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.support.cli import CONSOLE_SCRIPT, FAST, Outcome, RunScript, Sandbox
from tests.support.schema import check_session, of_kind


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


# --- input refused before anything connects (exit 2, one line, no journal) ---------------------


def refused_before_connecting(result: Outcome, sandbox: Sandbox, *named: str) -> str:
    """Exit 2, one stderr line naming every `named`, no traceback, no event, no journal."""
    assert result.code == 2, result.err
    line = result.error_line()
    for text in named:
        assert text in line, line
    assert result.out == ""  # --json: not even a `connected` event
    assert not sandbox.sessions_dir.exists()
    return line


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["--max-speed", "0.5"], {}, ["--max-speed = 0.5", ">= 0.6 mph"]),
        (
            [],
            {"RETROTREAD_SAFETY__MAX_BACKWARD_MPH": "0.5"},
            ["RETROTREAD_SAFETY__MAX_BACKWARD_MPH", ">= 0.6 mph"],
        ),
        (
            [],
            {"RETROTREAD_SAFETY__MIN_BACKWARD_MPH": "3.0"},
            ["RETROTREAD_SAFETY__MIN_BACKWARD_MPH", "<= 2.9 mph"],
        ),
        (
            ["--program", "intervals"],
            {
                "RETROTREAD_SAFETY__MIN_BACKWARD_MPH": "2.5",
                "RETROTREAD_SAFETY__FORWARD_MAX_MPH": "2.0",
            },
            ["RETROTREAD_SAFETY__FORWARD_MAX_MPH", "forward_max_mph = 2.0", ">= 2.6 mph"],
        ),
        (
            ["--max-speed", "1.0"],
            {"RETROTREAD_SAFETY__MIN_BACKWARD_MPH": "0.95"},
            ["--max-speed = 1.0", ">= 1.05 mph", "RETROTREAD_SAFETY__MIN_BACKWARD_MPH"],
        ),
    ],
    ids=["max-speed", "env-ceiling", "env-floor", "forward-ceiling", "max-speed-vs-env-floor"],
)
def test_a_band_narrower_than_0_1_mph_is_refused_before_connecting(
    retrotread: RunScript,
    sandbox: Sandbox,
    args: list[str],
    env: dict[str, str],
    named: list[str],
) -> None:
    result = retrotread("run", "--sim", "--json", *args, *FAST, env=env)
    refused_before_connecting(result, sandbox, *named)


def test_a_band_exactly_0_1_mph_wide_runs(retrotread: RunScript, sandbox: Sandbox) -> None:
    plan = sandbox.plan('[[segments]]\nname = "a"\nduration_s = 20\ntarget_mph = 1.0\n')
    result = retrotread(
        "run", "--sim", "--json", "--plan", str(plan), "--max-speed", "1.1", *FAST,
        env={"RETROTREAD_SAFETY__MIN_BACKWARD_MPH": "1.0"},
    )  # fmt: skip
    assert result.code == 0, result.err


def test_a_low_forward_ceiling_does_not_stop_a_backward_only_plan(
    retrotread: RunScript,
) -> None:
    result = retrotread(
        "run", "--sim", "--json", *FAST, env={"RETROTREAD_SAFETY__FORWARD_MAX_MPH": "0.5"}
    )
    assert result.code == 0, result.err


@pytest.mark.parametrize("value", ["1e-9", "inf", "-inf", "nan", "1e6", "0.0009"])
def test_a_time_scale_outside_its_range_is_refused_naming_the_range(
    retrotread: RunScript, sandbox: Sandbox, value: str
) -> None:
    result = retrotread("run", "--sim", "--json", "--time-scale", value)
    refused_before_connecting(result, sandbox, "--time-scale", "0.001..100000")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"RETROTREAD_SAFETY": "{not json"}, ["RETROTREAD_SAFETY", "JSON object"]),
        ({"RETROTREAD_DEVICE__QUIRKS": "foo"}, ["RETROTREAD_DEVICE__QUIRKS", "JSON list"]),
        ({"RETROTREAD_DEVICE__QUIRKS": '["foo"]'}, ["RETROTREAD_DEVICE__QUIRKS", "quirks[0]"]),
        (
            {"RETROTREAD_SAFTEY__MAX_BACKWARD_MPH": "2.0"},
            ["RETROTREAD_SAFTEY__MAX_BACKWARD_MPH", "did you mean RETROTREAD_SAFETY__MAX_BACKWARD"],
        ),
        (
            {"RETROTREAD_SAFETY_MAX_BACKWARD_MPH": "2.0"},
            ["RETROTREAD_SAFETY_MAX_BACKWARD_MPH", "did you mean RETROTREAD_SAFETY__MAX_BACKWARD"],
        ),
        ({"RETROTREAD_SIM__PROFILE": "nope"}, ["RETROTREAD_SIM__PROFILE", "sim.profile = nope"]),
        ({"RETROTREAD_MQTT__ENABLED": "maybe"}, ["RETROTREAD_MQTT__ENABLED", "true or false"]),
        ({"RETROTREAD_SAFETY__MAX_BACKWARD_MPH": "true"}, ["RETROTREAD_SAFETY__MAX", "number"]),
    ],
    ids=[
        "section-not-json",
        "quirks-not-json",
        "unknown-quirk",
        "misspelled-section",
        "single-underscore",
        "env-profile",
        "env-bool",
        "env-bool-as-number",
    ],
)
def test_a_bad_environment_is_blamed_on_the_variable(
    retrotread: RunScript, sandbox: Sandbox, env: dict[str, str], named: list[str]
) -> None:
    result = retrotread("run", "--sim", "--json", *FAST, env=env)
    line = refused_before_connecting(result, sandbox, *named)
    assert "default.toml" not in line
    assert "--sim-profile" not in line


def test_environment_strings_still_set_booleans_and_numbers(
    retrotread: RunScript, sandbox: Sandbox
) -> None:
    plan = sandbox.plan('[[segments]]\nname = "a"\nduration_s = 20\ntarget_mph = 2.5\n')
    result = retrotread(
        "run", "--sim", "--json", "--plan", str(plan), *FAST,
        env={"RETROTREAD_MQTT__DISCOVERY": "false", "RETROTREAD_SAFETY__MAX_BACKWARD_MPH": "2"},
    )  # fmt: skip
    assert result.code == 0, result.err
    speeds = [c["mph"] for c in of_kind(result.events(), "command") if c["op"] == "set_speed"]
    assert max(speeds) <= 2.0


@pytest.mark.parametrize("target", ["proc", "file"])
def test_a_data_dir_that_cannot_hold_journals_is_refused_before_connecting(
    retrotread: RunScript, sandbox: Sandbox, target: str
) -> None:
    if target == "proc":
        data_dir = "/proc/retrotread-test"
    else:
        data_dir = str(sandbox.plan("not a directory\n", name="a-file"))
    result = retrotread("run", "--sim", "--json", *FAST, env={"RETROTREAD_DATA_DIR": data_dir})
    assert result.code == 2, result.err
    line = result.error_line()
    assert "RETROTREAD_DATA_DIR" in line
    assert data_dir in line
    assert result.out == ""


# --- files that are no plan or config --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "named"),
    [
        ("deep.json", '{"segments": ' + "[" * 5000 + "]" * 5000 + "}", "nested more than 32"),
        ("deep.toml", "segments = " + "[" * 5000 + "]" * 5000, "nested more than 32"),
        ("bin.toml", "\x00\x01\x02binary", "invalid TOML"),
        ("big.toml", "# pad\n" * 200_000, "larger than 1 MiB"),
        ("true.toml", '[[segments]]\nname = "a"\nduration_s = 20\ntarget_mph = true\n', "true"),
    ],
)
def test_a_plan_that_is_no_plan_is_one_line(
    retrotread: RunScript, sandbox: Sandbox, name: str, content: str, named: str
) -> None:
    plan = sandbox.plan(content, name=name)
    result = retrotread("run", "--sim", "--json", "--plan", str(plan), *FAST)
    refused_before_connecting(result, sandbox, str(plan), named)


def test_an_endless_plan_is_refused_without_reading_it(
    retrotread: RunScript, sandbox: Sandbox
) -> None:
    result = retrotread("run", "--sim", "--json", "--plan", "/dev/zero", *FAST, timeout=20)
    refused_before_connecting(result, sandbox, "/dev/zero", "not a regular file")


def test_a_fifo_plan_is_refused_without_waiting_for_a_writer(
    retrotread: RunScript, sandbox: Sandbox
) -> None:
    fifo = sandbox.root / "plan.toml"
    os.mkfifo(fifo)
    result = retrotread("run", "--sim", "--json", "--plan", str(fifo), *FAST, timeout=20)
    refused_before_connecting(result, sandbox, str(fifo), "a pipe")


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (b"[safety]\nmax_backward_mph = 2.0\n\xff\xfe\n", "not UTF-8"),
        (bytes(range(256)) * 8, "not UTF-8"),
        (b"a = " + b"{b = " * 3000 + b"1" + b"}" * 3000, "nested more than 32"),
        (b"[safety]\nmax_backward_mph = true\n", "safety.max_backward_mph = true"),
        (b'[mqtt]\nenabled = "yes"\n', 'mqtt.enabled = "yes": must be true or false'),
        (b'[mqtt]\nid = "' + b"a" * 70_000 + b'"\n', "65535 bytes"),
        (b'[mqtt]\nbase_topic = "' + b"t" * 70_000 + b'"\n', "mqtt.base_topic"),
    ],
    ids=["non-utf8", "binary", "deep", "bool-as-number", "string-as-bool", "long-id", "long-base"],
)
def test_a_config_that_is_no_config_is_one_line(
    retrotread: RunScript, sandbox: Sandbox, content: bytes, named: str
) -> None:
    config = sandbox.root / "config.toml"
    config.write_bytes(content)
    result = retrotread("--config", str(config), "run", "--sim", "--json", *FAST)
    line = refused_before_connecting(result, sandbox, str(config), named)
    assert len(line) < 400


def test_a_misspelled_secret_is_not_echoed(retrotread: RunScript, sandbox: Sandbox) -> None:
    config = sandbox.plan('[mqtt]\npasswd = "hunter2"\n', name="config.toml")
    result = retrotread("--config", str(config), "run", "--sim", "--json", *FAST)
    line = refused_before_connecting(result, sandbox, "mqtt.passwd", "unknown key")
    assert "hunter2" not in result.err + line


def test_a_fifo_config_is_refused_by_every_command(retrotread: RunScript, sandbox: Sandbox) -> None:
    fifo = sandbox.root / "config.toml"
    os.mkfifo(fifo)
    result = retrotread("--config", str(fifo), "programs", timeout=20)
    assert result.code == 2
    assert "a pipe" in result.error_line()


# --- Ctrl-C before a command has started -----------------------------------------------------

_INTERRUPT_WHILE_LOADING = """
import sys

class InterruptOnImport:
    # Ctrl-C landing while the typer app and pydantic load: the first tenth of a second.
    def find_spec(self, name, path=None, target=None):
        if name == "retrotread.cli.app":
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, InterruptOnImport())
sys.argv = ["retrotread", "run", "--sim"]
from retrotread.cli import main
main()
"""


def test_ctrl_c_while_loading_is_one_line_and_exit_130(sandbox: Sandbox) -> None:
    """130 (128 + SIGINT) is what a shell and SPEC call "interrupted by Ctrl-C"; 2 would claim
    bad input, which it was not. Nothing had started, so there is nothing to stop."""
    done = subprocess.run(
        [sys.executable, "-c", _INTERRUPT_WHILE_LOADING],
        capture_output=True,
        text=True,
        env=sandbox.env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 130
    assert done.stderr == "retrotread: interrupted\n"
    assert not sandbox.sessions_dir.exists()


def test_ctrl_c_right_after_launch_never_prints_a_traceback(sandbox: Sandbox) -> None:
    """Whenever it lands: before Python handles signals (killed by SIGINT, silently), while
    loading (130, one line) or in the session (belt stopped, 130)."""
    process = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "run", "--sim", "--time-scale", "1"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=sandbox.env,
        text=True,
    )
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode in (130, -signal.SIGINT), err
    assert "Traceback" not in err
