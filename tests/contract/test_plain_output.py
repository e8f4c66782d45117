"""What a person reads without the live view (issue: the walker's side; SPEC "run").

Without `--json`, the session's lines and its closing summary in words go to stdout, so
`run --sim > session.txt` keeps them, and logs stay on stderr; speeds and distances read in
`[display] units`; a pause is printed, with who paused; the summary says who or what stopped the
session, never a bare `estop`. Sessions whose stdout must be a file, or that take a signal or a
socket request, run the console script in a subprocess; the rest run in-process.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import CONSOLE_SCRIPT, FAST, RunScript, Sandbox, session_under_way
from tests.support.schema import check_session, of_kind

SUMMARY_TAIL = "`retrotread show last` to see more."
TIMEOUT_S = 60


def the_journal(sandbox: Sandbox) -> Path:
    (journal,) = sorted(sandbox.sessions_dir.glob("*.jsonl"))
    return journal


def journal_events(sandbox: Sandbox) -> list[dict[str, object]]:
    return [json.loads(line) for line in the_journal(sandbox).read_text().splitlines()]


def summary_of(out: str) -> list[str]:
    """The summary in words: the lines after the last `[mm:ss]` line."""
    lines = out.splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith("[")) + 1
    assert lines[-1] == SUMMARY_TAIL, lines[-10:]
    return lines[start:]


def test_run_redirected_to_a_file_keeps_the_human_lines_and_logs_stay_on_stderr(
    sandbox: Sandbox,
) -> None:
    output = sandbox.root / "session.txt"
    with output.open("w") as file:
        done = subprocess.run(
            [
                str(CONSOLE_SCRIPT), "run", "--sim", "--time-scale", "1000",
                "--log-format", "json", "-v",
            ],
            stdin=subprocess.DEVNULL, stdout=file, stderr=subprocess.PIPE, text=True,
            env=sandbox.env, timeout=TIMEOUT_S, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    text = output.read_text()
    lines = text.splitlines()
    assert lines[0].startswith("[00:00] connected to ")
    first_segment = next(line for line in lines if "] segment " in line)
    # After the 3 s countdown; the clock of a time-scaled run also counts a little real work.
    assert re.match(r"\[00:0[34]\] segment 1 of 5: ", first_segment), first_segment
    assert any("bpm (treadmill)" in line for line in lines)  # heart rate with its source
    summary = summary_of(text)
    assert summary[0] == "Program complete."
    assert f"  journal     {the_journal(sandbox)}" in summary
    # The logs went to stderr (JSON records with -v), none of them to the file.
    records = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert records
    assert not [line for line in lines if line.startswith("{")]
    assert "Program complete." not in done.stderr


def test_a_stdout_that_is_gone_never_affects_the_belt_and_is_said_once(
    sandbox: Sandbox,
) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [str(CONSOLE_SCRIPT), "run", "--sim", *FAST],
            stdin=subprocess.DEVNULL, stdout=write_end, stderr=subprocess.PIPE, text=True,
            env=sandbox.env, timeout=TIMEOUT_S, check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    said = [line for line in done.stderr.splitlines() if "stdout closed" in line]
    assert len(said) == 1, done.stderr
    events = journal_events(sandbox)
    check_session(events)
    assert events[-1]["outcome"] == "completed"


def test_metric_units_for_the_lines_and_the_summary_while_json_keeps_its_units(
    cli: RunScript, monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox
) -> None:
    monkeypatch.setenv("RETROTREAD_DISPLAY__UNITS", "metric")
    result = cli("run", "--sim", *FAST)
    assert result.code == 0, result.err
    assert "mph" not in result.out
    assert " ft" not in result.out
    assert "segment 4 of 5: top speed, backward at 1.6 km/h for 01:00" in result.out
    summary = summary_of(result.out)
    assert summary[0] == "Program complete."
    average = next(line for line in summary if line.startswith("  backward "))
    assert average.endswith(" km/h on average")
    assert next(line for line in summary if line.startswith("  distance ")).endswith(" m")
    # The journal (the JSON events) keeps SPEC's units.
    telemetry = of_kind(journal_events(sandbox), "telemetry")
    assert {"speed_mph", "speed_kmh"} <= set(telemetry[-1])


@pytest.mark.parametrize(
    ("fault", "cause", "safety_line"),
    [
        ("console-stop@40", "Stopped at the console.", "SAFETY: stop at the console -> stop"),
        (
            "overspeed@40:1.5",
            "Stopped by the supervisor: belt overspeed.",
            "SAFETY: belt overspeed -> stop",
        ),
        ("safety-key@40", "Safety key pulled.", "SAFETY: safety key pulled -> stop"),
    ],
)
def test_the_summary_says_what_stopped_the_session(
    cli: RunScript, fault: str, cause: str, safety_line: str
) -> None:
    result = cli("run", "--sim", "--sim-fault", fault, *FAST)
    assert result.code == 3, result.err
    summary = summary_of(result.out)
    assert summary[0] == cause
    assert any(line.startswith("  time ") and " backward, " in line for line in summary)
    assert any(line.startswith("  heart rate  ") and "bpm" in line for line in summary)
    lines = result.out.splitlines()
    stop_at = next(i for i, line in enumerate(lines) if safety_line in line)
    assert not [line for line in lines[stop_at:] if "] segment " in line]
    assert "estop" not in result.out
    assert "console_stop" not in result.out


@pytest.fixture
def walking(sandbox: Sandbox) -> Iterator[subprocess.Popen[str]]:
    """A long simulated session at 10x without --json, read up to its first segment line."""
    with session_under_way(
        sandbox, ("--time-scale", "10"), lambda line: "] segment 1 of 1: long" in line
    ) as process:
        yield process


def control_socket(sandbox: Sandbox) -> str:
    (path,) = (Path(sandbox.env["XDG_RUNTIME_DIR"]) / "retrotread").glob("*.sock")
    return str(path)


def test_ctrl_c_is_said_in_words_after_the_belt_stopped(
    walking: subprocess.Popen[str],
) -> None:
    walking.send_signal(signal.SIGINT)
    out, err = walking.communicate(timeout=TIMEOUT_S)
    assert walking.returncode == 130, err
    assert "Stopped by you (Ctrl-C); the belt is stopped" in out
    assert summary_of(out)[0] == "Stopped by you (Ctrl-C)."
    assert "interrupted" not in out


def test_a_pause_is_printed_without_a_terminal_with_who_paused(
    sandbox: Sandbox, walking: subprocess.Popen[str]
) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(TIMEOUT_S)
        client.connect(control_socket(sandbox))
        client.sendall(b'{"cmd": "pause"}\n')
        answer = json.loads(client.makefile().readline())
    assert answer["ok"] is True
    assert walking.stdout is not None
    for line in walking.stdout:  # the next line, or one after a telemetry line
        if "PAUSED" in line:
            assert "] PAUSED from another terminal (the control socket): " in line, line
            break
    else:
        pytest.fail("the session ended without printing the pause")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(TIMEOUT_S)
        client.connect(control_socket(sandbox))
        client.sendall(b'{"cmd": "stop"}\n')
        assert json.loads(client.makefile().readline())["ok"] is True
    out, err = walking.communicate(timeout=TIMEOUT_S)
    assert walking.returncode == 3, err
    assert summary_of(out)[0] == "Stopped by `retrotread stop` from another terminal."
