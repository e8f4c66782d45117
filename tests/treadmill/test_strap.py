"""The heart-rate strap client through bleak against the simulated strap, on the virtual clock:
connect after the treadmill, readings and contact, the heart rate Telemetry carries, reconnect."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TypeVar

import pytest

from retrotread.errors import ConnectError
from retrotread.ftms.heart_rate import SensorContact
from retrotread.treadmill import (
    HeartRateReading,
    HeartRateStrap,
    StrapBack,
    StrapLost,
    Telemetry,
    Treadmill,
    TreadmillEvent,
)
from retrotread.treadmill.scan import scan_devices
from retrotread.treadmill.strap import StrapEvent
from simulators.clock import run_virtual
from simulators.harness import Simulator, open_simulator
from tests.support.virtual_time import advance

T = TypeVar("T")


def run(body: Callable[[], Awaitable[T]]) -> T:
    async def wrapper() -> T:
        return await body()

    return run_virtual(wrapper())


@asynccontextmanager
async def with_strap(
    faults: Sequence[str] = (), console_heart_rate: bool = False
) -> AsyncIterator[
    tuple[Simulator, Treadmill, HeartRateStrap, list[TreadmillEvent], list[StrapEvent]]
]:
    async with open_simulator("generic", faults, hr_strap=True) as base:
        profile = base.profile
    strap_settings = profile.strap.model_copy(update={"console_heart_rate": console_heart_rate})
    profile = profile.model_copy(update={"strap": strap_settings})
    async with open_simulator(profile, faults, hr_strap=True) as sim:
        assert sim.strap_address is not None
        treadmill = await Treadmill.connect(
            sim.address, scanner_backend=sim.scanner_backend, client_backend=sim.client_backend
        )
        strap = await HeartRateStrap.connect(
            sim.strap_address,
            connect_lock=treadmill.connect_lock,
            scanner_backend=sim.scanner_backend,
            client_backend=sim.client_backend,
        )
        treadmill.use_heart_rate(strap)
        events: list[TreadmillEvent] = []
        readings: list[StrapEvent] = []
        treadmill.add_listener(events.append)
        strap.add_listener(readings.append)
        try:
            yield sim, treadmill, strap, events, readings
        finally:
            await strap.close()
            await treadmill.disconnect()


def telemetry(events: list[TreadmillEvent]) -> list[Telemetry]:
    return [event for event in events if isinstance(event, Telemetry)]


def test_strap_heart_rate_wins_over_the_treadmills() -> None:
    async def body() -> None:
        async with with_strap(["hr@5:150"], console_heart_rate=True) as (sim, _, strap, ev, rd):
            await advance(10)
            readings = [r for r in rd if isinstance(r, HeartRateReading)]
            assert readings[-1].heart_rate_bpm == 150
            assert readings[-1].contact is SensorContact.detected
            last = telemetry(ev)[-1]
            assert (last.heart_rate_bpm, last.heart_rate_source) == (150, "strap")
            assert strap.current_bpm(asyncio.get_running_loop().time()) == 150
            assert sim.strap is not None
            assert sim.strap.connected_count == 1

    run(body)


def test_without_skin_contact_the_treadmills_heart_rate_stands_in() -> None:
    async def body() -> None:
        async with with_strap(["hr-contact@5"], console_heart_rate=True) as (sim, _, _s, ev, rd):
            await advance(10)
            last_reading = [r for r in rd if isinstance(r, HeartRateReading)][-1]
            assert last_reading.contact is SensorContact.not_detected
            assert last_reading.heart_rate_bpm is None
            last = telemetry(ev)[-1]
            assert last.heart_rate_source == "treadmill"
            assert last.heart_rate_bpm == sim.treadmill.heart_rate_bpm

    run(body)


def test_a_console_without_heart_rate_and_a_silent_strap_give_none() -> None:
    async def body() -> None:
        async with with_strap(["hr-contact@5"]) as (_, _t, _s, ev, _r):
            await advance(3)
            assert telemetry(ev)[-1].heart_rate_source == "strap"
            await advance(5)
            last = telemetry(ev)[-1]
            assert (last.heart_rate_bpm, last.heart_rate_source) == (None, None)

    run(body)


def test_the_strap_reconnects_after_a_drop() -> None:
    async def body() -> None:
        async with with_strap(["hr-drop@5:20"]) as (_, treadmill, strap, ev, rd):
            await advance(10)
            assert any(isinstance(r, StrapLost) for r in rd)
            assert not strap.is_connected
            assert telemetry(ev)[-1].heart_rate_bpm is None  # stale, not the last value
            await advance(25)
            assert any(isinstance(r, StrapBack) for r in rd)
            assert strap.is_connected
            assert strap.reconnects == 1
            assert telemetry(ev)[-1].heart_rate_source == "strap"
            assert treadmill.is_connected
            lost = [r for r in rd if isinstance(r, StrapLost)]
            assert len(lost) == 1  # refused attempts while it was away are not more losses

    run(body)


def test_the_strap_waits_for_the_treadmills_connect() -> None:
    async def body() -> None:
        async with open_simulator(hr_strap=True) as sim:
            assert sim.strap_address is not None
            lock = asyncio.Lock()
            await lock.acquire()
            attempt = asyncio.ensure_future(
                HeartRateStrap.connect(
                    sim.strap_address,
                    connect_lock=lock,
                    scanner_backend=sim.scanner_backend,
                    client_backend=sim.client_backend,
                )
            )
            await advance(5)
            assert not attempt.done()
            assert sim.strap is not None
            assert sim.strap.connection_count == 0
            lock.release()
            strap = await attempt
            assert strap.is_connected
            await strap.close()

    run(body)


def test_an_absent_strap_is_a_connect_error() -> None:
    async def body() -> None:
        async with open_simulator() as sim:
            with pytest.raises(ConnectError, match="no heart-rate strap 'Nobody'") as err:
                await HeartRateStrap.connect(
                    "Nobody",
                    scanner_backend=sim.scanner_backend,
                    client_backend=sim.client_backend,
                    scan_timeout=2.0,
                )
            assert err.value.exit_code == 4

    run(body)


def test_a_treadmill_is_not_a_strap() -> None:
    async def body() -> None:
        async with open_simulator() as sim:
            with pytest.raises(ConnectError, match="not a heart-rate strap"):
                await HeartRateStrap.connect(
                    sim.address,
                    scanner_backend=sim.scanner_backend,
                    client_backend=sim.client_backend,
                )

    run(body)


def test_one_scan_finds_the_treadmill_and_the_strap() -> None:
    async def body() -> None:
        async with open_simulator(hr_strap=True) as sim:
            treadmills, straps = await scan_devices(2.0, backend=sim.scanner_backend)
            assert [t.address for t in treadmills] == [sim.address]
            assert [(s.address, s.name) for s in straps] == [(sim.strap_address, "RetroTread HR")]

    run(body)
