"""Reading what a child process shows on a pseudo-terminal (or writes to a pipe), waiting on the
file descriptor with `select` and a deadline: never a sleep."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence


def _collect(fd: int, done: Callable[[bytes], bool], limit_s: float) -> bytes:
    """Bytes from `fd` until `done` holds for them, the child closes its end, or `limit_s`."""
    seen = b""
    deadline = time.monotonic() + limit_s
    while not done(seen):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    return seen


def read_until(fd: int, needle: bytes, limit_s: float = 60.0) -> bytes:
    """Everything up to and including the read that showed `needle`, which must show within
    `limit_s` and before the child closes its end."""
    seen = _collect(fd, lambda seen: needle in seen, limit_s)
    assert needle in seen, seen[-500:]
    return seen


def read_rest(fd: int, limit_s: float) -> bytes:
    """What is still shown until the child closes its end, or for `limit_s` at the most."""
    return _collect(fd, lambda _seen: False, limit_s)


def _take_terminal() -> None:
    """In the child: make the pty (already its stdin) its controlling terminal, so that Ctrl-C
    typed there is a SIGINT, as in a shell."""
    import fcntl
    import termios

    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def run_on_a_terminal(
    argv: Sequence[str], env: Mapping[str, str], *, typed_first: bytes = b""
) -> tuple[int, subprocess.Popen[bytes]]:
    """`argv` with stdin and stdout on a new pseudo-terminal it controls (stderr, the logs, to
    a pipe), `typed_first` typed before the child starts. Returns the pty's controller side
    (nothing read from it yet; the caller closes it) and the child."""
    controller, terminal = pty.openpty()
    if typed_first:
        # Typed into the terminal before the child runs: in its input from the start.
        os.write(controller, typed_first)
    process = subprocess.Popen(
        list(argv),
        stdin=terminal,
        stdout=terminal,
        stderr=subprocess.PIPE,
        env=dict(env),
        start_new_session=True,
        preexec_fn=_take_terminal,
    )
    os.close(terminal)
    return controller, process
