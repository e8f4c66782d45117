"""What every simulated peripheral (the treadmill, the heart-rate strap) shares: its tasks
(start them, log one that fails, cancel them all on close) and a dropped radio link."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from bumble.device import Connection, Device


class TaskOwner:
    """Background tasks owned by one peripheral; `close()` ends them. `_closed` tells the
    peripheral's own callbacks that it is shutting down."""

    device: Device

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._connections: dict[int, Connection] = {}
        self._down_until: float | None = None  # the link is down until then (loop time)
        self._advertising_lock = asyncio.Lock()
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

    async def _drop_link(self, down_s: float) -> None:
        """The link goes down for `down_s`: no advertising, every connection refused, then
        advertising again (a walker out of range, a strap that lost its battery contact)."""
        self._down_until = asyncio.get_running_loop().time() + down_s
        async with self._advertising_lock:
            await self.device.stop_advertising()
        for connection in list(self._connections.values()):
            await self._refuse(connection)
        await asyncio.sleep(down_s)
        self._down_until = None
        await self._advertise()

    async def _refuse(self, connection: Connection) -> None:
        raise NotImplementedError

    async def _advertise(self) -> None:
        raise NotImplementedError
