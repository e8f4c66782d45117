"""The local control socket against a real asyncio Unix server, and the stdlib `stop` client.

The session behind the socket is a small SessionControl written here (the protocol is all the
server knows); the end-to-end tests with a real `retrotread run --sim` are in tests/e2e.
Clients that block (the `stop` client, raw sockets, another uid) run in a thread so the server's
loop keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import select
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from retrotread import stop
from retrotread.channels.socket import client as control_client
from retrotread.channels.socket import paths as control_paths
from retrotread.channels.socket import server as control
from retrotread.channels.socket import wire
from retrotread.cli import stop_fast
from retrotread.cli.app import run as cli_run
from retrotread.events import SessionState, StopAck
from tests.support.fake_session import FakeSession
from tests.support.other_uid import NOBODY, connect_as


@pytest.fixture
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private XDG_RUNTIME_DIR per test (short: Unix socket paths are limited to 107 bytes).

    The fixed places `stop` also searches (/run/user and /tmp) move inside it too, so no test
    reaches a session of another test or of the person running them."""
    path = Path(tempfile.mkdtemp(prefix="rt-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(path))
    monkeypatch.delenv("TMPDIR", raising=False)
    for name, root in (("RUN_USER_ROOT", path / "run-user"), ("TEMP_ROOT", path / "tmp")):
        root.mkdir(mode=0o755)
        monkeypatch.setattr(control_paths, name, str(root), raising=False)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def looked_in(runtime_dir: Path) -> str:
    """Where `stop` says it looked, with the `runtime_dir` fixture's environment."""
    uid = os.getuid()
    return (
        f"looked in {runtime_dir}/retrotread, {runtime_dir}/run-user/{uid}/retrotread,"
        f" {runtime_dir}/tmp/retrotread-{uid}"
    )


def exchange(path: Path, *lines: bytes) -> list[dict[str, object]]:
    """Send raw lines on one connection, half-close, return every JSON answer until EOF."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(path))
        for line in lines:
            sock.sendall(line)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return [json.loads(line) for line in data.splitlines()]


def request(path: Path, *lines: bytes, answers: int) -> list[dict[str, object]]:
    """Send lines and read exactly `answers` JSON lines (the connection stays open meanwhile)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(path))
        for line in lines:
            sock.sendall(line)
        data = b""
        while data.count(b"\n") < answers:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return [json.loads(line) for line in data.splitlines()]


# --- the directory rule ------------------------------------------------------------------------


def test_control_dir_uses_a_private_xdg_runtime_dir(runtime_dir: Path) -> None:
    assert control_paths.control_dir() == str(runtime_dir / "retrotread")


def test_control_dir_falls_back_to_a_per_uid_temp_dir(
    monkeypatch: pytest.MonkeyPatch, runtime_dir: Path
) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setenv("TMPDIR", str(runtime_dir))
    assert control_paths.control_dir() == str(runtime_dir / f"retrotread-{os.getuid()}")


def test_control_dir_falls_back_when_the_runtime_dir_is_too_long_for_a_socket(
    monkeypatch: pytest.MonkeyPatch, runtime_dir: Path
) -> None:
    """A socket path over 107 bytes cannot be bound: the session would run unreachable."""
    deep = runtime_dir / ("d" * 90)
    deep.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(deep))
    monkeypatch.setenv("TMPDIR", str(runtime_dir))
    chosen = control_paths.control_dir()
    assert chosen == str(runtime_dir / f"retrotread-{os.getuid()}")
    assert len(control_paths.socket_path(chosen, "20261124T191717Z-310f").encode()) <= 107


def test_control_dir_ignores_a_runtime_dir_others_can_enter(
    monkeypatch: pytest.MonkeyPatch, runtime_dir: Path
) -> None:
    runtime_dir.chmod(0o755)
    monkeypatch.setenv("TMPDIR", str(runtime_dir))
    assert control_paths.control_dir() == str(runtime_dir / f"retrotread-{os.getuid()}")


def test_ensure_control_dir_creates_it_mode_700(runtime_dir: Path) -> None:
    path = Path(control_paths.ensure_control_dir())
    st = path.stat()
    assert stat.S_IMODE(st.st_mode) == 0o700
    assert st.st_uid == os.getuid()


@pytest.mark.parametrize("mode", [0o750, 0o701, 0o777])
def test_ensure_control_dir_refuses_one_others_can_enter(runtime_dir: Path, mode: int) -> None:
    (runtime_dir / "retrotread").mkdir()
    (runtime_dir / "retrotread").chmod(mode)
    with pytest.raises(PermissionError, match="accessible to other users"):
        control_paths.ensure_control_dir()


