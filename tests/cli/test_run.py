"""`retrotread run` from the command line: bad input exits 2 before anything starts; `--json`
gives one event per line on stdout; Ctrl-C and SIGTERM stop the belt first, then exit 130 / 143."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from retrotread.cli.app import run as cli
from retrotread.events import CommandEvent, StoppedEvent, SummaryEvent, parse_event
from tests.support.sessions import SHORT_PLAN
from tests.support.terminal import read_until


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("RETROTREAD_DATA_DIR", str(directory))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no user config
    return directory


@pytest.fixture
def short_plan(tmp_path: Path) -> Path:
    path = tmp_path / "short.toml"
    path.write_text(SHORT_PLAN)
    return path


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("retrotread: error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        ([], ["--sim", "retrotread scan"]),
        (["--device", "AA:BB:CC:DD:EE:FF", "--time-scale", "10"], ["--time-scale"]),
        (["--device", "AA:BB:CC:DD:EE:FF", "--sim-profile", "generic"], ["--sim-profile"]),
        (["--device", "AA:BB:CC:DD:EE:FF", "--sim-fault", "stall@3"], ["--sim-fault"]),
        (["--sim", "--sim-fault", "stall"], ["--sim-fault", "stall"]),
        (["--sim", "--sim-fault", "bogus@3"], ["--sim-fault"]),
        (["--sim", "--time-scale", "0"], ["--time-scale"]),
        (["--sim", "--time-scale", "-2"], ["--time-scale"]),
        (["--sim", "--max-speed", "3.5"], ["--max-speed", "3.5"]),
        (["--sim", "--max-speed", "abc"], ["--max-speed = abc", "number within 0.5..3.0 mph"]),
        (["--sim", "--max-speed", "nan"], ["--max-speed", "0.5..3.0 mph"]),
        (["--sim", "--program", "nope"], ["nope", "first-steps"]),
        (["--sim", "--sim-profile", "nope"], ["--sim-profile", "nope"]),
        (["--sim", "--device", "AA:BB:CC:DD:EE:FF"], ["--device", "--sim"]),
    ],
)
def test_bad_flags_exit_2_with_one_line_and_nothing_starts(
    argv: list[str], names: list[str], data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["run", *argv]) == 2
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    for name in names:
        assert name in line
    assert captured.out == ""
    assert not (data_dir / "sessions").exists()  # no session was even created


def test_a_plan_above_the_band_names_the_field(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "fast.toml"
    plan.write_text(SHORT_PLAN.replace("target_mph = 1.5", "target_mph = 3.5"))
    assert cli(["run", "--sim", "--plan", str(plan)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "segments[1].target_mph" in line
    assert "3.5" in line
    assert not (data_dir / "sessions").exists()


def test_a_bad_config_value_names_the_setting(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RETROTREAD_SAFETY__MAX_BACKWARD_MPH", "3.5")
    assert cli(["run", "--sim"]) == 2
    assert "max_backward_mph" in one_error_line(capsys.readouterr().err)
    assert not (data_dir / "sessions").exists()


def test_sim_json_run_prints_one_event_per_line(
    short_plan: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli(["run", "--sim", "--plan", str(short_plan), "--json", "--time-scale", "100000"])
    captured = capsys.readouterr()
    assert code == 0
    events = [parse_event(line) for line in captured.out.splitlines()]
    assert events[0].event == "connected"
    assert isinstance(events[-1], SummaryEvent)
    assert events[-1].outcome == "completed"
    assert "{" not in captured.err  # human lines only on stderr
    assert "Program complete." in captured.err.splitlines()
    journal = data_dir / "sessions" / f"{events[-1].session}.jsonl"
    assert journal.read_text().splitlines() == captured.out.splitlines()


def _retrotread() -> list[str]:
    return [sys.executable, "-c", "from retrotread.cli import main; main()"]


def test_real_device_without_terminal_or_yes_refuses(tmp_path: Path, data_dir: Path) -> None:
    done = subprocess.run(
        [*_retrotread(), "run", "--device", "AA:BB:CC:DD:EE:FF"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, "RETROTREAD_DATA_DIR": str(data_dir)},
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--yes" in one_error_line(done.stderr)
    assert not (data_dir / "sessions").exists()


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]
)
def test_a_signal_stops_the_belt_then_exits(
    signum: int, code: int, short_plan: Path, data_dir: Path
) -> None:
    process = subprocess.Popen(
        [*_retrotread(), "run", "--sim", "--plan", str(short_plan), "--json", "--time-scale", "5"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "RETROTREAD_DATA_DIR": str(data_dir)},
    )
    assert process.stdout is not None
    lines = []
    try:
        for line in process.stdout:  # wait (on events, not time) until the belt runs
            lines.append(line)
            if json.loads(line)["event"] == "segment":
                process.send_signal(signum)
                break
        rest, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    events = [parse_event(line) for line in [*lines, *rest.splitlines()]]
    assert process.returncode == code
    stopped = [e for e in events if isinstance(e, StoppedEvent)]
    assert [s.reason for s in stopped] == ["interrupted"]
    stop_commands = [e for e in events if isinstance(e, CommandEvent) and e.op == "stop"]
    assert stop_commands
    assert stop_commands[0].result == "success"
    assert stop_commands[0].t <= stopped[0].t
    assert stopped[0].belt_mph == 0.0
    assert isinstance(events[-1], SummaryEvent)
    assert events[-1].outcome == "stopped"


def test_live_view_on_a_terminal_and_the_space_bar_stops_the_belt(
    short_plan: Path, data_dir: Path
) -> None:
    import pty

    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*_retrotread(), "run", "--sim", "--plan", str(short_plan), "--time-scale", "5"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env={**os.environ, "RETROTREAD_DATA_DIR": str(data_dir), "TERM": "xterm", "COLUMNS": "100"},
    )
    os.close(terminal)
    try:
        screen = read_until(controller, b"1. warm")
        assert b"STOP THE BELT" in screen
        os.write(controller, b" ")
        screen += read_until(controller, b"session ")
        assert process.wait(timeout=60) == 3
    finally:
        process.kill()
        os.close(controller)
    journals = list((data_dir / "sessions").glob("*.jsonl"))
    events = [parse_event(line) for line in journals[0].read_text().splitlines()]
    stopped = [e for e in events if isinstance(e, StoppedEvent)]
    assert [(s.reason, s.source) for s in stopped] == [("estop", "keyboard")]


def test_without_time_scale_the_cli_uses_the_configured_one(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retrotread.run import RunOptions, prepare

    monkeypatch.setenv("RETROTREAD_SIM__TIME_SCALE", "250")
    assert prepare(RunOptions(sim=True, configured_time_scale=True)).time_scale == 250.0
    assert (
        prepare(RunOptions(sim=True, time_scale=3.0, configured_time_scale=True)).time_scale == 3.0
    )
    assert prepare(RunOptions(sim=True)).time_scale is None  # library default: as fast as possible


def test_a_device_without_a_speed_in_the_band_exits_2_without_a_traceback(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The simulated machine's lowest speed (1 km/h = 0.62 mph) is above --max-speed 0.55: a
    foreseeable error found only after connecting, reported in one line like any bad input."""
    argv = ["run", "--sim", "--sim-profile", "min-speed-1kmh", "--max-speed", "0.55"]
    assert cli([*argv, "--time-scale", "1000"]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert [line for line in captured.err.splitlines() if line.startswith("retrotread: error: ")]
    assert "session failed" not in captured.err


CONFIRM_ON_THE_SIMULATOR = """
import asyncio, dataclasses, sys
from pathlib import Path
from retrotread.cli.prompt import confirm_on_terminal
from retrotread.run import RunOptions, prepare, run_prepared

options = RunOptions(
    sim=True, plan_file=Path(sys.argv[1]), control_socket=False, handle_signals=True,
    interactive=True, confirm=confirm_on_terminal,
)
prepared = dataclasses.replace(prepare(options), needs_confirmation=True)
sys.exit(asyncio.run(run_prepared(prepared)).exit_code)
"""


def test_ctrl_c_at_the_start_prompt_exits_130_at_once_and_nothing_moves(
    short_plan: Path, data_dir: Path
) -> None:
    """The real-device prompt, on the simulator: stdin is a pipe nobody writes to, as a walker
    who never presses Enter. Ctrl-C must end the process (no reader left blocking the exit)."""
    process = subprocess.Popen(
        [sys.executable, "-c", CONFIRM_ON_THE_SIMULATOR, str(short_plan)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "RETROTREAD_DATA_DIR": str(data_dir)},
    )
    assert process.stderr is not None
    try:
        read_until(process.stderr.fileno(), b"Press Enter to start the belt")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 130
    finally:
        process.kill()
        assert process.stdin is not None
        process.stdin.close()
        process.stderr.close()
    journals = list((data_dir / "sessions").glob("*.jsonl"))
    events = [parse_event(line) for line in journals[0].read_text().splitlines()]
    assert [(e.reason, e.source) for e in events if isinstance(e, StoppedEvent)] == [
        ("interrupted", "sigint")
    ]
    assert not [e for e in events if isinstance(e, CommandEvent)]  # not even control was taken
