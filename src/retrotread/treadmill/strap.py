"""`HeartRateStrap`: a BLE heart-rate strap (0x180D) over bleak, read beside the treadmill.

A second BleakClient, notify on Heart Rate Measurement (0x2A37), decoded by our own codec.
It connects only while holding the treadmill's `connect_lock`, so treadmill and strap never
connect at the same time (BlueZ fails on concurrent connects); `run` connects it after the
treadmill link is up. When its link drops it says so (`StrapLost`) and keeps trying to reconnect
in the background until closed, because a strap that slipped or went out of range comes back.

Listeners get typed `HeartRateReading`s; a reading without skin contact carries no heart rate
(`heart_rate_bpm` None). As a `HeartRateSource` for the Treadmill, `current_bpm` is the last
heart rate if it is at most `fresh_s` old.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from bleak import BleakClient
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import BleakError
from bleak_retry_connector import establish_connection

from retrotread.errors import ConnectError
from retrotread.ftms import uuids
from retrotread.ftms.errors import FtmsDecodeError
from retrotread.ftms.heart_rate import (
    HeartRateMeasurement,
    SensorContact,
    decode_heart_rate_measurement,
)
from retrotread.treadmill.client import find_device
from retrotread.treadmill.listeners import Listeners

log = structlog.get_logger(__name__)

CONNECT_ATTEMPTS = 2
# At 1 Hz a strap that has said nothing for 3 s has missed several beats' worth of reports.
FRESH_S = 3.0
RECONNECT_INTERVAL_S = 2.0


@dataclass(frozen=True)
class HeartRateReading:
    """One measurement: `heart_rate_bpm` is None when the strap has no skin contact."""

    received_at: float
    heart_rate_bpm: int | None
    contact: SensorContact
    raw: HeartRateMeasurement


@dataclass(frozen=True)
class StrapLost:
    """The strap's link dropped; it is being reconnected."""

    received_at: float


@dataclass(frozen=True)
class StrapBack:
    """The strap is connected and subscribed again after a drop."""

    received_at: float


StrapEvent = HeartRateReading | StrapLost | StrapBack
StrapListener = Callable[[StrapEvent], None]


class HeartRateStrap:
    """A connected strap. Create it with `await HeartRateStrap.connect(...)`; `close()` it."""

    def __init__(
        self,
        device: BLEDevice,
        client_backend: type[BaseBleakClient] | None,
        connect_lock: asyncio.Lock,
        fresh_s: float,
        reconnect_interval_s: float,
    ) -> None:
        self._device = device
        self._client_backend = client_backend
        self._connect_lock = connect_lock
        self._fresh_s = fresh_s
        self._reconnect_interval_s = reconnect_interval_s
        self._client: BleakClient | None = None
        self._listeners: Listeners[StrapEvent] = Listeners()
        self._closing = False
        self._reconnecting: asyncio.Task[None] | None = None
        self._up = False  # connected and subscribed: a drop from here is a StrapLost
        self.last: HeartRateReading | None = None
        self.reconnects = 0

    @classmethod
    async def connect(
        cls,
        target: str,
        *,
        connect_lock: asyncio.Lock | None = None,
        scanner_backend: type[BaseBleakScanner] | None = None,
        client_backend: type[BaseBleakClient] | None = None,
        scan_timeout: float = 10.0,
        fresh_s: float = FRESH_S,
        reconnect_interval_s: float = RECONNECT_INTERVAL_S,
    ) -> HeartRateStrap:
        """Find `target` (address or name), connect and subscribe; ConnectError (exit 4) with
        one line when it cannot be reached or is no heart-rate strap. Pass the treadmill's
        `connect_lock` so that the two never connect at once."""
        device = await find_device(target, scan_timeout, scanner_backend, what="heart-rate strap")
        strap = cls(
            device, client_backend, connect_lock or asyncio.Lock(), fresh_s, reconnect_interval_s
        )
        await strap._open()
        return strap

    @property
    def address(self) -> str:
        return self._device.address

    @property
    def is_connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    def add_listener(self, listener: StrapListener) -> Callable[[], None]:
        return self._listeners.add(listener)

    def current_bpm(self, now: float) -> int | None:
        """The heart rate to use now: the last reading's, unless it is older than `fresh_s`,
        had no skin contact, or the link is down."""
        last = self.last
        if last is None or not self.is_connected or now - last.received_at > self._fresh_s:
            return None
        return last.heart_rate_bpm

    async def close(self) -> None:
        self._closing = True
        task = self._reconnecting
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        client = self._client
        if client is not None:
            with contextlib.suppress(BleakError, OSError, TimeoutError):
                await client.disconnect()

    # -- link ---------------------------------------------------------------------------------
    async def _open(self) -> None:
        try:
            async with self._connect_lock:
                self._client = await establish_connection(
                    BleakClient,
                    self._device,
                    self._device.name or self._device.address,
                    disconnected_callback=self._on_disconnect,
                    max_attempts=CONNECT_ATTEMPTS,
                    backend=self._client_backend,
                )
            if self._client.services.get_characteristic(uuids.HEART_RATE_MEASUREMENT_UUID) is None:
                await self._client.disconnect()
                raise ConnectError(
                    f"{self._device.address} is not a heart-rate strap (no 0x2A37 measurement)"
                )
            await self._client.start_notify(uuids.HEART_RATE_MEASUREMENT_UUID, self._on_data)
            self._up = self._client.is_connected
        except (BleakError, OSError, TimeoutError) as err:
            reason = " ".join(str(err).split()) or type(err).__name__
            raise ConnectError(
                f"could not connect to the heart-rate strap {self._device.address}: {reason}"
            ) from err

    def _on_disconnect(self, _client: BleakClient) -> None:
        if self._closing:
            return
        loop = asyncio.get_running_loop()
        if self._up:  # a refused reconnect attempt is not another loss
            self._up = False
            self._emit(StrapLost(loop.time()))
        if self._reconnecting is None or self._reconnecting.done():
            self._reconnecting = loop.create_task(self._reconnect())

    async def _reconnect(self) -> None:
        """Try again every `reconnect_interval_s` until the strap is back or we close."""
        loop = asyncio.get_running_loop()
        while not self._closing:
            await asyncio.sleep(self._reconnect_interval_s)
            if self._closing:
                return
            try:
                await self._open()
            except ConnectError as err:
                log.debug("heart-rate strap still away", error=str(err))
                continue
            if self._up:
                self.reconnects += 1
                self._emit(StrapBack(loop.time()))
                return

    def _on_data(self, _char: object, data: bytearray) -> None:
        now = asyncio.get_running_loop().time()
        try:
            value = decode_heart_rate_measurement(bytes(data))
        except FtmsDecodeError as err:
            log.debug("bad heart-rate measurement", error=str(err), data=bytes(data).hex())
            return
        reading = HeartRateReading(now, value.heart_rate, value.contact, value)
        self.last = reading
        self._emit(reading)

    def _emit(self, event: StrapEvent) -> None:
        self._listeners.emit(event)