def test_ensure_control_dir_refuses_one_owned_by_another_uid(runtime_dir: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to chown")
    (runtime_dir / "retrotread").mkdir(mode=0o700)
    os.chown(runtime_dir / "retrotread", NOBODY, NOBODY)
    with pytest.raises(PermissionError, match="owned by uid 65534"):
        control_paths.ensure_control_dir()


def test_ensure_control_dir_refuses_a_symlink(runtime_dir: Path) -> None:
    target = runtime_dir / "elsewhere"
    target.mkdir(mode=0o700)
    (runtime_dir / "retrotread").symlink_to(target)
    with pytest.raises(PermissionError, match="not a directory"):
        control_paths.ensure_control_dir()


async def test_server_refuses_an_insecure_directory(runtime_dir: Path) -> None:
    (runtime_dir / "retrotread").mkdir(mode=0o700)
    (runtime_dir / "retrotread").chmod(0o777)
    with pytest.raises(control.ControlSocketError, match="refusing"):
        async with control.serve_control_socket(FakeSession(), "s1"):
            pass


@pytest.mark.parametrize("bad_id", ["", ".hidden", "a/b", "x y", "../up"])
async def test_server_refuses_a_session_id_that_is_not_a_plain_name(
    runtime_dir: Path, bad_id: str
) -> None:
    with pytest.raises(control.ControlSocketError, match="cannot name"):
        async with control.serve_control_socket(FakeSession(), bad_id):
            pass


# --- serving ------------------------------------------------------------------------------------


async def test_socket_is_private_and_removed_on_exit(runtime_dir: Path) -> None:
    async with control.serve_control_socket(FakeSession(), "s1") as path:
        assert path == runtime_dir / "retrotread" / "s1.sock"
        assert stat.S_ISSOCK(path.lstat().st_mode)
        assert stat.S_IMODE(path.lstat().st_mode) == 0o600
    assert not path.exists()


async def test_serve_session_names_the_socket_after_the_session(runtime_dir: Path) -> None:
    async with control.serve_session(FakeSession("2026-11-24-abc")) as path:
        assert path.name == "2026-11-24-abc.sock"


async def test_a_second_live_session_with_the_same_id_is_refused(runtime_dir: Path) -> None:
    async with control.serve_control_socket(FakeSession(), "s1") as path:
        with pytest.raises(control.ControlSocketError, match="already uses"):
            async with control.serve_control_socket(FakeSession(), "s1"):
                pass
        assert stat.S_ISSOCK(path.lstat().st_mode)  # the first one's socket is untouched


async def test_stop_requests_first_then_answers_with_the_ack(runtime_dir: Path) -> None:
    session = FakeSession()
    async with control.serve_control_socket(session, "s1") as path:
        answers = await asyncio.to_thread(exchange, path, b'{"cmd": "stop", "id": 7}\n')
    assert answers == [
        {
            "ok": True,
            "session": "s1",
            "device": "SIM-TREADMILL",
            "cmd": "stop",
            "id": 7,
            "acknowledged": True,
            "belt_mph": 1.2,
            "detail": "",
        }
    ]
    # The socket latched the stop itself before awaiting the session's acknowledgement.
    assert session.calls[:2] == ["request_stop:control-socket", "stop:control-socket"]


async def test_stop_is_requested_before_the_treadmill_answers(runtime_dir: Path) -> None:
    session = FakeSession(auto_ack=False)
    async with control.serve_control_socket(session, "s1") as path:
        reply = asyncio.ensure_future(asyncio.to_thread(exchange, path, b'{"cmd":"stop"}\n'))
        await session.stop_requested.wait()
        assert not reply.done()  # the answer waits for the treadmill...
        assert session.state is SessionState.stopping  # ...but the stop is already under way
        session.treadmill_answered.set()
        answers = await reply
    assert answers[0]["acknowledged"] is True


async def test_stop_without_acknowledgement_in_time_says_so(
    runtime_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(control, "ACK_TIMEOUT_S", 0.05)
    session = FakeSession(auto_ack=False)
    async with control.serve_control_socket(session, "s1") as path:
        answers = await asyncio.to_thread(exchange, path, b'{"cmd":"stop"}\n')
    assert answers[0]["ok"] is True
    assert answers[0]["acknowledged"] is False
    assert "no acknowledgement" in str(answers[0]["detail"])
    assert session.calls[0] == "request_stop:control-socket"


async def test_a_failing_session_stop_is_reported_not_raised(runtime_dir: Path) -> None:
    class Broken(FakeSession):
        async def stop(self, source: str) -> StopAck:
            raise RuntimeError("link lost")

    async with control.serve_control_socket(Broken(), "s1") as path:
        answers = await asyncio.to_thread(
            exchange, path, b'{"cmd":"stop"}\n', b'{"cmd":"status"}\n'
        )
    by_cmd = {a["cmd"]: a for a in answers}
    assert by_cmd["stop"] == {"cmd": "stop", "ok": False, "error": "stop failed: link lost"}
    assert by_cmd["status"]["ok"] is True  # the socket keeps serving


async def test_status_reports_state_program_segment_speed_and_elapsed(runtime_dir: Path) -> None:
    session = FakeSession()
    async with control.serve_control_socket(session, "s1") as path:
        (answer,) = await asyncio.to_thread(exchange, path, b'{"cmd": "status"}\n')
    assert answer == {
        "cmd": "status",
        "ok": True,
        "session": "s1",
        "state": "running",
        "program": "first-steps",
        "segment": "warm-up",
        "segment_index": 0,
        "belt_mph": 1.2,
        "target_mph": 1.0,
        "elapsed_s": 42.5,
        "device": "SIM-TREADMILL",
    }
    assert session.calls == []


async def test_pause_pauses(runtime_dir: Path) -> None:
    session = FakeSession()
    async with control.serve_control_socket(session, "s1") as path:
        (answer,) = await asyncio.to_thread(exchange, path, b'{"cmd": "pause"}\n')
    assert answer["ok"] is True
    assert answer["acknowledged"] is True
    assert session.calls == ["pause:control-socket"]
    assert session.state is SessionState.paused


@pytest.mark.parametrize(
    "garbage",
    [
        b"hello\n",
        b"\xff\xfe\x00\n",
        b"[1, 2]\n",
        b'"stop"\n',
        b"{}\n",
        b'{"cmd": "start"}\n',
        b'{"cmd": "resume"}\n',
        b'{"cmd": "set_speed", "mph": 3}\n',
        b'{"cmd": ["stop"]}\n',
        b'{"cmd": "STOP"}\n',
    ],
)
async def test_garbage_is_answered_with_an_error_and_leaves_the_session_alone(
    runtime_dir: Path, garbage: bytes
) -> None:
    session = FakeSession()
    async with control.serve_control_socket(session, "s1") as path:
        answers = await asyncio.to_thread(exchange, path, garbage, b"\n", b'{"cmd":"status"}\n')
    assert answers[0]["ok"] is False
    assert isinstance(answers[0]["error"], str)
    assert answers[1]["cmd"] == "status"  # the same connection still serves
    assert answers[1]["state"] == "running"
    assert session.calls == []


def _asks_to_act(payload: bytes) -> bool:
    """Whether some line of `payload` is a real stop or pause request."""
    for line in payload.split(b"\n"):
        try:
            request = json.loads(line)
        except ValueError:
            continue
        if isinstance(request, dict) and request.get("cmd") in {"stop", "pause"}:
            return True
    return False


@pytest.fixture
def threaded_server(runtime_dir: Path) -> Iterator[tuple[Path, FakeSession]]:
    """A control socket served by a loop in another thread, for synchronous (hypothesis) tests."""
    loop = asyncio.new_event_loop()
    started: queue.Queue[tuple[Path, FakeSession]] = queue.Queue()

    async def serve(done: asyncio.Event) -> None:
        session = FakeSession()
        async with control.serve_control_socket(session, "s1") as path:
            started.put((path, session))
            await done.wait()

    done = asyncio.Event()
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(done),))
    thread.start()
    yield started.get(timeout=10)
    loop.call_soon_threadsafe(done.set)
    thread.join()
    loop.close()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # one server for all
