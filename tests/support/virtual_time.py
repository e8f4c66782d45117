"""Letting simulated time pass in a test, honestly.

`await advance(5)` moves the simulator's virtual clock five seconds on and costs no real time. It
refuses to run on an ordinary event loop, so a test can never silently turn into a real sleep.
"""

from __future__ import annotations

import asyncio

from simulators.clock import VirtualClockLoop


async def advance(seconds: float) -> None:
    loop = asyncio.get_running_loop()
    if not isinstance(loop, VirtualClockLoop):
        raise RuntimeError("advance() runs on the simulator's virtual clock only")
    await asyncio.sleep(seconds)
