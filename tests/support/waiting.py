"""Waiting on a condition that no event announces: another process's output (a file it writes,
a tmux pane), another thread's progress, bytes a terminal has not yet delivered.

Such a condition can only be polled; this is the one place tests poll, with one interval and
one deadline that fails the test with what was awaited. In-process session state has events
and the simulator's virtual clock (`tests/support/virtual_time.py`): wait on those instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL_S = 0.01  # how often a condition is looked at again
LIMIT_S = 10.0


def _said(what: str | Callable[[], str]) -> str:
    return what() if callable(what) else what


def until(
    condition: Callable[[], T],
    *,
    limit_s: float = LIMIT_S,
    what: str | Callable[[], str] = "the condition",
    fail_if: Callable[[], str | None] | None = None,
    interval_s: float = POLL_S,
) -> T:
    """The first truthy value of `condition`; the test fails after `limit_s`, or as soon as
    `fail_if` names a reason (the process being watched has ended, say)."""
    deadline = time.monotonic() + limit_s
    while not (value := condition()):
        if fail_if is not None and (reason := fail_if()):
            raise AssertionError(reason)
        assert time.monotonic() < deadline, f"no {_said(what)} within {limit_s} s"
        time.sleep(interval_s)  # nothing announces it: look again shortly
    return value


async def until_async(
    condition: Callable[[], T],
    *,
    limit_s: float = LIMIT_S,
    what: str | Callable[[], str] = "the condition",
    interval_s: float = POLL_S,
) -> T:
    """`until` on a running event loop, which goes on serving while it waits."""
    deadline = time.monotonic() + limit_s
    while not (value := condition()):
        assert time.monotonic() < deadline, f"no {_said(what)} within {limit_s} s"
        await asyncio.sleep(interval_s)  # nothing announces it: look again shortly
    return value