@given(payload=st.binary(max_size=3 * control.MAX_LINE_BYTES))
def test_any_bytes_but_a_stop_or_pause_leave_the_session_alone(
    threaded_server: tuple[Path, FakeSession], payload: bytes
) -> None:
    assume(not _asks_to_act(payload))
    path, session = threaded_server
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(path))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(payload)
    (status,) = exchange(path, b'{"cmd": "status"}\n')
    assert status["state"] == "running"
    assert session.calls == []


async def test_an_over_long_line_closes_the_connection_without_acting(runtime_dir: Path) -> None:
    session = FakeSession()
    flood = b'{"cmd": "stop", "pad": "' + b"x" * (4 * control.MAX_LINE_BYTES)
    async with control.serve_control_socket(session, "s1") as path:
        answers = await asyncio.to_thread(request, path, flood, answers=1)
        (status,) = await asyncio.to_thread(exchange, path, b'{"cmd":"status"}\n')
    assert answers == [{"ok": False, "error": f"line longer than {control.MAX_LINE_BYTES} bytes"}]
    assert session.calls == []
    assert status["state"] == "running"


async def test_open_connections_are_closed_when_the_session_ends(runtime_dir: Path) -> None:
    async with control.serve_control_socket(FakeSession(), "s1") as path:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(10)
        await asyncio.to_thread(sock.connect, str(path))
        await asyncio.to_thread(sock.sendall, b'{"cmd":"status"}\n')
        first = await asyncio.to_thread(sock.recv, 65536)
    try:
        rest = await asyncio.to_thread(sock.recv, 65536)
    finally:
        sock.close()
    assert json.loads(first)["ok"] is True
    assert rest == b""


# --- another uid ---------------------------------------------------------------------------------


@pytest.fixture
def as_root() -> None:
    if os.getuid() != 0:
        pytest.skip("switching to another uid needs root")


@pytest.mark.usefixtures("as_root")
async def test_another_uid_cannot_even_reach_the_socket(runtime_dir: Path) -> None:
    session = FakeSession()
    async with control.serve_control_socket(session, "s1") as path:
        outcome = await asyncio.to_thread(connect_as, NOBODY, path, b'{"cmd":"stop"}\n')
    assert outcome == "permission-denied"
    assert session.calls == []


@pytest.mark.usefixtures("as_root")
async def test_peer_credentials_refuse_another_uid_even_if_the_files_let_it_in(
    runtime_dir: Path,
) -> None:
    """Second barrier: open the directory and socket up, and the uid check alone must hold."""
    session = FakeSession()
    async with control.serve_control_socket(session, "s1") as path:
        for opened, mode in ((runtime_dir, 0o711), (path.parent, 0o711), (path, 0o666)):
            os.chmod(opened, mode)
        outcome = await asyncio.to_thread(
            connect_as, NOBODY, path, b'{"cmd":"stop"}\n{"cmd":"status"}\n'
        )
        (status,) = await asyncio.to_thread(exchange, path, b'{"cmd":"status"}\n')
    assert outcome == "closed"
    assert session.calls == []
    assert status["state"] == "running"


# --- stale sockets ------------------------------------------------------------------------------


