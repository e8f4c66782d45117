"""The simulated heart-rate strap through bleak on the treadmill's radio, and its faults."""

from __future__ import annotations

import asyncio

import pytest
from bleak import BleakClient, BleakScanner

from retrotread.ftms.heart_rate import (
    HeartRateMeasurement,
    SensorContact,
    decode_heart_rate_measurement,
)
from retrotread.ftms.uuids import HEART_RATE_MEASUREMENT_UUID, HEART_RATE_SERVICE_UUID
from simulators.faults import DEFAULT_HR_DROP_S, FaultKind, parse_fault
from simulators.harness import Simulator, open_simulator
from simulators.strap import strap_advertising_data
from tests.support.central import Central, virtual
from tests.support.virtual_time import advance


class StrapReader:
    """A second bleak central on the strap, keeping every measurement it is sent."""

    def __init__(self, sim: Simulator) -> None:
        assert sim.strap_address is not None
        self.readings: list[HeartRateMeasurement] = []
        self.dropped = asyncio.Event()
        self.client = BleakClient(
            sim.strap_address,
            backend=sim.client_backend,
            disconnected_callback=lambda _c: self.dropped.set(),
        )

    async def open(self) -> None:
        await self.client.connect()
        await self.client.start_notify(HEART_RATE_MEASUREMENT_UUID, self._on_measurement)

    def _on_measurement(self, _char: object, data: bytearray) -> None:
        self.readings.append(decode_heart_rate_measurement(bytes(data)))


def test_strap_faults_parse() -> None:
    assert parse_fault("hr-drop@60").arg == DEFAULT_HR_DROP_S
    assert parse_fault("hr-drop@60:20").arg == 20.0
    assert parse_fault("hr-contact@60").kind is FaultKind.HR_CONTACT
    with pytest.raises(ValueError, match="takes no argument"):
        parse_fault("hr-contact@60:3")
    with pytest.raises(ValueError, match="must be > 0"):
        parse_fault("hr-drop@60:0")


def test_advertisement_fits() -> None:
    assert len(strap_advertising_data("RetroTread HR")) <= 31
    with pytest.raises(ValueError, match="too long"):
        strap_advertising_data("a strap with a very long name")


@virtual
async def test_strap_follows_the_walker_and_the_console_stays_quiet() -> None:
    async with open_simulator(hr_strap=True) as sim, Central(sim) as central:
        found = await BleakScanner.discover(
            timeout=0.5, service_uuids=[HEART_RATE_SERVICE_UUID], backend=sim.scanner_backend
        )
        assert {device.address.upper() for device in found} == {sim.strap_address}
        await central.subscribe()
        strap = StrapReader(sim)
        await strap.open()
        await central.take_control_and_run(5.0)
        await advance(120)
        assert central.data[-1].heart_rate_bpm is None  # the console forwards none
        first, last = strap.readings[0], strap.readings[-1]
        assert first.contact is SensorContact.detected
        assert last.heart_rate is not None
        assert last.heart_rate > first.heart_rate_bpm
        assert last.heart_rate == sim.treadmill.heart_rate_bpm
        assert last.rr_intervals_s[0] == pytest.approx(60 / last.heart_rate, abs=0.002)
        await strap.client.disconnect()


@virtual
async def test_hr_fault_reaches_the_strap_and_hr_contact_clears_the_contact_bit() -> None:
    faults = ["hr@5:150", "hr-contact@10"]
    async with open_simulator(faults=faults, hr_strap=True) as sim, Central(sim) as central:
        await central.subscribe()
        strap = StrapReader(sim)
        await strap.open()
        await advance(8)
        assert strap.readings[-1].heart_rate == 150
        await advance(4)
        assert strap.readings[-1].contact is SensorContact.not_detected
        assert strap.readings[-1].heart_rate is None
        await strap.client.disconnect()


@virtual
async def test_hr_drop_takes_the_strap_away_for_its_seconds() -> None:
    async with open_simulator(faults=["hr-drop@5:20"], hr_strap=True) as sim, Central(sim):
        strap = StrapReader(sim)
        await strap.open()
        await asyncio.wait_for(strap.dropped.wait(), timeout=10)
        loop = asyncio.get_running_loop()
        dropped_at = loop.time()
        count = len(strap.readings)
        await strap.client.connect(timeout=40.0)  # refused until the strap is back
        assert loop.time() >= dropped_at + 20 - 0.5
        await strap.client.start_notify(HEART_RATE_MEASUREMENT_UUID, strap._on_measurement)
        await advance(3)
        assert len(strap.readings) > count
        assert sim.treadmill.connected_count == 1  # the treadmill's link never dropped
        await strap.client.disconnect()


@virtual
async def test_a_single_central_strap_refuses_a_second_central() -> None:
    async with open_simulator(hr_strap=True) as sim:
        assert sim.profile.strap.single_central
        first = StrapReader(sim)
        await first.open()
        second = BleakClient(sim.strap_address or "", backend=sim.client_backend)
        with pytest.raises(Exception):  # noqa: B017, PT011 - bleak's error for a refused link varies
            await second.connect(timeout=3.0)
        assert not second.is_connected
        assert first.client.is_connected
        await first.client.disconnect()


@virtual
async def test_a_multi_central_strap_serves_two() -> None:
    async with open_simulator(hr_strap=True) as base:
        profile = base.profile.model_copy(
            update={"strap": base.profile.strap.model_copy(update={"single_central": False})}
        )
    async with open_simulator(profile, hr_strap=True) as sim:
        one, two = StrapReader(sim), StrapReader(sim)
        await one.open()
        await two.open()
        await advance(3)
        assert one.readings
        assert two.readings
        assert sim.strap is not None
        assert sim.strap.connected_count == 2
        await one.client.disconnect()
        await two.client.disconnect()
