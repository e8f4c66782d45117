"""The local control socket of a running session: `stop`, `pause`, `status` from this machine.

A raw `asyncio.Protocol` rather than streams: a stop line is acted on inside `data_received`, in the
same loop callback that read it, so the Stop reaches the supervisor without waiting for a task to
be scheduled. Only peers with our uid are served; the directory itself is private (see
`control_paths`). Nothing a peer sends can do more than stop, pause or observe the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import struct
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import structlog

from retrotread import control_paths
from retrotread.errors import RetrotreadError
from retrotread.session.control import SessionControl, StopAck

log = structlog.get_logger(__name__)

SOURCE = "control-socket"
MAX_LINE_BYTES = 1024
ACK_TIMEOUT_S = control_paths.ACK_TIMEOUT_S
_PEERCRED = struct.Struct("3i")


class ControlSocketError(RetrotreadError):
    """The control socket could not be served safely (directory, path or session id)."""

    exit_code = 1


def _check_session_id(session_id: str) -> None:
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    if not session_id or session_id.startswith(".") or not set(session_id) <= allowed:
        raise ControlSocketError(f"session id {session_id!r} cannot name a control socket")


def _peer_uid(transport: asyncio.BaseTransport) -> int | None:
    sock = transport.get_extra_info("socket")
    if sock is None:
        return None
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
    except OSError:
        return None
    _pid, uid, _gid = _PEERCRED.unpack(raw)
    return int(uid)


def _ack_fields(ack: StopAck) -> dict[str, Any]:
    return {"acknowledged": ack.acknowledged, "belt_mph": ack.belt_mph, "detail": ack.detail}


class _ControlProtocol(asyncio.Protocol):
    """One connection: bounded lines in, one JSON answer per line out."""

    def __init__(self, server: _ControlServer) -> None:
        self._server = server
        self._transport: asyncio.Transport | None = None
        self._buffer = b""
        self._pending_answers = 0
        self._peer_done = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        uid = _peer_uid(transport)
        if uid != os.getuid():
            log.warning("control socket: refused a peer of another user", uid=uid)
            transport.abort()
            return
        self._transport = transport
        self._server.connections.add(transport)

    def data_received(self, data: bytes) -> None:
        if self._transport is None:
            return
        self._buffer += data
        while self._transport is not None:
            line, newline, rest = self._buffer.partition(b"\n")
            if not newline:
                if len(self._buffer) > MAX_LINE_BYTES:
                    self._send({"ok": False, "error": f"line longer than {MAX_LINE_BYTES} bytes"})
                    self._close()
                return
            self._buffer = rest
            if len(line) > MAX_LINE_BYTES:
                self._send({"ok": False, "error": f"line longer than {MAX_LINE_BYTES} bytes"})
                self._close()
                return
            if line.strip():
                self._handle_line(line)

    def eof_received(self) -> bool:
        # A peer that half-closes still gets the answers to stops in flight, then EOF.
        self._peer_done = True
        if self._pending_answers == 0:
            self._close()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self._forget()

    def _handle_line(self, line: bytes) -> None:
        try:
            request = json.loads(line)
        except ValueError:
            self._send({"ok": False, "error": "not a JSON line"})
            return
        if not isinstance(request, dict):
            self._send({"ok": False, "error": "expected a JSON object"})
            return
        cmd = request.get("cmd")
        reply: dict[str, Any] = {"cmd": cmd}
        if "id" in request:
            reply["id"] = request["id"]
        session = self._server.session
        if cmd == "stop":
            # The hot path: the Stop is on its way before anything else happens.
            self._server.request_stop()
            self._answer_later(reply, session.stop(SOURCE))
        elif cmd == "pause":
            self._answer_later(reply, session.pause(SOURCE))
        elif cmd == "status":
            self._send(reply | self._server.status_fields())
        else:
            error = f"unknown cmd {cmd!r}; expected stop, pause or status"
            self._send({"ok": False, "error": error})

    def _answer_later(self, reply: dict[str, Any], ack: Awaitable[StopAck]) -> None:
        async def answer() -> None:
            try:
                result = await asyncio.wait_for(ack, ACK_TIMEOUT_S)
            except TimeoutError:
                fields = {
                    "acknowledged": False,
                    "belt_mph": self._server.belt_mph(),
                    "detail": f"no acknowledgement within {ACK_TIMEOUT_S:g} s",
                }
            except Exception as err:  # a broken session must not break the socket
                log.exception("control socket: session call failed", cmd=reply["cmd"])
                self._send(reply | {"ok": False, "error": f"{reply['cmd']} failed: {err}"})
                return
            else:
                fields = _ack_fields(result)
            head = {"ok": True, "session": self._server.session_id, "device": self._server.device()}
            self._send(head | reply | fields)

        async def answer_then_maybe_close() -> None:
            try:
                await answer()
            finally:
                self._pending_answers -= 1
                if self._peer_done and self._pending_answers == 0:
                    self._close()

        self._pending_answers += 1
        self._server.spawn(answer_then_maybe_close())

    def _send(self, message: dict[str, Any]) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(json.dumps(message).encode() + b"\n")

    def _close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        self._forget()

    def _forget(self) -> None:
        if self._transport is not None:
            self._server.connections.discard(self._transport)
            self._transport = None


class _ControlServer:
    """The session-wide side: the session, its id, and the answers still being awaited."""

    def __init__(self, session: SessionControl, session_id: str) -> None:
        self.session = session
        self.session_id = session_id
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections: set[asyncio.Transport] = set()

    def request_stop(self) -> None:
        try:
            self.session.request_stop(SOURCE)
        except Exception:
            # The ack path (session.stop) reports the failure to the client.
            log.exception("control socket: request_stop failed")

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
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
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for transport in list(self.connections):
            transport.close()


def _prepare_socket_path(directory: Path | None, session_id: str) -> str:
    _check_session_id(session_id)
    if directory is None:
        try:
            dir_str = control_paths.ensure_control_dir()
        except PermissionError as err:
            raise ControlSocketError(str(err)) from None
    else:
        dir_str = str(directory)
        problem = control_paths.private_dir_problem(dir_str)
        if problem is not None:
            raise ControlSocketError(f"refusing control socket directory: {problem}")
    path = control_paths.socket_path(dir_str, session_id)
    if not control_paths.fits_socket_path(path):
        raise ControlSocketError(f"control socket path too long for a Unix socket: {path}")
    control_paths.remove_stale_sockets(dir_str)
    if os.path.lexists(path):
        raise ControlSocketError(f"another running session already uses the id {session_id!r}")
    return path


@contextlib.asynccontextmanager
async def serve_control_socket(
    session: SessionControl, session_id: str, *, directory: Path | None = None
) -> AsyncIterator[Path]:
    """Serve `session` on `<control dir>/<session_id>.sock` for the duration of the block.

    Stale sockets of crashed sessions in the directory are removed on the way in; ours is removed
    on the way out (only if it is still ours).
    """
    path = _prepare_socket_path(directory, session_id)
    control = _ControlServer(session, session_id)
    loop = asyncio.get_running_loop()
    try:
        server = await loop.create_unix_server(lambda: _ControlProtocol(control), path)
    except OSError as err:
        raise ControlSocketError(f"cannot serve control socket {path}: {err.strerror}") from None
    # The private directory is the real barrier; the mode is a second one.
    os.chmod(path, 0o600)
    inode = os.stat(path).st_ino
    try:
        yield Path(path)
    finally:
        server.close()
        await control.close()
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path).st_ino == inode:
                os.unlink(path)


def serve_session(control: SessionControl) -> contextlib.AbstractAsyncContextManager[Path]:
    """The runner's attachment: serve `control` under its own session id (`status().session`)."""
    return serve_control_socket(control, control.status().session)