def make_stale_socket(path: Path) -> None:
    """What a crashed session leaves behind: a socket file nobody listens on."""
    path.parent.mkdir(mode=0o700, exist_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()


async def test_a_starting_server_removes_stale_sockets(runtime_dir: Path) -> None:
    stale = runtime_dir / "retrotread" / "crashed.sock"
    make_stale_socket(stale)
    async with control.serve_control_socket(FakeSession(), "s1") as path:
        assert not stale.exists()
        assert path.exists()


async def test_a_starting_server_keeps_live_sockets(runtime_dir: Path) -> None:
    async with (
        control.serve_control_socket(FakeSession("a"), "a") as first,
        control.serve_control_socket(FakeSession("b"), "b") as second,
    ):
        assert first.exists()
        assert second.exists()


async def test_a_stale_socket_with_our_own_id_is_replaced(runtime_dir: Path) -> None:
    make_stale_socket(runtime_dir / "retrotread" / "s1.sock")
    async with control.serve_control_socket(FakeSession(), "s1") as path:
        (answer,) = await asyncio.to_thread(exchange, path, b'{"cmd":"status"}\n')
    assert answer["ok"] is True


# --- the stop client ----------------------------------------------------------------------------


def test_stop_with_no_session_running_exits_1(
    runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert stop_fast.try_fast_stop([]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"retrotread: no session running ({looked_in(runtime_dir)})\n"


def test_stop_removes_a_stale_socket_and_exits_1(
    runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = runtime_dir / "retrotread" / "crashed.sock"
    make_stale_socket(stale)
    assert stop_fast.try_fast_stop([]) == 1
    assert not stale.exists()
    assert "removed 1 stale control socket" in capsys.readouterr().err


def test_stop_ignores_files_that_are_not_sockets(runtime_dir: Path) -> None:
    (runtime_dir / "retrotread").mkdir(mode=0o700)
    (runtime_dir / "retrotread" / "notes.sock").write_text("not a socket")
    report = control_client.stop_all_sessions()
    assert report.sessions == []
    assert (runtime_dir / "retrotread" / "notes.sock").exists()


def test_stop_refuses_a_directory_others_can_enter(
    runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_stale_socket(runtime_dir / "retrotread" / "planted.sock")
    (runtime_dir / "retrotread").chmod(0o777)
    assert stop_fast.try_fast_stop([]) == 1
    assert "accessible to other users" in capsys.readouterr().err
    assert (runtime_dir / "retrotread" / "planted.sock").exists()


async def test_stop_reaches_every_session(
    runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = FakeSession("a"), FakeSession("b")
    b.belt_mph = 2.5
    make_stale_socket(runtime_dir / "retrotread" / "zombie.sock")
    async with (
        control.serve_control_socket(a, "a"),
        control.serve_control_socket(b, "b"),
    ):
        code = await asyncio.to_thread(stop_fast.try_fast_stop, [])
    assert code == 0
    assert capsys.readouterr().out == (
        "retrotread: stopped session a (belt at 1.2 mph)\n"
        "retrotread: stopped session b (belt at 2.5 mph)\n"
    )
    assert a.state is SessionState.stopping
    assert b.state is SessionState.stopping


async def test_all_stops_are_sent_before_any_answer_is_awaited(runtime_dir: Path) -> None:
    """Session a only acknowledges once b has received its stop: a sequential client would hang."""
    a, b = FakeSession("a", auto_ack=False), FakeSession("b")
    async with (
        control.serve_control_socket(a, "a"),
        control.serve_control_socket(b, "b"),
    ):
        report_future = asyncio.ensure_future(
            asyncio.to_thread(control_client.stop_all_sessions, 10.0)
        )
        await b.stop_requested.wait()
        a.treadmill_answered.set()
        report = await report_future
    assert [(s.session, s.acknowledged) for s in report.sessions] == [("a", True), ("b", True)]
    assert stop.LocalStop(report).exit_code() == 0


async def test_stop_with_no_acknowledgement_exits_4(
    runtime_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(control, "ACK_TIMEOUT_S", 0.05)
    session = FakeSession(auto_ack=False)
    async with control.serve_control_socket(session, "s1"):
        code = await asyncio.to_thread(stop_fast.try_fast_stop, [])
    assert code == 4
    err = capsys.readouterr().err
    assert err.startswith("retrotread: session s1 did not acknowledge the stop (belt at 1.2 mph)")


async def test_typer_stop_command_takes_the_same_path(
    runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = FakeSession()
    async with control.serve_control_socket(session, "s1"):
        code = await asyncio.to_thread(cli_run, ["-v", "stop"])
    assert code == 0
    assert "stopped session s1" in capsys.readouterr().out
    assert session.state is SessionState.stopping


def test_fast_path_hands_options_to_the_typer_app() -> None:
    assert stop_fast.try_fast_stop(["--device", "AA:BB"]) is None
    assert stop_fast.try_fast_stop(["--help"]) is None


FAST_PATH_MODULES = {
    "_socket",
    "retrotread",
    "retrotread.cli",
    "retrotread.cli.stop_fast",
    "retrotread.channels",
    "retrotread.channels.socket",
    "retrotread.channels.socket.client",
    "retrotread.channels.socket.paths",
    "retrotread.channels.socket.wire",
    "retrotread.exit_codes",
    "retrotread.stop",
}
FAST_PATH_PROBE = (
    "import sys\n"
    "before = set(sys.modules)\n"
    "from retrotread.cli import stop_fast\n"
    "code = stop_fast.try_fast_stop([])\n"
    "print('probe:', code, ' '.join(sorted(set(sys.modules) - before)))\n"
)


def fast_path_probe() -> tuple[int, set[str]]:
    """A plain `stop` in a fresh interpreter: its exit code and the modules it loaded."""
    out = (
        subprocess.run(
            [sys.executable, "-c", FAST_PATH_PROBE],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        .stdout.splitlines()[-1]
        .split()
    )
    assert out[0] == "probe:"
    return int(out[1]), set(out[2:])


def test_fast_path_imports_nothing_heavy(runtime_dir: Path) -> None:
    """The whole no-session stop, in a fresh interpreter: only the stdlib's smallest parts load."""
    code, modules = fast_path_probe()
    assert code == 1
    assert modules <= FAST_PATH_MODULES


def test_fast_path_reads_the_acknowledgement_without_json(
    threaded_server: tuple[Path, FakeSession],
) -> None:
    """Until the acknowledgement is printed: reading the answer must not import json (re, enum),
    which cost the process twice the bare interpreter's time."""
    _path, session = threaded_server
    code, modules = fast_path_probe()
    assert code == 0
    assert session.state is SessionState.stopping
    assert modules <= FAST_PATH_MODULES, modules - FAST_PATH_MODULES


async def test_stop_device_held_by_a_session_is_not_connected_to_again(
    runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The session stopped it; a second central would fail (no adapter here) and is not tried."""
    session = FakeSession()
    async with control.serve_control_socket(session, "s1"):
        code = await asyncio.to_thread(cli_run, ["stop", "--device", "sim-treadmill"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out == "retrotread: stopped session s1 (belt at 1.2 mph)\n"
    assert err == ""


# --- direct stop of a treadmill no session holds --------------------------------------------------


def test_direct_stop_stops_a_belt_another_app_left_running() -> None:
    from retrotread.config import Settings
    from retrotread.stop import StopOutcome, stop_treadmill
    from retrotread.treadmill import Telemetry, Treadmill
    from simulators.clock import run_virtual
    from simulators.harness import open_simulator

    async def scenario() -> tuple[StopOutcome, float, list[int]]:
        async with open_simulator("generic") as sim:
            other_app = await Treadmill.connect(
                sim.address,
                scanner_backend=sim.scanner_backend,
                client_backend=sim.client_backend,
            )
            at_speed = asyncio.Event()
            other_app.add_listener(
                lambda e: isinstance(e, Telemetry) and e.speed_kmh == 3.0 and at_speed.set()
            )
            control_point = other_app.claim_control_point()
            await control_point.request_control()
            await control_point.set_speed(300)
            await control_point.start()
            await at_speed.wait()
            await other_app.disconnect()
            result = await stop_treadmill(
                sim.address,
                Settings(),
                scanner_backend=sim.scanner_backend,
                client_backend=sim.client_backend,
            )
            opcodes = [exchange.opcode for exchange in sim.treadmill.control_log]
            return result, sim.treadmill.belt_speed_kmh, opcodes

    result, belt_kmh, opcodes = run_virtual(scenario())
    assert result.acknowledged
    assert result.detail == ""  # verified: the belt was seen at 0
    assert result.belt_mph == 0
    assert belt_kmh == 0
    request_control, stop = 0x00, 0x08
    assert opcodes[-2:] == [request_control, stop]


def test_direct_stop_reports_a_refused_stop() -> None:
    from retrotread.config import Settings
    from retrotread.stop import StopOutcome, stop_treadmill
    from simulators.clock import run_virtual
    from simulators.harness import open_simulator

    async def scenario() -> StopOutcome:
        async with open_simulator("generic", faults=["reject@0:stop"]) as sim:
            return await stop_treadmill(
                sim.address,
                Settings(),
                scanner_backend=sim.scanner_backend,
                client_backend=sim.client_backend,
            )

    result = run_virtual(scenario())
    assert not result.acknowledged
    assert result.detail == "Stop answered operation_failed"


def test_direct_stop_without_telemetry_is_acknowledged_but_unverified() -> None:
    """No Treadmill Data at all: the Stop is answered, the belt is never seen at 0, the Stop
    is tried DEVICE_STOP_ATTEMPTS times, and nothing but Request Control and Stop is written."""
    from retrotread.config import Settings
    from retrotread.stop import DEVICE_STOP_ATTEMPTS, StopOutcome, stop_treadmill
    from simulators.clock import run_virtual
    from simulators.harness import open_simulator

    async def scenario() -> tuple[StopOutcome, list[int]]:
        async with open_simulator("generic", faults=["stall@0"]) as sim:
            result = await stop_treadmill(
                sim.address,
                Settings(),
                scanner_backend=sim.scanner_backend,
                client_backend=sim.client_backend,
            )
            return result, [exchange.opcode for exchange in sim.treadmill.control_log]

    result, opcodes = run_virtual(scenario())
    assert result.acknowledged
    assert result.belt_mph is None
    assert result.detail == "the belt was not seen at 0"
    request_control, stop = 0x00, 0x08
    assert set(opcodes) == {request_control, stop}
    assert opcodes.count(stop) == DEVICE_STOP_ATTEMPTS


# --- which sessions hold the treadmill `stop --device X` names -----------------------------------


def _report_of(*sessions: control_client.SessionStop) -> control_client.StopReport:
    report = control_client.StopReport(["/nowhere"])
    report.sessions.extend(sessions)
    return report


@pytest.mark.parametrize("target", ["AA:BB:CC:DD:EE:FF", "aa:bb:cc:dd:ee:ff"])
def test_a_session_on_that_address_holds_the_device(target: str) -> None:
    on_it = control_client.SessionStop("s1", True, 0.0, device="AA:BB:CC:DD:EE:FF")
    assert _report_of(on_it).holds_device(target)


@pytest.mark.parametrize(
    ("session_device", "target"),
    [
        ("Treadmill 2", "Treadmill"),  # a name that merely contains the one asked for
        ("AA:BB:CC:DD:EE:FF", "AA:BB"),
        ("AA:BB", "AA:BB:CC:DD:EE:FF"),
    ],
)
def test_a_near_match_does_not_skip_the_direct_stop(session_device: str, target: str) -> None:
    other = control_client.SessionStop("s1", True, 0.0, device=session_device)
    assert not _report_of(other).holds_device(target)


def test_a_session_that_did_not_acknowledge_does_not_hold_the_device() -> None:
    silent = control_client.SessionStop("s1", False, None, device="AA:BB")
    unknown = control_client.SessionStop("s2", True, 0.0, device=None)
    assert not _report_of(silent, unknown).holds_device("AA:BB")


async def test_server_and_client_agree_on_what_is_stale(runtime_dir: Path) -> None:
    directory = runtime_dir / "retrotread"
    make_stale_socket(directory / "crashed.sock")
    async with control.serve_control_socket(FakeSession(), "live") as live:
        assert not control_paths.is_stale(str(live))
        assert control_paths.is_stale(str(directory / "crashed.sock"))
        assert control_paths.remove_stale_sockets(str(directory)) == []  # gone on serve entry
        make_stale_socket(directory / "crashed.sock")
        assert control_paths.remove_stale_sockets(str(directory)) == [
            str(directory / "crashed.sock")
        ]
        assert live.exists()


def test_stop_outwaits_the_sessions_own_acknowledgement_timeout() -> None:
    assert control_client.DEFAULT_TIMEOUT_S > control.ACK_TIMEOUT_S


# --- every place is searched, a silent session does not hold up the answer -------------


def _stop_envs(runtime_dir: Path) -> dict[str, dict[str, str | None]]:
    """Shells other than the session's: another runtime dir, none, another TMPDIR."""
    elsewhere = runtime_dir / "elsewhere"
    elsewhere.mkdir(mode=0o700, exist_ok=True)
    other_temp = runtime_dir / "other-tmp"
    other_temp.mkdir(mode=0o700, exist_ok=True)
    return {
        "another runtime dir": {"XDG_RUNTIME_DIR": str(elsewhere)},
        "no runtime dir": {"XDG_RUNTIME_DIR": None},
        "another TMPDIR": {"XDG_RUNTIME_DIR": str(elsewhere), "TMPDIR": str(other_temp)},
    }


@pytest.mark.parametrize("place", ["login runtime dir", "TMPDIR", "/tmp"])
async def test_stop_reaches_a_session_wherever_its_socket_lives(
    runtime_dir: Path, monkeypatch: pytest.MonkeyPatch, place: str
) -> None:
    """SPEC `stop`: $XDG_RUNTIME_DIR/retrotread, /run/user/<uid>/retrotread and the private temp
    dir are all searched, so the shell typing `stop` needs neither the session's runtime dir
    nor its TMPDIR. (/run/user and /tmp are moved inside the fixture's directory.)"""
    session_temp = runtime_dir / "session-tmp"
    session_temp.mkdir(mode=0o700)
    if place == "login runtime dir":  # what pam_systemd sets: /run/user/<uid>
        login = runtime_dir / "run-user" / str(os.getuid())
        login.mkdir(mode=0o700)
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(login))
    elif place == "TMPDIR":
        monkeypatch.delenv("XDG_RUNTIME_DIR")
        monkeypatch.setenv("TMPDIR", str(session_temp))
    else:
        monkeypatch.delenv("XDG_RUNTIME_DIR")
    session = FakeSession()
    async with control.serve_control_socket(session, "s1") as path:
        assert str(path.parent) in control_paths.search_dirs()
        shells = _stop_envs(runtime_dir)
        if place == "TMPDIR":
            for env in shells.values():
                env.setdefault("TMPDIR", str(session_temp))
            del shells["another TMPDIR"]  # a TMPDIR of its own is the one place not searched
        reached = {}
        for shell, env in shells.items():
            with monkeypatch.context() as shell_env:
                for name, value in env.items():
                    if value is None:
                        shell_env.delenv(name, raising=False)
                    else:
                        shell_env.setenv(name, value)
                report = await asyncio.to_thread(control_client.stop_all_sessions, 10.0)
            reached[shell] = [(s.session, s.acknowledged) for s in report.sessions]
    assert reached == {shell: [("s1", True)] for shell in shells}
    assert session.state is SessionState.stopping


async def test_the_same_directory_reached_twice_is_stopped_once(
    runtime_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """XDG_RUNTIME_DIR is usually /run/user/<uid> itself: one session, one line."""
    login = runtime_dir / "run-user" / str(os.getuid())
    login.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(login))
    async with control.serve_control_socket(FakeSession(), "s1"):
        report = await asyncio.to_thread(control_client.stop_all_sessions, 10.0)
    assert [s.session for s in report.sessions] == ["s1"]


async def test_stop_reaches_a_session_whose_directory_was_opened_up_after_it_started(
    runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The listener's uid (SO_PEERCRED) proves the socket is ours, so a session whose directory
    was chmod-ed after it started is still stopped; the directory is reported, not trusted."""
    session = FakeSession()
    async with control.serve_control_socket(session, "s1") as path:
        path.parent.chmod(0o755)
        code = await asyncio.to_thread(stop_fast.try_fast_stop, [])
    assert code == 0
    assert "stopped session s1" in capsys.readouterr().out
    assert session.state is SessionState.stopping


def _hung_session(directory: Path, name: str) -> socket.socket:
    """A socket whose process listens (the kernel accepts connections) but never answers."""
    directory.mkdir(mode=0o700, exist_ok=True)
    hung = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    hung.bind(str(directory / f"{name}.sock"))
    hung.listen(8)
    return hung


async def test_a_silent_session_does_not_hold_up_the_answer(runtime_dir: Path) -> None:
    """The live session's acknowledgement is reported as soon as it came, not after the
    deadline; the silent one ("hung" sorts first, so it is also read first) is reported."""
    with _hung_session(runtime_dir / "retrotread", "hung"):
        async with control.serve_control_socket(FakeSession("live"), "live"):
            started = time.monotonic()
            report = await asyncio.to_thread(control_client.stop_all_sessions, 60.0)
            elapsed = time.monotonic() - started
    by_session = {s.session: s for s in report.sessions}
    assert by_session["live"].acknowledged
    assert not by_session["hung"].acknowledged
    assert "no reply" in by_session["hung"].detail
    assert "the stop was sent" in by_session["hung"].detail
    assert stop.LocalStop(report).exit_code() == 0
    assert elapsed < 10, f"{elapsed:.1f} s: the silent session held up the answer"


async def test_a_session_that_only_answers_late_is_still_waited_for(runtime_dir: Path) -> None:
    """A live session sends its receipt at once; its acknowledgement (the treadmill's answer)
    may take seconds, and is waited for even after another session acknowledged."""
    fast, slow = FakeSession("fast"), FakeSession("slow", auto_ack=False)
    async with (
        control.serve_control_socket(fast, "fast"),
        control.serve_control_socket(slow, "slow"),
    ):
        report_future = asyncio.ensure_future(
            asyncio.to_thread(control_client.stop_all_sessions, 60.0, 10.0)
        )
        await slow.stop_requested.wait()
        assert not report_future.done()
        slow.treadmill_answered.set()
        report = await report_future
    assert [(s.session, s.acknowledged) for s in report.sessions] == [
        ("fast", True),
        ("slow", True),
    ]


def test_only_silent_sessions_are_waited_for_until_the_deadline(runtime_dir: Path) -> None:
    with _hung_session(runtime_dir / "retrotread", "hung"):
        report = control_client.stop_all_sessions(0.2, 0.05)
    assert [(s.session, s.acknowledged) for s in report.sessions] == [("hung", False)]
    assert report.sessions[0].detail == "no reply in time; the stop was sent"
    assert stop.LocalStop(report).exit_code() == 4


async def test_a_stop_asking_for_a_receipt_gets_it_before_the_treadmill_answers(
    runtime_dir: Path,
) -> None:
    session = FakeSession(auto_ack=False)
    async with control.serve_control_socket(session, "s1") as path:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            await asyncio.to_thread(sock.connect, str(path))
            sock.sendall(wire.STOP_REQUEST)
            receipt = await asyncio.to_thread(sock.recv, 65536)
            assert json.loads(receipt) == {
                "cmd": "stop",
                "ok": True,
                "receipt": True,
                "session": "s1",
            }
            assert session.state is SessionState.stopping
            session.treadmill_answered.set()
            answer = await asyncio.to_thread(sock.recv, 65536)
    assert json.loads(answer)["acknowledged"] is True


@pytest.mark.parametrize(
    ("payload", "cmd"),
    [(b'{"cmd": "stop"}', "stop"), (b'{"cmd":"pause"}', "pause"), (b'{"cmd":"status"}', "status")],
)
async def test_a_last_line_without_its_newline_is_acted_on(
    runtime_dir: Path, payload: bytes, cmd: str
) -> None:
    """`printf '{"cmd": "stop"}' | nc -U ...` sends no newline before EOF: still a line."""
    session = FakeSession()
    async with control.serve_control_socket(session, "s1") as path:
        answers = await asyncio.to_thread(exchange, path, b'{"cmd":"status"}\n', payload)
    assert [a["cmd"] for a in answers] == ["status", cmd]
    assert answers[1]["ok"] is True
    if cmd == "stop":
        assert answers[1]["acknowledged"] is True
        assert session.calls[0] == "request_stop:control-socket"


async def test_an_over_long_last_line_before_eof_is_refused(runtime_dir: Path) -> None:
    session = FakeSession()
    async with control.serve_control_socket(session, "s1") as path:
        padded = b'{"cmd": "stop", "pad": "' + b"x" * control.MAX_LINE_BYTES + b'"}'
        answers = await asyncio.to_thread(exchange, path, padded[: control.MAX_LINE_BYTES + 1])
    assert answers == [{"ok": False, "error": f"line longer than {control.MAX_LINE_BYTES} bytes"}]
    assert session.calls == []


# --- the stop path cannot be starved -------------------------------------------------------


HELD_CONNECTIONS = 100  # more than control.MAX_CONNECTIONS, less than the listen backlog


def _closed_by_server(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


async def test_held_connections_cannot_lock_stop_out(runtime_dir: Path) -> None:
    """A same-uid client holding more connections than the cap: each fresh connection evicts the
    one idle longest, so the stop gets in and the session never holds more than the cap."""
    session = FakeSession()
    async with control.serve_control_socket(session, "s1") as path:
        held: list[socket.socket] = []
        try:
            for _ in range(HELD_CONNECTIONS):
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                held.append(sock)
                sock.connect(str(path))  # into the backlog: the loop accepts them below
            report = await asyncio.to_thread(control_client.stop_all_sessions, 10.0)
            # The backlog is served in order: every held one was admitted before the stop.
            evicted = sum(_closed_by_server(sock) for sock in held)
        finally:
            for sock in held:
                sock.close()
    assert [(s.session, s.acknowledged) for s in report.sessions] == [("s1", True)]
    assert evicted > 0, "the session kept every connection open"
    assert evicted >= HELD_CONNECTIONS + 1 - control.MAX_CONNECTIONS


async def test_eviction_spares_a_connection_waiting_for_its_stop_answer(
    runtime_dir: Path,
) -> None:
    """A peer owed an acknowledgement is not idle: fresh connections evict idle ones first."""
    session = FakeSession(auto_ack=False)
    async with control.serve_control_socket(session, "s1") as path:
        waiting = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        waiting.settimeout(10)
        held: list[socket.socket] = []
        try:
            await asyncio.to_thread(waiting.connect, str(path))
            waiting.sendall(b'{"cmd": "stop"}\n')
            await session.stop_requested.wait()
            for _ in range(HELD_CONNECTIONS):
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                held.append(sock)
                sock.connect(str(path))
            (status,) = await asyncio.to_thread(exchange, path, b'{"cmd":"status"}\n')
            session.treadmill_answered.set()
            answer = await asyncio.to_thread(waiting.recv, 65536)
        finally:
            waiting.close()
            for sock in held:
                sock.close()
    assert status["ok"] is True
    assert json.loads(answer)["acknowledged"] is True


async def test_a_peer_that_never_reads_its_answers_is_dropped(runtime_dir: Path) -> None:
    """Pipelined `status` requests whose answers are never read: the session's buffer for that
    peer is bounded and the peer is dropped; the session goes on serving others."""
    session = FakeSession()
    flood = b'{"cmd": "status"}\n' * 20_000  # ~6 MB of answers

    def pipeline_without_reading(path: Path) -> bool:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(path))
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(flood)
            hang_up = select.poll()
            hang_up.register(sock, select.POLLRDHUP)  # the server closed its end (not: data)
            return bool(hang_up.poll(10_000))

    async with control.serve_control_socket(session, "s1") as path:
        dropped = await asyncio.to_thread(pipeline_without_reading, path)
        (status,) = await asyncio.to_thread(exchange, path, b'{"cmd":"status"}\n')
    assert dropped, "the session kept buffering answers for a peer that never reads"
    assert status["ok"] is True
    assert session.calls == []


# --- the stop client's JSON reader (json costs `stop` ~4 ms to import) ----------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(value=_json_values, ensure_ascii=st.booleans())
def test_the_stop_client_reads_what_json_dumps_writes(value: object, ensure_ascii: bool) -> None:
    line = json.dumps(value, ensure_ascii=ensure_ascii).encode()
    assert wire.decode(line) == json.loads(line)


@given(text=st.text(alphabet='{}[]",:-+.0123456789eEtrufalsnNIiy \t\\/u\x01\u00e9', max_size=24))
def test_the_stop_client_refuses_what_json_refuses(text: str) -> None:
    try:
        expected = repr(json.loads(text))
    except ValueError:
        expected = "refused"
    try:
        got = repr(wire.decode(text.encode()))
    except ValueError:
        got = "refused"
    assert got == expected


def test_the_stop_client_survives_hostile_answers() -> None:
    for line in (b"[" * 10_000, b'{"a": ' * 10_000, b"\xff\xfe", b'"\\ud800"', b"1" * 5000):
        with contextlib.suppress(ValueError):
            wire.decode(line)


RESERVE_PROBE = """
import asyncio, os, resource, sys
from retrotread.channels.socket import server as control
from retrotread.channels.socket import wire
from tests.support.fake_session import FakeSession

async def main() -> None:
    session = FakeSession()
    async with control.serve_control_socket(session, "s1"):
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
        hog = []
        try:
            while True:  # every descriptor the process may have is taken by something else
                hog.append(os.open(os.devnull, os.O_RDONLY))
        except OSError:
            pass
        print("full", flush=True)
        await session.stop_requested.wait()
        print("stopping", flush=True)
        await asyncio.Event().wait()  # serve until killed: the answer must get out

asyncio.run(main())
"""


def test_the_reserved_descriptor_lets_a_stop_in_when_the_process_has_none_left(
    runtime_dir: Path,
) -> None:
    """The session's process has used every descriptor (journal, radio, MQTT ...): the one the
    control socket keeps in reserve is given up to accept the stop."""
    probe = subprocess.Popen(
        [sys.executable, "-c", RESERVE_PROBE],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert probe.stdout is not None
        assert probe.stdout.readline() == "full\n"
        report = control_client.stop_all_sessions(5.0)
        assert [(s.session, s.acknowledged) for s in report.sessions] == [("s1", True)]
        assert probe.stdout.readline() == "stopping\n"
    finally:
        probe.kill()
        _out, err = probe.communicate(timeout=30)
    assert "Traceback" not in err


async def test_a_late_receipt_still_beats_a_silent_session_read_first(runtime_dir: Path) -> None:
    """The live session's receipt comes after the receipt wait (a busy loop), and nothing has
    acknowledged yet: `stop` waits on every socket at once, not on the silent one first."""
    session = FakeSession("live", auto_ack=False)
    with _hung_session(runtime_dir / "retrotread", "hung"):
        async with control.serve_control_socket(session, "live"):
            report_future = asyncio.ensure_future(
                asyncio.to_thread(control_client.stop_all_sessions, 60.0, 0.0)
            )
            await session.stop_requested.wait()
            started = time.monotonic()
            session.treadmill_answered.set()
            report = await report_future
            elapsed = time.monotonic() - started
    by_session = {s.session: s for s in report.sessions}
    assert by_session["live"].acknowledged
    assert by_session["hung"].detail == "no reply while the others answered; the stop was sent"
    assert elapsed < 10
