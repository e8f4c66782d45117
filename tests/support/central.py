"""Helpers for the treadmill tests (no tests here): a bleak central that records every FTMS value.

Everything goes through the unmodified bleak API over the virtual radio, on the virtual clock:
`virtual` turns an async test into a sync one run by `simulators.clock.run_virtual`, so waiting
for 10 virtual seconds costs microseconds.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from bleak import BleakClient

from retrotread.ftms import control_point as cp
from retrotread.ftms.control_point import ControlPointResponse, decode_response
from retrotread.ftms.machine_status import MachineStatus, decode_machine_status
from retrotread.ftms.treadmill_data import TreadmillData, decode_treadmill_data
from retrotread.ftms.uuids import (
    CONTROL_POINT_UUID,
    FITNESS_MACHINE_STATUS_UUID,
    TRAINING_STATUS_UUID,
    TREADMILL_DATA_UUID,
)
from simulators.clock import run_virtual
from simulators.harness import Simulator
from tests.support.virtual_time import advance

ANSWER_TIMEOUT_S = 5.0


def virtual(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async test on the virtual clock (a fresh loop per test)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        async def body() -> None:
            await test(*args, **kwargs)

        run_virtual(body())

    return run


class Central:
    """One bleak client subscribed to the FTMS characteristics, recording what arrives."""

    def __init__(self, sim: Simulator, **client_args: Any) -> None:
        self.sim = sim
        self.client = BleakClient(sim.address, backend=sim.client_backend, **client_args)
        self.answers: list[ControlPointResponse] = []
        self.statuses: list[MachineStatus] = []
        self.status_times: list[float] = []
        self.data: list[TreadmillData] = []
        self.raw_data: list[bytes] = []
        self.data_times: list[float] = []
        self.training: list[bytes] = []
        self._answer_arrived = asyncio.Event()

    async def __aenter__(self) -> Central:
        await self.client.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.disconnect()

    async def subscribe(self, control_point: bool = True) -> None:
        loop = asyncio.get_running_loop()

        def on_answer(_: object, value: bytearray) -> None:
            self.answers.append(decode_response(bytes(value)))
            self._answer_arrived.set()

        def on_status(_: object, value: bytearray) -> None:
            self.statuses.append(decode_machine_status(bytes(value)))
            self.status_times.append(loop.time())

        def on_data(_: object, value: bytearray) -> None:
            self.raw_data.append(bytes(value))
            if any(value):
                self.data.append(decode_treadmill_data(bytes(value)))
            self.data_times.append(loop.time())

        if control_point:
            await self.client.start_notify(CONTROL_POINT_UUID, on_answer)
        await self.client.start_notify(FITNESS_MACHINE_STATUS_UUID, on_status)
        await self.client.start_notify(TREADMILL_DATA_UUID, on_data)
        await self.client.start_notify(
            TRAINING_STATUS_UUID, lambda _, value: self.training.append(bytes(value))
        )

    async def write(self, payload: bytes) -> None:
        await self.client.write_gatt_char(CONTROL_POINT_UUID, payload, response=True)

    async def request(self, payload: bytes) -> ControlPointResponse:
        """Write a control-point request and wait for its indicated answer."""
        before = len(self.answers)
        self._answer_arrived.clear()
        await self.write(payload)
        async with asyncio.timeout(ANSWER_TIMEOUT_S):
            while len(self.answers) == before:
                await self._answer_arrived.wait()
                self._answer_arrived.clear()
        return self.answers[before]

    async def take_control_and_run(self, kmh: float) -> None:
        """Request control, set a speed, start, and let the belt reach it."""
        for payload in (cp.request_control(), cp.set_target_speed(kmh), cp.start_or_resume()):
            answer = await self.request(payload)
            assert answer.result.name == "success", answer
        await advance(kmh / self.sim.profile.belt.accel_kmh_per_s + 2)
