"""The client side of the control sockets: send a stop to every running session of this user.

This is the path of `retrotread stop`, what a person types when something is wrong, so up to the
acknowledgement printed it imports nothing but the `_socket` C module (`socket` would pull in enum
and selectors, ~8 ms; json ~4 ms with re and enum; see DESIGN.md): the request is a fixed byte
string, and the answers, our own JSON lines, are read by `wire.decode`. It returns what the
sessions answered; `retrotread.stop` turns that into words and an exit code.

Every socket in every directory a session may use (`paths.search_dirs`) gets its request
before any answer is read, so each session starts stopping at once and the wait is the slowest
acknowledgement, not their sum. The request asks for a receipt: a live session sends one line the
moment it has latched the stop, then its acknowledgement. A socket that accepted but sends no
receipt (a hung or stopped process) does not hold up the answer: once another session has
acknowledged, it is waited for only until RECEIPT_WAIT_S after the requests went out, then
reported. Only when nothing has acknowledged yet is every socket waited for until the deadline.

Stale sockets (a crashed session) are removed on the way, in private directories only. Whoever
listens on a socket must be this user (SO_PEERCRED), so a socket planted in a directory others
can enter is never taken for a session.
"""

import _socket
import os
import time

from retrotread.channels.socket import paths, wire

DEFAULT_TIMEOUT_S = paths.CLIENT_WAIT_S
RECEIPT_WAIT_S = 0.5
"""How long a socket that sent no receipt is waited for once another session acknowledged.
A live session sends its receipt within a loop pass (about a millisecond)."""
_CONNECT_TIMEOUT_S = 0.5
_BUSY_WAIT_S = 1.0
"""How long to keep retrying a session whose listen backlog is full (a flood of connections)."""
_BUSY_RETRY_S = 0.005
_RESENDS = 2
"""How often a connection closed before its answer is opened again (a session at its connection
cap closes the connection idle longest; a stop it had already read is acted on regardless)."""
_MAX_ANSWER_BYTES = 4096

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


class StopReport:
    """Every session reached (or tried), where they were looked for, and what was cleaned up.

    `looked_in` lists every directory searched (existing or not); `problems` says why one could
    not be trusted (its stale sockets were left alone) or why a socket was ignored.
    """

    __slots__ = ("looked_in", "problems", "sessions", "stale_removed")

    def __init__(self, looked_in: list[str] | None = None) -> None:
        self.looked_in: list[str] = list(looked_in or [])
        self.problems: list[str] = []
        self.sessions: list[SessionStop] = []
        self.stale_removed: list[str] = []

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


class _Request:
    """One session's socket while its stop is in flight."""

    __slots__ = ("buffer", "path", "receipt", "resends", "result", "session", "sock")

    def __init__(self, path: str) -> None:
        self.path = path
        self.session = paths.session_id_of(path)
        self.sock: _socket.socket | None = None
        self.buffer = b""
        self.receipt = False
        self.resends = 0
        self.result: SessionStop | None = None

    def fail(self, detail: str) -> None:
        self.close()
        self.result = SessionStop(self.session, False, None, detail)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


_SENT = 0
_STALE = 1
_BUSY = 2
_NOT_OURS = 3
_FAILED = 4


def stop_all_sessions(
    timeout_s: float = DEFAULT_TIMEOUT_S, receipt_wait_s: float = RECEIPT_WAIT_S
) -> StopReport:
    """Send a stop to every session of this user and collect the acknowledgements."""
    deadline = time.monotonic() + timeout_s
    report = StopReport()
    requests: list[_Request] = []
    busy: list[_Request] = []
    seen: list[tuple[int, int]] = []
    for directory in paths.search_dirs():
        report.looked_in.append(directory)
        try:
            st = os.lstat(directory)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen:
            continue  # the same directory reached through another path
        seen.append((st.st_dev, st.st_ino))
        problem = paths.refusal(directory)
        if problem is not None:
            report.problems.append(problem)
            if not os.path.isdir(directory) or os.path.islink(directory):
                continue  # no session serves through a symlink or in a file
        for path in paths.session_sockets(directory):
            request = _Request(path)
            outcome = _open(request, report)
            if outcome == _STALE and problem is None and paths.unlink_stale(path):
                report.stale_removed.append(path)
            elif outcome == _BUSY:
                busy.append(request)
            elif outcome in (_SENT, _FAILED):
                requests.append(request)
    requests.extend(_retry_busy(busy, report))
    sent_at = time.monotonic()
    _collect(requests, report, sent_at + receipt_wait_s, deadline)
    return report


def _open(request: _Request, report: StopReport) -> int:
    """Connect to the session's socket and send the stop; one of _SENT, _STALE, _BUSY, ..."""
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.settimeout(_CONNECT_TIMEOUT_S)
    try:
        sock.connect(request.path)
    except paths.STALE_ERRORS:
        sock.close()
        return _STALE
    except BlockingIOError:  # the listen backlog is full: connect again below
        sock.close()
        return _BUSY
    except OSError as err:
        sock.close()
        request.fail(f"cannot connect: {err}")
        return _FAILED
    uid = paths.peer_uid(sock)
    if uid != os.getuid():
        sock.close()
        report.problems.append(f"ignored {request.path}: served by uid {uid}, not by this user")
        return _NOT_OURS
    try:
        sock.sendall(wire.STOP_REQUEST)
    except OSError as err:
        sock.close()
        request.fail(f"cannot send: {err}")
        return _FAILED
    request.sock = sock
    return _SENT


