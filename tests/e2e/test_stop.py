"""`retrotread stop` end to end: real processes, real sockets, a simulated session elsewhere.

Synchronisation is on the run's JSON events (read by a thread into a queue), never on sleeps.
The tests that need `retrotread run --sim` skip with a reason until that command exists.
"""

from __future__ import annotations

import json
import os
import queue
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.support.other_uid import NOBODY, connect_as

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
RETROTREAD = REPO / ".venv" / "bin" / "retrotread"
TIME_SCALE = "50"
EVENT_TIMEOUT_S = 60.0
LONG_PLAN = '[[segments]]\nname = "long"\nduration_s = 3600\ntarget_mph = 1.0\n'

Event = dict[str, Any]


@cache
def run_command_problem() -> str | None:
    """Why `retrotread run --sim` cannot be used yet (None once it can)."""
    probe = subprocess.run(
        [str(RETROTREAD), "run", "--help"], capture_output=True, text=True, timeout=60
    )
    if probe.returncode != 0 or "--sim" not in probe.stdout:
        return "`retrotread run --sim` is not available"
    return None


@pytest.fixture
def needs_run() -> None:
    problem = run_command_problem()
    if problem is not None:
        pytest.skip(problem)


@pytest.fixture
def env() -> Iterator[dict[str, str]]:
    """An environment with its own control-socket dir and journal (short path: socket limit)."""
    root = Path(tempfile.mkdtemp(prefix="rte-"))
    environ = dict(os.environ)
    environ["XDG_RUNTIME_DIR"] = str(root)
    environ["RETROTREAD_DATA_DIR"] = str(root / "data")
    environ.pop("RETROTREAD_MQTT__URL", None)
    yield environ
    shutil.rmtree(root, ignore_errors=True)


def socket_dir(env: dict[str, str]) -> Path:
    return Path(env["XDG_RUNTIME_DIR"]) / "retrotread"


class RunProcess:
    """`retrotread run --sim --json` in a subprocess; its events arrive on a queue."""

    def __init__(self, env: dict[str, str], *extra: str) -> None:
        self.events: list[Event] = []
        self._queue: queue.Queue[Event | None] = queue.Queue()
        self.proc = subprocess.Popen(
            [str(RETROTREAD), "run", "--sim", "--json", "--time-scale", TIME_SCALE, *extra],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.strip():
                self._queue.put(json.loads(line))
        self._queue.put(None)

    def wait_for(self, predicate: Callable[[Event], bool]) -> Event:
        """The next event matching `predicate` (every event seen is kept in `self.events`)."""
        while True:
            event = self._queue.get(timeout=EVENT_TIMEOUT_S)
            if event is None:
                raise AssertionError(f"run ended before the expected event: {self.events[-5:]}")
            self.events.append(event)
            if predicate(event):
                return event

    def wait_until_walking(self) -> None:
        self.wait_for(lambda e: e["event"] == "telemetry" and e["speed_mph"] > 0)

    def finish(self) -> int:
        """Drain the remaining events and return the exit code."""
        while (event := self._queue.get(timeout=EVENT_TIMEOUT_S)) is not None:
            self.events.append(event)
        return self.proc.wait(timeout=EVENT_TIMEOUT_S)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def runs(env: dict[str, str]) -> Iterator[Callable[..., RunProcess]]:
    started: list[RunProcess] = []

    def start(*extra: str) -> RunProcess:
        run = RunProcess(env, *extra)
        started.append(run)
        return run

    yield start
    for run in started:
        run.kill()


def retrotread_stop(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RETROTREAD), "stop", *args], env=env, capture_output=True, text=True, timeout=60
    )


def session_socket(env: dict[str, str]) -> Path:
    (path,) = socket_dir(env).glob("*.sock")
    return path


def exchange(path: Path, payload: bytes) -> list[Event]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(30)
        sock.connect(str(path))
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return [json.loads(line) for line in data.splitlines()]


