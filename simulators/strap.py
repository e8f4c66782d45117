"""The simulated heart-rate strap: a second Bumble peripheral on the treadmill's virtual radio.

It serves the Heart Rate Service (0x180D) with Heart Rate Measurement (0x2A37, notify) and Body
Sensor Location (0x2A38, chest), and notifies the walker's heart rate once per `interval_s`. The
walker is the treadmill's (`SimTreadmill.walker`), so the pulse follows the belt's speed and
incline, and the `hr` fault that forces the reported value reaches the strap too.

Faults are scheduled by the treadmill on its session clock (the strap connects after the
treadmill, so the treadmill's clock is the session's) and handed here: `hr-drop` takes the link
down and keeps the strap silent and unconnectable for its seconds; `hr-contact` makes every
measurement say "no skin contact" from then on. A `single_central` strap refuses a second central
and stops advertising while one is connected, as most real straps do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Final

from bumble import att
from bumble.core import AdvertisingData
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, Service

from retrotread.ftms import uuids
from retrotread.ftms.heart_rate import (
    HeartRateMeasurement,
    SensorContact,
    encode_heart_rate_measurement,
    rr_units,
)
from simulators.faults import DEFAULT_HR_DROP_S, FaultKind, FaultSpec
from simulators.peripheral import TaskOwner
from simulators.profiles import StrapSettings
from simulators.treadmill import CCCD_NOTIFY

logger = logging.getLogger(__name__)

HEART_RATE_SERVICE_UUID16: Final = 0x180D
BODY_SENSOR_LOCATION_UUID: Final = uuids.uuid16(0x2A38)
BODY_SENSOR_CHEST: Final = 0x01
ADVERTISING_MS: Final = 100.0
ADVERTISING_DATA_LIMIT: Final = 31


def strap_advertising_data(name: str) -> bytes:
    """Flags, the 0x180D UUID (what a scan for straps filters on) and the name."""
    data = bytes(
        AdvertisingData(
            [
                (AdvertisingData.FLAGS, bytes([0x06])),
                (
                    AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                    HEART_RATE_SERVICE_UUID16.to_bytes(2, "little"),
                ),
                (AdvertisingData.COMPLETE_LOCAL_NAME, name.encode("utf-8")),
            ]
        )
    )
    if len(data) > ADVERTISING_DATA_LIMIT:
        raise ValueError(f"strap name {name!r} is too long for a 31-byte advertisement")
    return data


class SimStrap(TaskOwner):
    """A chest strap served by `device`, reading `heart_rate()` (bpm) at each notification."""

    def __init__(
        self, device: Device, settings: StrapSettings, heart_rate: Callable[[], int]
    ) -> None:
        super().__init__(logger, "strap")
        self.device = device
        self.settings = settings
        self._heart_rate = heart_rate
        self.contact = True
        self.connection_count = 0
        self.refused_connections = 0
        self.notifications = 0
        self.measurement_char = Characteristic(
            uuids.HEART_RATE_MEASUREMENT_UUID,
            Characteristic.Properties.NOTIFY,
            att.Attribute.Permissions.READABLE,
            b"",
        )
        location = Characteristic(
            BODY_SENSOR_LOCATION_UUID,
            Characteristic.Properties.READ,
            att.Attribute.Permissions.READABLE,
            bytes([BODY_SENSOR_CHEST]),
        )
        device.add_service(
            Service(uuids.HEART_RATE_SERVICE_UUID, [self.measurement_char, location])
        )

    @property
    def connected_count(self) -> int:
        return len(self._connections)

    @property
    def down(self) -> bool:
        return self._down_until is not None

    async def start(self) -> None:
        self.device.on(Device.EVENT_CONNECTION, self._on_connection)
        await self._advertise()
        self._spawn(self._ticker())

    # ----------------------------------------------------------------- faults

    def inject(self, fault: FaultSpec) -> None:
        """Give effect to a strap fault now; other kinds are the treadmill's."""
        if self._closed:
            return
        if fault.kind is FaultKind.HR_DROP:
            seconds = float(fault.arg) if isinstance(fault.arg, int | float) else DEFAULT_HR_DROP_S
            self._spawn(self._drop_link(seconds))
        elif fault.kind is FaultKind.HR_CONTACT:
            self.contact = False

    def measurement(self) -> HeartRateMeasurement:
        """What the strap sends now: the walker's pulse, its RR interval, and the contact bit."""
        bpm = max(0, min(0xFF, self._heart_rate()))
        contact = SensorContact.detected if self.contact else SensorContact.not_detected
        rr = (rr_units(60 / bpm),) if bpm > 0 and self.contact else ()
        return HeartRateMeasurement(bpm, contact, rr_intervals=rr)

    # ----------------------------------------------------------------- connections

    def _on_connection(self, connection: Connection) -> None:
        busy = self.settings.single_central and bool(self._connections)
        if self.down or self._closed or busy:
            self.refused_connections += 1
            self._spawn(self._refuse(connection))
            return
        self._connections[connection.handle] = connection
        self.connection_count += 1
        connection.on(
            Connection.EVENT_DISCONNECTION, lambda _reason: self._on_disconnection(connection)
        )
        if not self.settings.single_central:
            self._spawn(self._advertise())

    def _on_disconnection(self, connection: Connection) -> None:
        self._connections.pop(connection.handle, None)
        if not self.down and not self._closed:
            self._spawn(self._advertise())

    async def _refuse(self, connection: Connection) -> None:
        try:
            await connection.disconnect()
        except Exception:  # the link may already be gone
            logger.debug("refused strap connection already gone", exc_info=True)

    async def _advertise(self) -> None:
        async with self._advertising_lock:
            if self._closed or self.down:
                return
            if self.settings.single_central and self._connections:
                return
            await self.device.start_advertising(
                advertising_data=strap_advertising_data(self.device.name),
                auto_restart=False,
                advertising_interval_min=ADVERTISING_MS,
                advertising_interval_max=ADVERTISING_MS,
            )

    # ----------------------------------------------------------------- notifications

    async def _ticker(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.settings.interval_s
        next_tick = loop.time() + interval
        while True:
            await asyncio.sleep(max(0.0, next_tick - loop.time()))
            next_tick += interval
            if self.down:
                continue
            packet = encode_heart_rate_measurement(self.measurement())
            for connection in list(self._connections.values()):
                if await self._notify(connection, packet):
                    self.notifications += 1

    async def _notify(self, connection: Connection, value: bytes) -> bool:
        flags = self.device.gatt_server.read_cccd(connection, self.measurement_char)[0]
        if not flags & CCCD_NOTIFY:
            return False
        try:
            await self.device.notify_subscriber(connection, self.measurement_char, value)
        except Exception:  # a link going down mid-send is the central's problem, not ours
            logger.debug("strap notification not delivered", exc_info=True)
            return False
        return True



__all__: list[str] = ["SimStrap", "strap_advertising_data"]
