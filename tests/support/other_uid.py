"""Talking to a control socket as another user: the peer-credential checks need a real process
with another uid, so the test forks and drops privileges (the tests run as root)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

NOBODY = 65534


def connect_as(uid: int, path: Path, payload: bytes) -> str:
    """Fork, drop to `uid`, connect and send `payload`; return what the child saw."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: no Python-level cleanup, no pytest, just the socket
        outcome = "?"
        try:
            os.setgid(uid)
            os.setuid(uid)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(30)
            sock.connect(str(path))
            sock.sendall(payload)
            data = sock.recv(65536)
            outcome = "answered:" + data.decode(errors="replace") if data else "closed"
        except PermissionError:
            outcome = "permission-denied"
        except (ConnectionResetError, BrokenPipeError):
            outcome = "closed"  # refused: the server dropped the connection
        except BaseException as err:
            outcome = f"error:{err!r}"
        os.write(write_end, outcome.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        outcome = pipe.read().decode()
    os.waitpid(pid, 0)
    return outcome