def assert_stopped_by_estop(run: RunProcess) -> None:
    assert run.finish() == 3
    stopped = [e for e in run.events if e["event"] == "stopped"]
    assert [e["reason"] for e in stopped] == ["estop"]
    stop_commands = [e for e in run.events if e["event"] == "command" and e["op"] == "stop"]
    assert stop_commands, "the stop command is missing from the run's events"
    assert stop_commands[0]["result"] == "success"
    after_stop = run.events[run.events.index(stop_commands[0]) :]
    belt = [e["speed_mph"] for e in after_stop if e["event"] == "telemetry"]
    assert stopped[0]["belt_mph"] == 0 or (belt and belt[-1] == 0), "the belt never reached 0"


# --- without a session ---------------------------------------------------------------------------


def test_no_session_running_exits_1_with_one_line_saying_where_it_looked(
    env: dict[str, str],
) -> None:
    uid = os.getuid()
    result = retrotread_stop(env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"retrotread: no session running (looked in {socket_dir(env)},"
        f" /run/user/{uid}/retrotread, /tmp/retrotread-{uid})\n"
    )


def test_a_stale_socket_is_removed_and_exits_1(env: dict[str, str]) -> None:
    directory = socket_dir(env)
    directory.mkdir(mode=0o700)
    stale = directory / "crashed-session.sock"
    leftover = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    leftover.bind(str(stale))
    leftover.close()
    result = retrotread_stop(env)
    assert result.returncode == 1
    assert "no session running" in result.stderr
    assert "removed 1 stale control socket" in result.stderr
    assert not stale.exists()


def test_stop_help_names_the_variants(env: dict[str, str]) -> None:
    result = retrotread_stop(env, "--help")
    assert result.returncode == 0
    for option in ("--device", "--sim", "--mqtt", "--id", "--all"):
        assert option in result.stdout


def test_id_without_mqtt_is_bad_input(env: dict[str, str]) -> None:
    result = retrotread_stop(env, "--id", "kitchen")
    assert result.returncode == 2
    assert result.stderr.startswith("retrotread: error: --id and --all go with --mqtt")


def test_stop_sim_connects_and_stops_the_simulated_treadmill(env: dict[str, str]) -> None:
    result = retrotread_stop(env, "--sim")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "retrotread: stopped RetroTread SIM (belt at 0.0 mph)\n"


def test_stop_sim_with_an_unknown_profile_is_bad_input(env: dict[str, str]) -> None:
    result = retrotread_stop(env, "--sim", "--sim-profile", "no-such-profile")
    assert result.returncode == 2
    assert result.stderr.startswith("retrotread: error: ")
    assert "Traceback" not in result.stderr


def test_stop_device_that_cannot_be_reached_exits_4(env: dict[str, str]) -> None:
    result = retrotread_stop(env, "--device", "AA:BB:CC:DD:EE:FF")
    assert result.returncode == 4
    assert result.stderr.startswith("retrotread: error: ")
    assert len(result.stderr.splitlines()) == 1


def test_stop_mqtt_with_the_broker_down_exits_4(env: dict[str, str]) -> None:
    env["RETROTREAD_MQTT__URL"] = "mqtt://127.0.0.1:9"
    result = retrotread_stop(env, "--mqtt", "--all", "--timeout", "2")
    assert result.returncode == 4
    assert result.stderr.startswith("retrotread: error: MQTT broker")


# --- against real sessions -----------------------------------------------------------------------