def _retry_busy(busy: list[_Request], report: StopReport) -> list[_Request]:
    """Connect again to sessions whose backlog was full, for up to _BUSY_WAIT_S."""
    done: list[_Request] = []
    give_up = time.monotonic() + _BUSY_WAIT_S
    while busy:
        if time.monotonic() >= give_up:
            for request in busy:
                request.fail("cannot connect: the session's socket is flooded with connections")
                done.append(request)
            break
        time.sleep(_BUSY_RETRY_S)
        still: list[_Request] = []
        for request in busy:
            outcome = _open(request, report)
            if outcome == _BUSY:
                still.append(request)
            elif outcome in (_SENT, _FAILED):
                done.append(request)
        busy = still
    return done


def _collect(
    requests: list[_Request], report: StopReport, receipt_deadline: float, deadline: float
) -> None:
    """Read the answers: receipts first, then the acknowledgements of the sessions that sent
    one, then (only when none acknowledged) whatever the others may still say."""
    try:
        for request in requests:
            _read(request, receipt_deadline, want_receipt=True)
        for request in requests:
            if request.receipt:
                _read(request, deadline, want_receipt=False)
        cut_short = _acknowledged(requests)
        if not cut_short and any(r.result is None for r in requests):
            _wait_for_the_rest(requests, deadline)
            cut_short = _acknowledged(requests)
    finally:
        for request in requests:
            request.close()
    for request in requests:
        if request.result is None:
            if request.receipt:
                detail = "no acknowledgement in time"
            elif cut_short:
                detail = "no reply while the others answered; the stop was sent"
            else:
                detail = "no reply in time; the stop was sent"
            request.result = SessionStop(request.session, False, None, detail)
        report.sessions.append(request.result)


def _acknowledged(requests: list[_Request]) -> bool:
    return any(r.result is not None and r.result.acknowledged for r in requests)


def _wait_for_the_rest(requests: list[_Request], deadline: float) -> None:
    """Nothing acknowledged yet (a busy session sent its receipt late, or none is alive): wait
    on every open socket at once until the deadline, and stop waiting for the silent ones as
    soon as some session acknowledged. Only this slow case pays for importing `select`."""
    import select

    while True:
        pending = [r for r in requests if r.result is None and r.sock is not None]
        if _acknowledged(requests):
            pending = [r for r in pending if r.receipt]
        remaining = deadline - time.monotonic()
        if not pending or remaining <= 0:
            return
        by_fd = {r.sock.fileno(): r for r in pending if r.sock is not None}
        poller = select.poll()
        for fd in by_fd:
            poller.register(fd, select.POLLIN)
        for fd, _events in poller.poll(remaining * 1000):
            _read(by_fd[fd], time.monotonic(), want_receipt=False)  # what has arrived


def _read(request: _Request, until: float, *, want_receipt: bool) -> None:
    """Read lines from `request` until its final answer (or its receipt, with `want_receipt`)
    arrives or `until` passes. A connection closed early is opened again (the stop resent)."""
    while request.result is None and not (want_receipt and request.receipt):
        sock = request.sock
        if sock is None:
            return
        line = _next_line(request, sock, until)
        if line is None:
            return
        if line == b"":
            if not _resend(request):
                request.fail("connection closed without an answer")
            continue
        answer = _answer(request.session, line)
        if answer is None:
            request.receipt = True
        else:
            request.result = answer


def _next_line(request: _Request, sock: _socket.socket, until: float) -> bytes | None:
    """The next non-empty line; b"" when the connection ended; None when `until` passed."""
    while True:
        line, newline, rest = request.buffer.partition(b"\n")
        if newline:
            request.buffer = rest
            if line.strip():
                return line
            continue
        if len(request.buffer) > _MAX_ANSWER_BYTES:
            request.fail("unreadable answer")
            return None
        # Past `until`, still take what has already arrived: the sockets are read one after
        # the other, and a silent one read first must not hide the answers behind it.
        sock.settimeout(max(until - time.monotonic(), 0.0))
        try:
            chunk = sock.recv(_MAX_ANSWER_BYTES)
        except (TimeoutError, BlockingIOError):
            return None
        except OSError:
            chunk = b""
        if not chunk:
            return b""
        request.buffer += chunk


def _resend(request: _Request) -> bool:
    """Open the connection again and resend the stop (stopping twice is harmless)."""
    request.close()
    request.buffer = b""
    if request.resends >= _RESENDS:
        return False
    request.resends += 1
    scratch = StopReport()
    return _open(request, scratch) == _SENT


def _answer(session: str, line: bytes) -> SessionStop | None:
    """A session's final answer as a SessionStop; None for its receipt."""
    try:
        answer = wire.decode(line)
    except ValueError:
        return SessionStop(session, False, None, "unreadable answer")
    if not isinstance(answer, dict):
        return SessionStop(session, False, None, "unreadable answer")
    if answer.get("receipt") is True:
        return None
    belt = answer.get("belt_mph")
    belt_mph = float(belt) if isinstance(belt, int | float) and not isinstance(belt, bool) else None
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
