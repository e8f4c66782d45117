"""Asking the walker at the terminal: the confirmation before a real treadmill starts."""

from __future__ import annotations

import asyncio
import os
import sys


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
