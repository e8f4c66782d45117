"""Stopping a running session from outside: `retrotread stop` (exit 0, session exit 3, estop) and
Ctrl-C (exit 130 after the belt stopped). The session runs in its own process, as a person's
would."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import LONG_PLAN, RunScript, Sandbox, session_under_way
from tests.support.schema import check_session, only


@pytest.fixture
def running_session(sandbox: Sandbox) -> Iterator[subprocess.Popen[str]]:
    """A simulated session at 10x, read up to its first telemetry (the belt is moving)."""
    started = False  # telemetry flows during the walker's countdown, before the Start

    def moving(line: str) -> bool:
        nonlocal started
        event = json.loads(line)
        kind: str = event["event"]
        started = started or (kind == "command" and event["op"] == "start")
        return started and kind == "telemetry"

    with session_under_way(sandbox, ("--json", "--time-scale", "10"), moving) as process:
        yield process


def rest_of(process: subprocess.Popen[str]) -> tuple[int, list[dict[str, Any]], str]:
    out, err = process.communicate(timeout=60)
    return process.returncode, [json.loads(line) for line in out.splitlines()], err


def test_stop_acknowledges_and_the_session_ends_with_estop(
    retrotread: RunScript, sandbox: Sandbox, running_session: subprocess.Popen[str]
) -> None:
    stop = retrotread("stop")
    assert stop.code == 0, stop.err
    assert "mph" in stop.out + stop.err  # the belt speed the session last saw
    code, tail, err = rest_of(running_session)
    assert code == 3
    assert only(tail, "stopped")["reason"] == "estop"
    assert tail[-1]["outcome"] == "stopped"
    assert "Traceback" not in err
    journal = sandbox.sessions_dir / f"{tail[-1]['session']}.jsonl"
    check_session([json.loads(line) for line in journal.read_text().splitlines()])


def test_ctrl_c_stops_the_belt_then_exits_130(
    sandbox: Sandbox, running_session: subprocess.Popen[str]
) -> None:
    running_session.send_signal(signal.SIGINT)
    code, tail, err = rest_of(running_session)
    assert code == 130
    stopped = only(tail, "stopped")
    assert stopped["reason"] == "interrupted"
    assert any(e["event"] == "command" and e["op"] == "stop" for e in tail)
    assert tail[-1]["event"] == "summary"
    assert "Traceback" not in err


def ask(socket_path: Path, *requests: dict[str, Any]) -> list[dict[str, Any]]:
    """Line-delimited JSON over the session's Unix socket, one answer per request."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(30)
        client.connect(str(socket_path))
        client.sendall(b"".join(json.dumps(r).encode() + b"\n" for r in requests))
        client.shutdown(socket.SHUT_WR)
        with client.makefile("r") as answers:
            return [json.loads(line) for line in answers]


def test_the_control_socket_answers_status_refuses_starting_and_stops(
    sandbox: Sandbox, runtime_dir: Path, running_session: subprocess.Popen[str]
) -> None:
    sockets = list((runtime_dir / "retrotread").glob("*.sock"))
    assert len(sockets) == 1
    assert (runtime_dir / "retrotread").stat().st_mode & 0o077 == 0  # only its user may enter
    status, start, stop = ask(sockets[0], {"cmd": "status"}, {"cmd": "start"}, {"cmd": "stop"})
    assert status["ok"] is True
    assert status["state"] == "running"
    assert start["ok"] is False  # nothing remote starts the belt
    assert stop["ok"] is True
    code, tail, _ = rest_of(running_session)
    assert code == 3
    assert only(tail, "stopped")["reason"] == "estop"


def test_a_broker_that_is_down_never_affects_the_belt(
    cli: RunScript, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETROTREAD_MQTT__URL", "mqtt://127.0.0.1:9")
    plan = sandbox.plan('[[segments]]\nname = "a"\nduration_s = 10\ntarget_mph = 0.8\n')
    result = cli("run", "--sim", "--mqtt", "--plan", str(plan), "--json", "--time-scale", "100000")
    assert result.code == 0, result.err
    events = result.events()
    check_session(events)
    assert only(events, "stopped")["reason"] == "completed"


# --- a session that `retrotread stop` could not reach must not start the belt --------------------

NOBODY = 65534


def _refuse_control_dir(runtime_dir: Path, kind: str) -> tuple[Path, str]:
    """Make `<runtime dir>/retrotread` unusable as `kind` says; return it and the fix expected."""
    directory = runtime_dir / "retrotread"
    if kind.startswith("mode "):
        directory.mkdir()
        directory.chmod(int(kind.removeprefix("mode "), 8))
        return directory, f"fix: chmod 700 {directory}"
    if kind == "symlink":
        elsewhere = runtime_dir / "elsewhere"
        elsewhere.mkdir(mode=0o700)
        directory.symlink_to(elsewhere)
        return directory, f"fix: remove it (rm {directory})"
    if kind == "regular file":
        directory.write_text("")
        return directory, f"fix: remove it (rm {directory})"
    assert kind == "another owner"
    if os.getuid() != 0:
        pytest.skip("needs root to chown")
    directory.mkdir(mode=0o700)
    os.chown(directory, NOBODY, NOBODY)
    return directory, f"fix: have it removed (rm -r {directory}"


@pytest.mark.parametrize(
    "kind", ["mode 755", "mode 777", "symlink", "regular file", "another owner"]
)
def test_a_refused_control_directory_exits_4_before_anything_moves(
    retrotread: RunScript, sandbox: Sandbox, runtime_dir: Path, kind: str
) -> None:
    """A session that `retrotread stop` could not reach must not start the belt."""
    directory, fix = _refuse_control_dir(runtime_dir, kind)
    plan = sandbox.plan(LONG_PLAN)
    result = retrotread("run", "--sim", "--plan", str(plan), "--json", "--time-scale", "100000")
    assert result.code == 4, result.err
    line = result.error_line()
    assert str(directory) in line
    assert fix in line
    assert "belt was not started" in line
    assert result.out == ""  # not even `connected`: nothing was reached, nothing moved
    assert list(sandbox.sessions_dir.glob("*.jsonl")) == []  # no empty journal either


def test_a_control_socket_that_cannot_be_created_exits_4_too(
    retrotread: RunScript, sandbox: Sandbox
) -> None:
    """Any reason the socket cannot be served means `stop` could not reach the session: here
    no runtime dir and a temp dir in which nothing can be created."""
    plan = sandbox.plan(LONG_PLAN)
    result = retrotread(
        "run",
        "--sim",
        "--plan",
        str(plan),
        "--json",
        "--time-scale",
        "100000",
        env={"XDG_RUNTIME_DIR": "", "TMPDIR": "/proc"},
    )
    assert result.code == 4, result.err
    line = result.error_line()
    assert f"/proc/retrotread-{os.getuid()}" in line
    assert "belt was not started" in line
    assert result.out == ""
