"""The local control socket of a running session: `stop`, `pause`, `status` from this machine.

Raw non-blocking sockets on the loop's reader callbacks, not asyncio transports, because this is
a stop channel that must hold against a misbehaving peer of our own uid:

- A stop line is acted on in the callback that read it (no task in between), and a line that
  ends at EOF without its newline is still a line.
- At most MAX_CONNECTIONS peers are served. A fresh connection is always taken: at the cap it
  evicts the peer idle longest, after reading whatever that peer already sent (a stop in it is
  still acted on). Holding connections open cannot lock `retrotread stop` out.
- One descriptor is held in reserve. When the process runs out (EMFILE), the reserve is given up
  (or an idle peer evicted) so that the connection waiting in the backlog, perhaps a stop, gets
  in. Accept errors are logged once per episode, never per attempt.
- The answers a peer has not read are bounded (MAX_WRITE_BUFFER_BYTES): a peer that asks and
  never reads is dropped, not buffered for.

Only peers with our uid are served; the directory itself is private (see `control_paths`).
Nothing a peer sends can do more than stop, pause or observe the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import select
import socket
from collections.abc import AsyncIterator, Awaitable, Coroutine
from pathlib import Path
from typing import Any

import structlog

from retrotread.channels.socket import paths, wire
from retrotread.errors import ControlSocketError
from retrotread.events import StopAck
from retrotread.session.control import SessionControl

log = structlog.get_logger(__name__)

SOURCE = "control-socket"
MAX_LINE_BYTES = wire.MAX_LINE_BYTES
ACK_TIMEOUT_S = paths.ACK_TIMEOUT_S
MAX_CONNECTIONS = 32
"""Peers served at once; a fresh connection beyond this evicts the one idle longest."""
MAX_WRITE_BUFFER_BYTES = 64 * 1024
"""Unsent answers one peer may have queued (beyond the kernel's buffer) before it is dropped."""
ACCEPTS_PER_WAKEUP = 8
"""Connections taken per readiness of the listening socket, so a flood cannot monopolise the
loop that also runs the supervisor."""
ACCEPT_RETRY_S = 0.1
"""With no descriptor to spare and nothing to evict, accepting pauses this long (or until a
peer leaves) instead of spinning on a listening socket that stays readable."""
BACKLOG = 128
_READ_CHUNK = 4096
"""Bytes read per callback: a peer pipelining requests is served in slices, not in one long
callback that would delay everything else on the loop."""
_OUT_OF_DESCRIPTORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_ONE_CONNECTION_LOST = frozenset({errno.ECONNABORTED, errno.EPROTO, errno.EPERM})
"""accept() errors about the one connection it dequeued: the next one may be a stop."""
_LINE_TOO_LONG = {"ok": False, "error": f"line longer than {MAX_LINE_BYTES} bytes"}


def _check_session_id(session_id: str) -> None:
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    if not session_id or session_id.startswith(".") or not set(session_id) <= allowed:
        raise ControlSocketError(f"session id {session_id!r} cannot name a control socket")


def _ack_fields(ack: StopAck) -> dict[str, Any]:
    return {"acknowledged": ack.acknowledged, "belt_mph": ack.belt_mph, "detail": ack.detail}


class _Once:
    """A warning logged the first time, then only counted (at debug), so a flood of the same
    event cannot flood the log."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.count = 0

    def __call__(self, **fields: Any) -> None:
        self.count += 1
        if self.count == 1:
            log.warning(self.message, **fields)
        else:
            log.debug(self.message, repeated=self.count, **fields)


class _Peer:
    """One connection: bounded lines in, one JSON answer per line out, bounded answers queued."""

    __slots__ = (
        "answers_pending",
        "closed",
        "fd",
        "flush_then_close",
        "inbox",
        "outbox",
        "peer_done",
        "server",
        "sock",
        "writing",
    )

    def __init__(self, server: _ControlServer, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.fd = sock.fileno()
        self.inbox = b""
        self.outbox = bytearray()
        self.answers_pending = 0
        self.peer_done = False
        self.flush_then_close = False
        self.writing = False
        self.closed = False

    @property
    def idle(self) -> bool:
        """Nothing owed to this peer and no request half read: evicting it loses nothing."""
        return self.answers_pending == 0 and not self.inbox and not self.outbox

    # --- reading -------------------------------------------------------------------------------

    def on_readable(self) -> None:
        """One slice of input; every complete line in it is acted on before returning."""
        try:
            data = self.sock.recv(_READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            return
        if data:
            self.server.touch(self)
            self.feed(data)
        else:
            self.on_eof()

    def drain(self) -> None:
        """Read and act on everything the peer has sent so far (before evicting it)."""
        while not self.closed and not self.peer_done:
            try:
                data = self.sock.recv(_READ_CHUNK)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if not data:
                self.on_eof()
                return
            self.feed(data)

    def feed(self, data: bytes) -> None:
        self.inbox += data
        while not self.closed:
            line, newline, rest = self.inbox.partition(b"\n")
            if not newline:
                if len(self.inbox) > MAX_LINE_BYTES:
                    self.refuse_long_line()
                return
            self.inbox = rest
            if len(line) > MAX_LINE_BYTES:
                self.refuse_long_line()
                return
            if line.strip():
                self.server.handle_line(self, line)

    def refuse_long_line(self) -> None:
        self.inbox = b""
        self.send(_LINE_TOO_LONG)
        self.close_when_flushed()

    def on_eof(self) -> None:
        """The peer half-closed: a last line without its newline still counts; answers to stops
        in flight are still written, then the connection is closed."""
        self.server.loop.remove_reader(self.fd)
        self.peer_done = True
        last, self.inbox = self.inbox, b""
        if last.strip() and len(last) <= MAX_LINE_BYTES:
            self.server.handle_line(self, last)
        elif last.strip():
            self.send(_LINE_TOO_LONG)
        if self.answers_pending == 0:
            self.close_when_flushed()

    # --- writing -------------------------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        if self.closed:
            return
        data = wire.encode(message)
        if not self.outbox:
            try:
                sent = self.sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self.close()
                return
            data = data[sent:]
            if not data:
                return
        self.outbox += data
        if len(self.outbox) > MAX_WRITE_BUFFER_BYTES:
            self.server.dropped_slow_reader(queued=len(self.outbox))
            self.close()
            return
        if not self.writing:
            self.writing = True
            self.server.loop.add_writer(self.fd, self.on_writable)

    def on_writable(self) -> None:
        try:
            sent = self.sock.send(self.outbox)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            return
        del self.outbox[:sent]
        if not self.outbox:
            self.writing = False
            self.server.loop.remove_writer(self.fd)
            if self.flush_then_close:
                self.close()

    # --- ending --------------------------------------------------------------------------------

    def answered(self) -> None:
        self.answers_pending -= 1
        if self.peer_done and self.answers_pending == 0:
            self.close_when_flushed()

    def close_when_flushed(self) -> None:
        if self.outbox:
            self.flush_then_close = True
        else:
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        loop = self.server.loop
        loop.remove_reader(self.fd)
        if self.writing:
            loop.remove_writer(self.fd)
        self.sock.close()
        self.outbox.clear()
        self.server.forget(self)


class _ControlServer:
    """The session-wide side: the listener, the peers, the reserve descriptor, the answers
    still being awaited."""

    def __init__(self, session: SessionControl, session_id: str, listener: socket.socket) -> None:
        self.session = session
        self.session_id = session_id
        self.loop = asyncio.get_running_loop()
        self.listener = listener
        self.peers: dict[int, _Peer] = {}  # least recently active first
        self.reserve: int | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._accepting = False
        self._retry: asyncio.TimerHandle | None = None
        self._accept_failures = 0
        self._closing = False
        self.dropped_slow_reader = _Once("control socket: dropped a peer that does not read")
        self._refused_uid = _Once("control socket: refused a peer of another user")

    # --- accepting -----------------------------------------------------------------------------

    def start(self) -> None:
        self._restore_reserve()
        self._resume_accepting()

    def _resume_accepting(self) -> None:
        self._retry = None
        if not self._accepting and not self._closing:
            self._accepting = True
            self.loop.add_reader(self.listener.fileno(), self._on_acceptable)

    def _pause_accepting(self) -> None:
        if self._accepting:
            self._accepting = False
            self.loop.remove_reader(self.listener.fileno())
        if self._retry is None:
            self._retry = self.loop.call_later(ACCEPT_RETRY_S, self._resume_accepting)

    def _on_acceptable(self) -> None:
        for _ in range(ACCEPTS_PER_WAKEUP):
            try:
                sock, _address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                self._restore_reserve()  # given up for a connection that was not there
                return
            except OSError as err:
                if err.errno in _ONE_CONNECTION_LOST:
                    continue
                if err.errno not in _OUT_OF_DESCRIPTORS:
                    self._accept_failed(err)
                    return
                # EMFILE comes before the backlog is looked at: free a descriptor only for a
                # connection that is really waiting, never evict a peer for nobody.
                if not self._connection_waiting():
                    return
                if self._make_room():
                    continue
                self._accept_failed(err)
                return
            if self._accept_failures:
                log.info("control socket: accepting again", refused=self._accept_failures)
                self._accept_failures = 0
            self._admit(sock)

    def _connection_waiting(self) -> bool:
        """A connection waits in the listen backlog (poll needs no descriptor of its own)."""
        poller = select.poll()
        poller.register(self.listener.fileno(), select.POLLIN)
        return bool(poller.poll(0))

    def _make_room(self) -> bool:
        """Free one descriptor for the connection waiting in the backlog: the reserve first,
        else the peer idle longest. False when there is nothing of ours to free."""
        if self.reserve is not None:
            os.close(self.reserve)
            self.reserve = None
            return True
        victim = self._eviction_victim()
        if victim is None:
            return False
        self._evict(victim)
        return True

    def _accept_failed(self, err: OSError) -> None:
        if self._accept_failures == 0:
            log.warning(
                "control socket: cannot accept connections; retrying",
                error=err.strerror,
                errno=err.errno,
            )
        self._accept_failures += 1
        self._pause_accepting()

    def _admit(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        uid = paths.peer_uid(sock)
        if uid != os.getuid():
            self._refused_uid(uid=uid)
            sock.close()
            return
        if len(self.peers) >= MAX_CONNECTIONS:
            victim = self._eviction_victim()
            if victim is not None:
                self._evict(victim)
        peer = _Peer(self, sock)
        self.peers[peer.fd] = peer
        self.loop.add_reader(peer.fd, peer.on_readable)
        # A stop client writes its line right after connecting: read it now, not a pass later.
        peer.on_readable()
        self._restore_reserve()

    def _eviction_victim(self) -> _Peer | None:
        """The peer idle longest; if every peer is owed an answer, the least recently active."""
        for peer in self.peers.values():
            if peer.idle:
                return peer
        return next(iter(self.peers.values()), None)

    def _evict(self, peer: _Peer) -> None:
        peer.drain()  # a stop it already sent still stops the belt
        peer.close()

    def _restore_reserve(self) -> None:
        if self.reserve is None and not self._closing:
            try:
                self.reserve = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                self.reserve = None

    def touch(self, peer: _Peer) -> None:
        """`peer` was just active: it becomes the last to be evicted."""
        if self.peers.pop(peer.fd, None) is not None:
            self.peers[peer.fd] = peer

    def forget(self, peer: _Peer) -> None:
        if self.peers.get(peer.fd) is peer:
            del self.peers[peer.fd]
        self._restore_reserve()
        if not self._accepting and not self._closing:
            if self._retry is not None:
                self._retry.cancel()
            self._resume_accepting()

    # --- requests ------------------------------------------------------------------------------

    def handle_line(self, peer: _Peer, line: bytes) -> None:
        try:
            request = wire.decode(line)
        except ValueError:
            peer.send({"ok": False, "error": "not a JSON line"})
            return
        if not isinstance(request, dict):
            peer.send({"ok": False, "error": "expected a JSON object"})
            return
        cmd = request.get("cmd")
        reply: dict[str, Any] = {"cmd": cmd}
        if "id" in request:
            reply["id"] = request["id"]
        if cmd == "stop":
            # The hot path: the Stop is on its way before anything else happens.
            self.request_stop()
            if request.get("receipt") is True:
                # `retrotread stop` asks for this line: it tells a live session from a hung one.
                peer.send(reply | {"ok": True, "receipt": True, "session": self.session_id})
            self._answer_later(peer, reply, self.session.stop(SOURCE))
        elif cmd == "pause":
            self._answer_later(peer, reply, self.session.pause(SOURCE))
        elif cmd == "status":
            peer.send(reply | self.status_fields())
        else:
            error = f"unknown cmd {cmd!r}; expected stop, pause or status"
            peer.send({"ok": False, "error": error})

    def _answer_later(self, peer: _Peer, reply: dict[str, Any], ack: Awaitable[StopAck]) -> None:
        async def answer() -> None:
            try:
                result = await asyncio.wait_for(ack, ACK_TIMEOUT_S)
            except TimeoutError:
                fields = {
                    "acknowledged": False,
                    "belt_mph": self.belt_mph(),
                    "detail": f"no acknowledgement within {ACK_TIMEOUT_S:g} s",
                }
            except Exception as err:  # a broken session must not break the socket
                log.exception("control socket: session call failed", cmd=reply["cmd"])
                peer.send(reply | {"ok": False, "error": f"{reply['cmd']} failed: {err}"})
                return
            else:
                fields = _ack_fields(result)
            head = {"ok": True, "session": self.session_id, "device": self.device()}
            peer.send(head | reply | fields)

        async def answer_then_maybe_close() -> None:
            try:
                await answer()
            finally:
                peer.answered()

        peer.answers_pending += 1
        self.spawn(answer_then_maybe_close())

    def request_stop(self) -> None:
        try:
            self.session.request_stop(SOURCE)
        except Exception:
            # The ack path (session.stop) reports the failure to the client.
            log.exception("control socket: request_stop failed")

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def belt_mph(self) -> float | None:
        try:
            return self.session.status().belt_mph
        except Exception:
            return None

    def device(self) -> str | None:
        try:
            return self.session.status().device
        except Exception:
            return None

    def status_fields(self) -> dict[str, Any]:
        try:
            status = self.session.status()
        except Exception as err:
            log.exception("control socket: status failed")
            return {"ok": False, "error": f"status failed: {err}"}
        return {
            "ok": True,
            "session": self.session_id,
            "state": status.state.value,
            "program": status.program,
            "segment": status.segment,
            "segment_index": status.segment_index,
            "belt_mph": status.belt_mph,
            "target_mph": status.target_mph,
            "elapsed_s": status.elapsed_s,
            "device": status.device,
        }

    async def close(self) -> None:
        self._closing = True
        if self._accepting:
            self._accepting = False
            self.loop.remove_reader(self.listener.fileno())
        if self._retry is not None:
            self._retry.cancel()
        self.listener.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for peer in list(self.peers.values()):
            peer.close()
        if self.reserve is not None:
            os.close(self.reserve)
            self.reserve = None


def _refused(why: str) -> ControlSocketError:
    """The one line for a socket that cannot be served: what is wrong (with its fix, where one
    is known), then why nothing moved."""
    return ControlSocketError(
        f"{why} (the belt was not started: `retrotread stop` could not reach this session)"
    )


def _prepare_socket_path(directory: Path | None, session_id: str) -> str:
    _check_session_id(session_id)
    if directory is None:
        try:
            dir_str = paths.ensure_control_dir()
        except OSError as err:
            if err.filename is None:  # our own refusal, which names the directory and the fix
                raise _refused(str(err)) from None
            raise _refused(
                f"cannot create the control socket directory {err.filename}: {err.strerror};"
                " fix: point XDG_RUNTIME_DIR (or TMPDIR) at a directory of yours"
            ) from None
    else:
        dir_str = str(directory)
        why = paths.refusal(dir_str)
        if why is not None:
            raise _refused(f"refusing control socket directory: {why}")
    path = paths.socket_path(dir_str, session_id)
    if not paths.fits_socket_path(path):
        raise _refused(f"control socket path too long for a Unix socket: {path}")
    paths.remove_stale_sockets(dir_str)
    if os.path.lexists(path):
        raise _refused(f"another running session already uses the id {session_id!r}")
    return path


def _listen(path: str) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.setblocking(False)
        listener.bind(path)
        # The private directory is the real barrier; the mode is a second one.
        os.chmod(path, 0o600)
        listener.listen(BACKLOG)
    except OSError as err:
        listener.close()
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise _refused(f"cannot serve the control socket {path}: {err.strerror}") from None
    return listener


@contextlib.asynccontextmanager
async def serve_control_socket(
    session: SessionControl, session_id: str, *, directory: Path | None = None
) -> AsyncIterator[Path]:
    """Serve `session` on `<control dir>/<session_id>.sock` for the duration of the block.

    ControlSocketError (exit 4) when it cannot be served, before anything else happens. Stale
    sockets of crashed sessions in the directory are removed on the way in; ours is removed on
    the way out (only if it is still ours).
    """
    path = _prepare_socket_path(directory, session_id)
    listener = _listen(path)
    inode = os.stat(path).st_ino
    control = _ControlServer(session, session_id, listener)
    control.start()
    try:
        yield Path(path)
    finally:
        await control.close()
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path).st_ino == inode:
                os.unlink(path)


def serve_session(control: SessionControl) -> contextlib.AbstractAsyncContextManager[Path]:
    """The runner's attachment: serve `control` under its own session id (`status().session`)."""
    return serve_control_socket(control, control.status().session)
