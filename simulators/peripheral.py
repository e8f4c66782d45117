"""What every simulated peripheral (the treadmill, the heart-rate strap) does with its tasks:
start them, log one that fails, and cancel them all on close."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any


class TaskOwner:
    """Background tasks owned by one peripheral; `close()` ends them. `_closed` tells the
    peripheral's own callbacks that it is shutting down."""

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._task_logger = logger
        self._what = what

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._task_logger.error(f"{self._what} task failed", exc_info=task.exception())
