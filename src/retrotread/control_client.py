"""The client side of the control sockets: send a stop to every running session of this user.

This is on the path of `retrotread stop`, what a person types when something is wrong, so up to
the last stop request being written it imports nothing but the `_socket` C module (`socket` would
pull in enum and selectors, ~8 ms; json ~4 ms; see DESIGN.md). The request is a fixed byte string;
every socket gets its request before any answer is read, so each session starts stopping at once
and the total wait is the slowest acknowledgement, not their sum. json is imported only after all
requests are out, to read the answers. Stale sockets (a crashed session) are removed on the way.
"""

import _socket
import os
import time

from retrotread import control_paths

STOP_REQUEST = b'{"cmd": "stop"}\n'
DEFAULT_TIMEOUT_S = control_paths.CLIENT_WAIT_S
_CONNECT_TIMEOUT_S = 0.5
_MAX_ANSWER_BYTES = 4096

EXIT_STOPPED = 0
EXIT_NO_SESSION = 1
EXIT_UNREACHED = 4


def belt_phrase(belt_mph: float | None) -> str:
    """How every stop report names the belt speed last seen."""
    return "belt speed unknown" if belt_mph is None else f"belt at {belt_mph:.1f} mph"


class SessionStop:
    """What one session answered: `acknowledged` with the belt speed it saw, or why not.

    `device` is the treadmill the session is connected to, as its status names it (the address).
    """

    __slots__ = ("acknowledged", "belt_mph", "detail", "device", "session")

    def __init__(
        self,
        session: str,
        acknowledged: bool,
        belt_mph: float | None,
        detail: str = "",
        device: str | None = None,
    ) -> None:
        self.session = session
        self.acknowledged = acknowledged
        self.belt_mph = belt_mph
        self.detail = detail
        self.device = device

    def describe(self) -> str:
        belt = belt_phrase(self.belt_mph)
        if self.acknowledged:
            return f"stopped session {self.session} ({belt})"
        detail = f": {self.detail}" if self.detail else ""
        return f"session {self.session} did not acknowledge the stop ({belt}){detail}"


class StopReport:
    """Every session reached (or tried), plus the stale sockets that were cleaned up."""

    __slots__ = ("directory", "problem", "sessions", "stale_removed")

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.problem: str | None = None
        self.sessions: list[SessionStop] = []
        self.stale_removed: list[str] = []

    @property
    def any_acknowledged(self) -> bool:
        return any(s.acknowledged for s in self.sessions)

    def exit_code(self) -> int:
        """0 some session acknowledged; 1 none was running; 4 none acknowledged in time."""
        if self.any_acknowledged:
            return EXIT_STOPPED
        if not self.sessions:
            return EXIT_NO_SESSION
        return EXIT_UNREACHED

    def lines(self) -> list[str]:
        """Human lines, one per session (or one saying nobody was running)."""
        out = [s.describe() for s in self.sessions]
        if not self.sessions:
            why = f" ({self.problem})" if self.problem else ""
            stale = len(self.stale_removed)
            if stale:
                why += f"; removed {stale} stale control socket{'s' if stale > 1 else ''}"
            out.append(f"no session running{why}")
        return out

    def printed_lines(self) -> list[tuple[str, bool]]:
        """`lines()` for the plain `stop`, each with True when it goes to stderr: all on stdout
        when something stopped, all on stderr when not."""
        to_stderr = self.exit_code() != EXIT_STOPPED
        return [(line, to_stderr) for line in self.lines()]

    def holds_device(self, target: str) -> bool:
        """A session that acknowledged the stop is connected to `target` (its address).

        Exact (case-insensitive) equality only: a near match ("Treadmill" for "Treadmill 2")
        must not skip the direct stop, since stopping twice is harmless and skipping is not.
        """
        wanted = target.casefold()
        return any(
            s.acknowledged and s.device is not None and s.device.casefold() == wanted
            for s in self.sessions
        )


def stop_all_sessions(timeout_s: float = DEFAULT_TIMEOUT_S) -> StopReport:
    """Send a stop to every session of this user and collect the acknowledgements."""
    directory = control_paths.control_dir()
    report = StopReport(directory)
    if os.path.lexists(directory):
        report.problem = control_paths.private_dir_problem(directory)
    if report.problem is not None:
        return report  # a socket in a directory others can enter might be an impostor
    pending: list[tuple[str, _socket.socket]] = []
    for path in control_paths.session_sockets(directory):
        session = control_paths.session_id_of(path)
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        sock.settimeout(_CONNECT_TIMEOUT_S)
        try:
            sock.connect(path)
        except control_paths.STALE_ERRORS:
            sock.close()
            if control_paths.unlink_stale(path):
                report.stale_removed.append(path)
            continue
        except OSError as err:
            sock.close()
            report.sessions.append(SessionStop(session, False, None, f"cannot connect: {err}"))
            continue
        try:
            sock.sendall(STOP_REQUEST)
        except OSError as err:
            sock.close()
            report.sessions.append(SessionStop(session, False, None, f"cannot send: {err}"))
            continue
        pending.append((session, sock))
    deadline = time.monotonic() + timeout_s
    for session, sock in pending:
        report.sessions.append(_read_answer(session, sock, deadline))
    return report


def _read_answer(session: str, sock: _socket.socket, deadline: float) -> SessionStop:
    try:
        line = _read_line(sock, deadline)
    except TimeoutError:
        return SessionStop(session, False, None, "no answer in time")
    except OSError as err:
        return SessionStop(session, False, None, f"connection failed: {err}")
    finally:
        sock.close()
    if not line:
        return SessionStop(session, False, None, "connection closed without an answer")
    import json

    try:
        answer = json.loads(line)
    except ValueError:
        return SessionStop(session, False, None, "unreadable answer")
    if not isinstance(answer, dict):
        return SessionStop(session, False, None, "unreadable answer")
    belt = answer.get("belt_mph")
    belt_mph = float(belt) if isinstance(belt, int | float) else None
    if not answer.get("ok"):
        return SessionStop(session, False, belt_mph, str(answer.get("error", "refused")))
    device = answer.get("device")
    return SessionStop(
        session=str(answer.get("session", session)),
        acknowledged=answer.get("acknowledged") is True,
        belt_mph=belt_mph,
        detail=str(answer.get("detail", "")),
        device=device if isinstance(device, str) else None,
    )


def _read_line(sock: _socket.socket, deadline: float) -> bytes:
    data = b""
    while b"\n" not in data and len(data) < _MAX_ANSWER_BYTES:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sock.settimeout(remaining)
        chunk = sock.recv(_MAX_ANSWER_BYTES)
        if not chunk:
            break
        data += chunk
    return data.partition(b"\n")[0]
