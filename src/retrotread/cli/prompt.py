"""Asking the walker at the terminal: the confirmation before a real treadmill starts, and how
hard the session felt once it is over."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TextIO

RPE_QUESTION = "How hard was that, 6 to 20? (6 no exertion, 20 maximal; Enter skips) "
RPE_AGAIN = "Please type a whole number from 6 to 20, or press Enter to skip: "
RPE_SKIPPED = "Not rated; `retrotread rate last N` records it later."


async def confirm_on_terminal(plan_text: str) -> bool:
    """Show the plan and wait for Enter; False at end of input (EOF is not a confirmation)."""
    print(plan_text, file=sys.stderr)
    print("Press Enter to start the belt (Ctrl-C to cancel) ", end="", file=sys.stderr)
    sys.stderr.flush()
    return await enter_pressed()


async def enter_pressed() -> bool:
    """Wait for a line on stdin; False at end of input.

    Read through the event loop, not a worker thread: a thread blocked in `readline` can't be
    interrupted, so Ctrl-C at the prompt would leave `asyncio.run` waiting for it forever."""
    loop = asyncio.get_running_loop()
    fd = sys.stdin.fileno()
    answer: asyncio.Future[bool] = loop.create_future()

    def on_readable() -> None:
        data = os.read(fd, 4096)
        if not answer.done() and (not data or b"\n" in data):
            answer.set_result(bool(data))

    try:
        loop.add_reader(fd, on_readable)
    except PermissionError:  # a regular file (epoll refuses it) never blocks: read it at once
        return sys.stdin.readline() != ""
    try:
        return await answer
    finally:
        loop.remove_reader(fd)


def on_a_terminal(*streams: TextIO | None) -> bool:
    """Every stream is there and is a terminal (a closed descriptor leaves Python's None)."""
    try:
        return all(stream is not None and stream.isatty() for stream in streams)
    except (OSError, ValueError):  # closed underneath us
        return False


def ask_rpe(stdin: TextIO | None = None, stdout: TextIO | None = None) -> int | None:
    """Ask how hard the session felt (Borg's RPE, 6-20) once the belt has stopped.

    Enter, end of input (Ctrl-D) and Ctrl-C skip; an answer that is not a whole number from 6
    to 20 is asked for once more, then skipped. Never raises for anything the person types:
    the session is over and recorded, and a rating is a bonus."""
    from retrotread.errors import InputError
    from retrotread.validation import check_rpe

    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    _discard_typed_ahead(stdin)
    for question in (RPE_QUESTION, RPE_AGAIN):
        try:
            stdout.write(question)
            stdout.flush()
            line = stdin.readline()
        except KeyboardInterrupt:
            line = ""
        except (OSError, ValueError):  # a terminal that went away
            return None
        if not line.strip():
            if not line.endswith("\n"):  # Ctrl-D / Ctrl-C: end the prompt's line
                _write(stdout, "\n")
            return None
        try:
            return check_rpe(line.strip(), "rating")
        except InputError:  # not a whole number 6..20
            continue
    _write(stdout, RPE_SKIPPED + "\n")
    return None


def _discard_typed_ahead(stdin: TextIO) -> None:
    """Throw away what was typed before the question: keys pressed during the session (`q`,
    space) are still in the terminal's input and would spoil the answer. Nothing to do for a
    stream that is not a terminal."""
    import termios

    try:
        if stdin.isatty():
            termios.tcflush(stdin.fileno(), termios.TCIFLUSH)
    except (OSError, ValueError, termios.error):
        pass


def _write(stream: TextIO, text: str) -> None:
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError):
        pass
