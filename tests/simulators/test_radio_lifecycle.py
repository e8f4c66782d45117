"""Peripherals leaving the radio, per-call connect timeouts, and the cheaper Bumble debug text."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import bumble.colors
import bumble.controller
import bumble.hci
import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakDeviceNotFoundError
from bumble.core import AdvertisingData

from simulators.clock import run_virtual
from simulators.radio import VirtualRadio
from simulators.radio.speedups.debug_text import memoise_bumble_colors


def address_of(device: object) -> str:
    return str(device.random_address).upper()  # type: ignore[attr-defined]


async def advertise(device: object, name: str) -> None:
    data = bytes(AdvertisingData([(AdvertisingData.COMPLETE_LOCAL_NAME, name.encode())]))
    await device.start_advertising(  # type: ignore[attr-defined]
        advertising_data=data, auto_restart=True, advertising_interval_min=100
    )


async def test_connect_timeout_argument_of_the_call_is_honoured(radio: VirtualRadio) -> None:
    silent = await radio.add_peripheral("Silent")
    client = BleakClient(address_of(silent), backend=radio.client_backend)  # default 30 s
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TimeoutError):
        await client.connect(timeout=1.0)
    assert loop.time() - started == pytest.approx(1.0)
    assert not client.is_connected


async def test_removed_peripheral_drops_its_link_and_is_unknown_afterwards(
    radio: VirtualRadio,
) -> None:
    device = await radio.add_peripheral("Leaving")
    await advertise(device, "Leaving")
    address = address_of(device)
    dropped = asyncio.Event()
    client = BleakClient(
        address, disconnected_callback=lambda _c: dropped.set(), backend=radio.client_backend
    )
    await client.connect()

    await radio.remove_peripheral(address.lower())

    await asyncio.wait_for(dropped.wait(), 5)
    assert not client.is_connected
    assert not device.is_advertising
    with pytest.raises(BleakDeviceNotFoundError):
        radio.peripheral(address)
    with pytest.raises(BleakDeviceNotFoundError):
        await client.connect(timeout=1.0)
    found = await BleakScanner.discover(timeout=1.0, backend=radio.scanner_backend)
    assert address not in {d.address.upper() for d in found}


async def test_removed_address_can_be_used_again_and_others_stay(radio: VirtualRadio) -> None:
    staying = await radio.add_peripheral("Staying")
    await advertise(staying, "Staying")
    leaving = await radio.add_peripheral("Leaving", "C0:00:00:00:AA:01")
    radio.set_rssi("C0:00:00:00:AA:01", -80)

    await radio.remove_peripheral("C0:00:00:00:AA:01")
    await radio.remove_peripheral("C0:00:00:00:AA:01")  # a second removal is a no-op
    assert radio.rssi("C0:00:00:00:AA:01") == -50

    again = await radio.add_peripheral("Again", "C0:00:00:00:AA:01")
    assert again is not leaving
    await advertise(again, "Again")
    async with (
        BleakClient("C0:00:00:00:AA:01", backend=radio.client_backend) as client,
        BleakClient(address_of(staying), backend=radio.client_backend) as other,
    ):
        assert client.name == "Again"
        assert other.is_connected


async def test_remove_after_close_is_ignored() -> None:
    radio = VirtualRadio()
    device = await radio.add_peripheral("Gone")
    await radio.close()
    await radio.remove_peripheral(address_of(device))
    with pytest.raises(BleakDeviceNotFoundError):
        radio.peripheral(address_of(device))


def test_memoised_colors_give_the_same_debug_text() -> None:
    memoise_bumble_colors()
    assert memoise_bumble_colors() == 0
    original: Callable[..., str] = bumble.colors.color
    hci_color = vars(bumble.hci)["color"]
    assert hci_color is not original
    assert vars(bumble.controller)["color"] is hci_color
    for args in [
        ("ACL", "blue"),
        ("x", "green", "red", "bold+underline"),
        ("plain",),
        (1, "cyan"),
        (True, "cyan"),
        (["unhashable"], "cyan"),
    ]:
        assert hci_color(*args) == hci_color(*args) == original(*args)
    with pytest.raises(bumble.colors.ColorError):
        hci_color("x", "no-such-colour")
    packet = bumble.hci.HCI_Reset_Command()
    assert "HCI_RESET_COMMAND" in str(packet)


def test_bumble_debug_logging_still_works(caplog: pytest.LogCaptureFixture) -> None:
    async def one_connection() -> None:
        async with VirtualRadio() as radio:
            device = await radio.add_peripheral("Loud")
            await advertise(device, "Loud")
            async with BleakClient(address_of(device), backend=radio.client_backend):
                pass

    with caplog.at_level(logging.DEBUG, logger="bumble"):
        run_virtual(one_connection())
    messages = [record.getMessage() for record in caplog.records]
    assert any(
        "\x1b[" in message and "HCI_LE_CREATE_CONNECTION_COMMAND" in message for message in messages
    )