@pytest.mark.usefixtures("needs_run")
def test_stop_ends_a_running_session_with_estop(
    env: dict[str, str], runs: Callable[..., RunProcess]
) -> None:
    run = runs()
    run.wait_until_walking()
    result = retrotread_stop(env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("retrotread: stopped session ")
    assert "mph" in result.stdout
    assert_stopped_by_estop(run)
    assert list(socket_dir(env).glob("*.sock")) == []  # the session removed its socket


@pytest.mark.usefixtures("needs_run")
def test_stop_reaches_two_sessions_at_once(
    env: dict[str, str], runs: Callable[..., RunProcess]
) -> None:
    first, second = runs(), runs()
    first.wait_until_walking()
    second.wait_until_walking()
    result = retrotread_stop(env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("retrotread: stopped session ") == 2
    assert_stopped_by_estop(first)
    assert_stopped_by_estop(second)


@pytest.mark.usefixtures("needs_run")
def test_status_and_garbage_on_the_socket_of_a_running_session(
    env: dict[str, str], runs: Callable[..., RunProcess]
) -> None:
    run = runs("--program", "first-steps")
    run.wait_until_walking()
    answers = exchange(session_socket(env), b'nonsense\n{"cmd": "start"}\n[]\n{"cmd": "status"}\n')
    assert [a["ok"] for a in answers] == [False, False, False, True]
    status = answers[-1]
    assert status["state"] == "running"
    assert status["program"] == "first-steps"
    assert status["segment"]
    assert status["belt_mph"] > 0
    assert status["elapsed_s"] > 0
    # The garbage changed nothing: still walking afterwards, nothing stopped.
    run.wait_until_walking()
    assert not any(e["event"] in {"stopped", "safety"} for e in run.events)
    assert retrotread_stop(env).returncode == 0
    assert_stopped_by_estop(run)


@pytest.mark.usefixtures("needs_run")
def test_another_uid_is_refused_and_the_session_goes_on(
    env: dict[str, str], runs: Callable[..., RunProcess]
) -> None:
    if os.getuid() != 0:
        pytest.skip("switching to another uid needs root")
    run = runs()
    run.wait_until_walking()
    path = session_socket(env)
    assert connect_as(NOBODY, path, b'{"cmd": "stop"}\n') == "permission-denied"
    # Second barrier: even with the files opened up, the peer's uid is checked.
    Path(env["XDG_RUNTIME_DIR"]).chmod(0o711)
    path.parent.chmod(0o711)
    path.chmod(0o666)
    assert connect_as(NOBODY, path, b'{"cmd": "stop"}\n') == "closed"
    run.wait_until_walking()
    assert not any(e["event"] in {"stopped", "safety"} for e in run.events)
    Path(env["XDG_RUNTIME_DIR"]).chmod(0o700)  # else `stop` rightly distrusts the directory
    path.parent.chmod(0o700)
    assert retrotread_stop(env).returncode == 0
    assert_stopped_by_estop(run)


@pytest.mark.usefixtures("needs_run")
def test_a_killed_session_leaves_a_stale_socket_that_stop_removes(
    env: dict[str, str], runs: Callable[..., RunProcess]
) -> None:
    run = runs()
    run.wait_until_walking()
    path = session_socket(env)
    run.kill()
    assert path.exists()
    result = retrotread_stop(env)
    assert result.returncode == 1
    assert "removed 1 stale control socket" in result.stderr
    assert not path.exists()


# --- stop reaches every place, is not held up, cannot be locked out ----------------------------


@pytest.fixture
def root(env: dict[str, str]) -> Path:
    """The fixture's private directory, for the other places a session or a shell may use."""
    return Path(env["XDG_RUNTIME_DIR"])


def private(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True)
    return path


def run_in(environ: dict[str, str], *extra: str) -> RunProcess:
    run = RunProcess(environ, *extra)
    run.wait_until_walking()
    return run


@pytest.mark.usefixtures("needs_run")
def test_stop_with_a_runtime_dir_reaches_a_session_started_without_one(
    env: dict[str, str], root: Path
) -> None:
    """The session had no XDG_RUNTIME_DIR (its socket is in the private temp dir); the shell
    typing `stop` has one, elsewhere."""
    temp = private(root / "tmp")
    session_env = {k: v for k, v in env.items() if k != "XDG_RUNTIME_DIR"} | {"TMPDIR": str(temp)}
    run = run_in(session_env)
    try:
        assert list((temp / f"retrotread-{os.getuid()}").glob("*.sock"))
        shell = env | {"XDG_RUNTIME_DIR": str(private(root / "other")), "TMPDIR": str(temp)}
        result = retrotread_stop(shell)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("retrotread: stopped session ")
        assert_stopped_by_estop(run)
    finally:
        run.kill()


STOP_WITH_RUN_USER_AT = (
    "import sys\n"
    "from retrotread.channels.socket import paths as control_paths\n"
    "control_paths.RUN_USER_ROOT = sys.argv.pop(1)\n"
    "from retrotread.cli import main\n"
    "main()\n"
)


@pytest.mark.usefixtures("needs_run")
def test_stop_without_a_runtime_dir_reaches_a_session_in_the_login_one(
    env: dict[str, str], root: Path
) -> None:
    """The session runs under the login's runtime dir (/run/user/<uid>, here moved into the
    fixture's directory); the shell typing `stop` (sudo, a cron job) has no XDG_RUNTIME_DIR."""
    run_user = root / "run-user"
    login = private(run_user / str(os.getuid()))
    run = run_in(env | {"XDG_RUNTIME_DIR": str(login)})
    try:
        shell = {k: v for k, v in env.items() if k != "XDG_RUNTIME_DIR"}
        result = subprocess.run(
            [sys.executable, "-c", STOP_WITH_RUN_USER_AT, str(run_user), "stop"],
            env=shell,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("retrotread: stopped session ")
        assert_stopped_by_estop(run)
    finally:
        run.kill()


@pytest.mark.usefixtures("needs_run")
def test_a_silent_session_does_not_hold_up_stop(
    env: dict[str, str], runs: Callable[..., RunProcess]
) -> None:
    """A process that accepts on a control socket and never answers: `stop` reports the live
    session's acknowledgement without waiting out its deadline, and names the silent one."""
    run = runs()
    run.wait_until_walking()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as hung:
        hung.bind(str(socket_dir(env) / "0-hung.sock"))  # sorts first: read first
        hung.listen(8)
        started = time.monotonic()
        result = retrotread_stop(env)
        elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("retrotread: stopped session 2") for line in lines), lines
    assert any("session 0-hung did not acknowledge" in line for line in lines), lines
    assert elapsed < 3.0, f"stop took {elapsed:.1f} s"
    assert_stopped_by_estop(run)


@pytest.mark.usefixtures("needs_run")
def test_a_stop_without_its_newline_stops_a_running_session(
    env: dict[str, str], runs: Callable[..., RunProcess]
) -> None:
    run = runs()
    run.wait_until_walking()
    (answer,) = exchange(session_socket(env), b'{"cmd": "stop"}')
    assert answer["ok"] is True
    assert answer["acknowledged"] is True
    assert_stopped_by_estop(run)


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.mark.usefixtures("needs_run")
def test_a_client_holding_every_descriptor_cannot_lock_stop_out(
    env: dict[str, str], root: Path, runs: Callable[..., RunProcess]
) -> None:
    """A same-uid client opens more connections than the session has
    descriptors (its RLIMIT_NOFILE is lowered to a few above what it uses, instead of opening
    1,100 against 1,024). `stop` still gets in, once, and the session says so at most once."""
    plan = root / "long.toml"
    plan.write_text(LONG_PLAN)
    run = runs("--plan", str(plan))
    run.wait_until_walking()
    pid = run.proc.pid
    spare = 10
    limit = open_fds(pid) + spare
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, limit))
    path = str(session_socket(env))
    held: list[socket.socket] = []
    try:
        for _ in range(30 * spare):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.setblocking(False)
            held.append(sock)
            try:
                sock.connect(path)
            except BlockingIOError:  # the backlog is full: the session stopped accepting
                break
        result = retrotread_stop(env)
    finally:
        for sock in held:
            sock.close()
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("retrotread: stopped session ")
    assert_stopped_by_estop(run)
    assert run.proc.stderr is not None
    err = run.proc.stderr.read()
    assert "Traceback" not in err
    assert err.count("cannot accept") <= 1
