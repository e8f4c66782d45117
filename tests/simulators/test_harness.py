"""open_simulator on a shared radio: leaving takes the machine off the air, the others stay."""

from __future__ import annotations

import asyncio

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakDeviceNotFoundError

from retrotread.ftms.uuids import FTMS_SERVICE_UUID
from simulators.harness import open_simulator
from simulators.radio import VirtualRadio


async def test_closing_a_simulator_on_a_shared_radio_removes_its_device() -> None:
    async with VirtualRadio() as radio, open_simulator(radio=radio, name="Stays") as staying:
        dropped = asyncio.Event()
        async with open_simulator(radio=radio, name="Leaves") as leaving:
            address = leaving.address
            client = BleakClient(
                address,
                disconnected_callback=lambda _c: dropped.set(),
                backend=radio.client_backend,
            )
            await client.connect()
        await asyncio.wait_for(dropped.wait(), 5)

        with pytest.raises(BleakDeviceNotFoundError):
            radio.peripheral(address)
        with pytest.raises(BleakDeviceNotFoundError):
            await client.connect(timeout=1.0)
        found = await BleakScanner.discover(
            timeout=0.5, service_uuids=[FTMS_SERVICE_UUID], backend=radio.scanner_backend
        )
        assert {device.address.upper() for device in found} == {staying.address}

        async with open_simulator(radio=radio, name="Returns", address=address) as returning:
            async with BleakClient(address, backend=radio.client_backend) as again:
                assert again.name == "Returns"
            assert returning.treadmill.connection_count == 1


async def test_own_radio_closes_after_the_device_left() -> None:
    async with open_simulator() as sim:
        radio = sim.radio
        address = sim.address
    with pytest.raises(BleakDeviceNotFoundError):
        radio.peripheral(address)
