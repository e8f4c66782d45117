"""The virtual radio: Bumble devices on one LocalLink, and bleak backends bound to it."""

from __future__ import annotations

import asyncio
import itertools
import logging
from types import TracebackType
from typing import Protocol, Self

from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import BleakDeviceNotFoundError
from bumble.controller import Controller
from bumble.device import Advertisement, Device
from bumble.hci import Address
from bumble.link import LocalLink

from simulators.radio import speedups
from simulators.radio.client import VirtualRadioClient
from simulators.radio.scanner import VirtualRadioScanner

logger = logging.getLogger(__name__)

# What Bumble's virtual controller reports for every advertisement.
DEFAULT_RSSI = -50


class AdvertisementListener(Protocol):
    def on_advertisement(self, advertisement: Advertisement, rssi: int) -> None: ...


class VirtualRadio:
    """Owns a LocalLink; every peripheral and central is a powered Bumble Device on it.

    Use inside a running loop: ``async with VirtualRadio() as radio``. Pass
    ``radio.scanner_backend`` / ``radio.client_backend`` to ``BleakScanner`` / ``BleakClient``
    as ``backend=`` and the unmodified bleak API drives the link.

    Creating a radio installs the speed-ups of ``simulators.radio.speedups`` (this is their one
    call site): IncompatibleBumbleError, naming the attribute, if the installed Bumble no longer
    has what they reach into.
    """

    def __init__(self) -> None:
        self._speedups = speedups.install()
        self.link = LocalLink()  # type: ignore[no-untyped-call]  # untyped in bumble
        self._devices: list[tuple[Device, Controller]] = []
        self._peripherals: dict[str, Device] = {}
        self._rssi: dict[str, int] = {}
        self._serial = itertools.count(1)
        self._observer: Device | None = None
        self._idle_centrals: list[Device] = []
        self._observer_lock = asyncio.Lock()
        self._listeners: list[AdvertisementListener] = []
        self.scanner_backend: type[BaseBleakScanner] = type(
            "VirtualRadioScanner", (VirtualRadioScanner,), {"radio": self}
        )
        self.client_backend: type[BaseBleakClient] = type(
            "VirtualRadioClient", (VirtualRadioClient,), {"radio": self}
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Drop every connection, silence every advertiser and take the devices off the link."""
        self._listeners.clear()
        for device, controller in self._devices:
            await self._retire(device, controller)
        self._devices.clear()
        self._peripherals.clear()
        self._idle_centrals.clear()
        self._observer = None

    # Devices

    async def add_peripheral(self, name: str, address: str | None = None) -> Device:
        """A powered Device for a simulator: add GATT services to it, then start advertising."""
        address = (address or self._fresh_address(0xC0)).upper()
        if address in self._peripherals:
            raise ValueError(f"address {address} is already on this radio")
        device = await self._add_device(name, address)
        self._peripherals[address] = device
        return device

    async def remove_peripheral(self, address: str) -> None:
        """Take a peripheral off the link: its links drop, it goes silent, the address is free.

        Afterwards a connect to ``address`` raises BleakDeviceNotFoundError, as for a machine
        that was never there. An unknown address (already removed, radio closed) is ignored so
        that shutdown paths need not know who cleaned up first.
        """
        device = self._peripherals.pop(address.upper(), None)
        if device is None:
            return
        self._rssi.pop(address.upper(), None)
        for entry in self._devices:
            if entry[0] is device:
                self._devices.remove(entry)
                await self._retire(*entry)
                return

    async def acquire_central(self) -> Device:
        """A powered Device for one connected client: each BleakClient is its own host.

        Centrals are pooled so that a long run of connect/disconnect cycles does not keep adding
        controllers to the link (every advertisement is delivered to each of them).
        """
        if self._idle_centrals:
            return self._idle_centrals.pop()
        return await self._add_device("central", self._fresh_address(0xC1))

    def release_central(self, central: Device) -> None:
        """Give back a central that has no connection left."""
        self._idle_centrals.append(central)

    def discard_central(self, central: Device) -> None:
        """Take a central in an unknown state off the link for good."""
        for device, controller in self._devices:
            if device is central:
                self.link.remove_controller(controller)
                self._devices.remove((device, controller))
                return

    def peripheral(self, address: str) -> Device:
        try:
            return self._peripherals[address.upper()]
        except KeyError:
            raise BleakDeviceNotFoundError(
                address, f"no peripheral {address} on the virtual radio"
            ) from None

    def _fresh_address(self, top_byte: int) -> str:
        serial = next(self._serial)
        return f"{top_byte:02X}:00:00:00:{serial >> 8 & 0xFF:02X}:{serial & 0xFF:02X}"

    async def _retire(self, device: Device, controller: Controller) -> None:
        # Before the links drop: a connected advertiser with auto_restart would advertise again
        # on disconnection, and its controller would tick on, off the link, until the loop ends.
        await device.stop_advertising()
        for connection in list(device.connections.values()):
            await connection.disconnect()
        if device.is_advertising:
            await device.stop_advertising()
        if device.scanning:
            await device.stop_scanning()
        await device.power_off()
        self.link.remove_controller(controller)

    async def _add_device(self, name: str, address: str) -> Device:
        controller = self._speedups.controller(name, link=self.link, public_address=address)
        device = Device(name=name, address=Address(address), host=self._speedups.host(controller))
        await device.power_on()
        self._devices.append((device, controller))
        return device

    # Signal strength

    def set_rssi(self, address: str, dbm: int) -> None:
        """Signal strength that scans report for ``address`` (Bumble always says -50)."""
        self._rssi[address.upper()] = dbm

    def rssi(self, address: str) -> int:
        return self._rssi.get(address.upper(), DEFAULT_RSSI)

    # Scanning: one observer device serves every active bleak scanner.

    async def add_listener(self, listener: AdvertisementListener) -> None:
        self._listeners.append(listener)
        async with self._observer_lock:  # two scanners starting at once share one observer
            if self._observer is None:
                self._observer = await self._add_device("observer", self._fresh_address(0xC2))
                self._observer.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
            if not self._observer.scanning:
                await self._observer.start_scanning(filter_duplicates=False)

    async def remove_listener(self, listener: AdvertisementListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)
        if not self._listeners and self._observer is not None and self._observer.scanning:
            await self._observer.stop_scanning()

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        address = advertisement.address.to_string(with_type_qualifier=False)
        rssi = self.rssi(address)
        for listener in list(self._listeners):
            try:
                listener.on_advertisement(advertisement, rssi)
            except Exception:
                # A failing detection callback must not break Bumble's event dispatch.
                logger.exception("advertisement listener failed")
