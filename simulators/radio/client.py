"""bleak client backend: one Bumble central per BleakClient, speaking real ATT over the link."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from bleak.args import SizedBuffer
from bleak.assigned_numbers import gatt_char_props_to_strs
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError, BleakGATTProtocolError
from bumble import core
from bumble.att import ATT_DEFAULT_MTU, ATT_Error
from bumble.device import Connection, Device, Peer
from bumble.gatt_client import CharacteristicProxy, ServiceProxy
from bumble.hci import Address

from simulators.radio.convert import bleak_uuid

if TYPE_CHECKING:
    from simulators.radio.link import VirtualRadio

logger = logging.getLogger(__name__)

# What BlueZ asks for; the peripheral's answer decides the negotiated MTU.
REQUESTED_MTU = 517


class VirtualRadioClient(BaseBleakClient):
    """Bound to one radio by a per-radio subclass (bleak instantiates backends itself)."""

    radio: ClassVar[VirtualRadio]

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None,
        timeout: float,
        services: set[str] | None = None,
        **_platform_args: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        self.address = self.address.upper()
        self._wanted_services = services
        self._central: Device | None = None
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._mtu = ATT_DEFAULT_MTU
        self._subscribers: dict[int, Callable[[bytes], None]] = {}

    # Connectivity

    @property
    def name(self) -> str:
        return self.radio.peripheral(self.address).name

    @property
    def mtu_size(self) -> int:
        return self._mtu

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        if self._connection is not None:
            return
        timeout: float = kwargs.get("timeout", self._timeout)
        self.radio.peripheral(self.address)  # BleakDeviceNotFoundError if nobody has it
        central = await self.radio.acquire_central()
        try:
            async with asyncio.timeout(timeout):
                connection = await central.connect(Address(self.address), timeout=None)
        except core.ConnectionError as error:
            self.radio.discard_central(central)
            raise BleakError(f"connection to {self.address} failed: {error}") from error
        except BaseException:
            # Bumble's virtual controller never completes a cancelled connection attempt, so a
            # central that timed out (or was cancelled) would stay "connecting": retire it.
            self.radio.discard_central(central)
            raise
        self._central = central
        self._connection = connection
        self._peer = Peer(connection)
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)
        try:
            async with asyncio.timeout(timeout), self._gatt() as peer:
                self._mtu = await peer.request_mtu(REQUESTED_MTU)
                self.services = await self._discover(peer)
        except BaseException:
            await self.disconnect()
            raise

    async def disconnect(self) -> None:
        connection = self._connection
        if connection is None:
            return
        try:
            await connection.disconnect()
        except core.BaseBumbleError as error:
            logger.debug("disconnect from %s: %s", self.address, error)

    def _on_disconnection(self, _reason: int) -> None:
        self._connection = None
        if self._central is not None:
            self.radio.release_central(self._central)
            self._central = None
        self._peer = None
        self._subscribers.clear()
        self.services = None
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        logger.debug("pairing is a no-op on the virtual radio")

    async def unpair(self) -> None:
        logger.debug("unpairing is a no-op on the virtual radio")

    # Discovery

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        wanted = [core.UUID(u) for u in self._wanted_services or ()]
        collection = BleakGATTServiceCollection()
        for service in await peer.discover_services(wanted):
            await self._add_service(peer, collection, service)
        return collection

    async def _add_service(
        self, peer: Peer, collection: BleakGATTServiceCollection, service: ServiceProxy
    ) -> None:
        bleak_service = BleakGATTService(service, service.handle, bleak_uuid(service.uuid))
        collection.add_service(bleak_service)
        for characteristic in await peer.discover_characteristics((), service):
            bleak_characteristic = BleakGATTCharacteristic(
                characteristic,
                characteristic.handle,
                bleak_uuid(characteristic.uuid),
                sorted(gatt_char_props_to_strs(int(characteristic.properties))),
                lambda: self._mtu - 3,
                bleak_service,
            )
            collection.add_characteristic(bleak_characteristic)
            for descriptor in await peer.discover_descriptors(characteristic):
                collection.add_descriptor(
                    BleakGATTDescriptor(
                        descriptor,
                        descriptor.handle,
                        bleak_uuid(descriptor.type),
                        bleak_characteristic,
                    )
                )

    # I/O

    @asynccontextmanager
    async def _gatt(self) -> AsyncIterator[Peer]:
        """Map Bumble's failures to what bleak callers expect from any backend."""
        peer = self._peer
        if peer is None:
            raise BleakError("Not connected")
        try:
            yield peer
        except ATT_Error as error:
            raise BleakGATTProtocolError(error.error_code) from error
        except core.TimeoutError as error:
            raise TimeoutError(str(error)) from error
        except asyncio.CancelledError:
            # Bumble cancels the pending ATT request when the link drops.
            task = asyncio.current_task()
            if self._connection is None and (task is None or not task.cancelling()):
                raise BleakError("disconnected") from None
            raise

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        async with self._gatt() as peer:
            return bytearray(await peer.read_value(characteristic.obj))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        async with self._gatt() as peer:
            return bytearray(await peer.read_value(descriptor.obj))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        async with self._gatt() as peer:
            await peer.write_value(characteristic.obj, bytes(data), with_response=response)

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: SizedBuffer
    ) -> None:
        async with self._gatt() as peer:
            await peer.write_value(descriptor.obj, bytes(data), with_response=True)

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        proxy: CharacteristicProxy[bytes] = characteristic.obj
        if proxy.get_descriptor(core.UUID.from_16_bits(0x2902)) is None:
            raise BleakError(f"{characteristic.uuid} has no CCCD: cannot notify")

        def deliver(value: bytes) -> None:
            # Synchronous, from the ATT handler: notifications keep their arrival order. A
            # failing callback must not stop Bumble from confirming an indication.
            try:
                callback(bytearray(value))
            except Exception:
                logger.exception("notification callback for %s failed", characteristic.uuid)

        async with self._gatt() as peer:
            await self._unsubscribe(peer, characteristic)
            self._subscribers[characteristic.handle] = deliver
            await peer.subscribe(proxy, deliver, prefer_notify=True)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        async with self._gatt() as peer:
            await self._unsubscribe(peer, characteristic)

    async def _unsubscribe(self, peer: Peer, characteristic: BleakGATTCharacteristic) -> None:
        subscriber = self._subscribers.pop(characteristic.handle, None)
        if subscriber is not None:
            await peer.unsubscribe(characteristic.obj, subscriber)
