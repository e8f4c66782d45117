"""`Treadmill`: an FTMS treadmill over bleak: find by address or name, connect, read, listen.

Production passes no backends and gets bleak's platform backend; the simulator passes its own
`scanner_backend` / `client_backend` and the same code runs against a real GATT peripheral.
The Treadmill reads and listens; writing the control point is `ControlPoint`'s job, handed out
once (`claim_control_point`) to the safety supervisor.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from bleak import BleakClient, BleakScanner
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakError
from bleak_retry_connector import establish_connection

from retrotread import ftms
from retrotread.errors import ConnectError
from retrotread.ftms import uuids
from retrotread.treadmill.control_point import ControlPoint, Gate
from retrotread.treadmill.events import (
    Disconnected,
    HeartRateOrigin,
    HeartRateSource,
    MachineStatus,
    Telemetry,
    TrainingStatus,
    TreadmillEvent,
    TreadmillListener,
)
from retrotread.treadmill.listeners import Listeners
from retrotread.treadmill.quirks import Quirks, quirks_for_device_name

log = structlog.get_logger(__name__)

_ADDRESS = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f-]{36}$")
# When a device exposes no Supported Speed Range: FTMS resolution and a range the band lies in.
_UNKNOWN_SPEED_RANGE = (0.0, 20.0, 0.01)
# Machine statuses that a stale_stop_on_subscribe device replays before we command anything.
_STOP_STATUSES = frozenset(
    {
        ftms.MachineStatusOpCode.stopped_or_paused_by_user,
        ftms.MachineStatusOpCode.stopped_by_safety_key,
    }
)
CONNECT_ATTEMPTS = 3
SIM_HINT = "(no treadmill at hand? try --sim)"


@dataclass(frozen=True)
class DeviceInfo:
    """What `retrotread info` prints and the `connected` event carries."""

    address: str
    name: str | None
    features: list[str]
    target_settings: list[str]
    speed_range_kmh: tuple[float, float, float]
    incline_range_pct: tuple[float, float, float] | None


def is_address(target: str) -> bool:
    """A Bluetooth address (or a macOS device UUID) rather than an advertised name."""
    return bool(_ADDRESS.match(target))


async def find_device(
    target: str,
    timeout: float,  # noqa: ASYNC109 - how long to scan, not a deadline for the call
    scanner_backend: type[BaseBleakScanner] | None,
    what: str = "treadmill",
) -> BLEDevice:
    """The advertising device with this address or name; ConnectError when it is not there
    (`what` names the kind of device in that line)."""

    def matches(device: BLEDevice, adv: AdvertisementData) -> bool:
        if is_address(target):
            return device.address.upper() == target.upper()
        name = adv.local_name or device.name or ""
        return name.casefold() == target.casefold()

    try:
        if scanner_backend is None:
            device = await BleakScanner.find_device_by_filter(matches, timeout=timeout)
        else:
            device = await BleakScanner.find_device_by_filter(
                matches, timeout=timeout, backend=scanner_backend
            )
    except (BleakError, OSError) as err:
        raise ConnectError(f"no Bluetooth adapter available ({_reason(err)}) {SIM_HINT}") from err
    if device is None:
        hint = SIM_HINT if what == "treadmill" else "(--hr-optional walks on without it)"
        raise ConnectError(f"no {what} {target!r} found within {timeout:g} s {hint}")
    return device


def _reason(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


class Treadmill:
    """A connected FTMS treadmill. Create it with `await Treadmill.connect(...)`."""

    def __init__(
        self,
        device: BLEDevice,
        quirks: Quirks,
        client_backend: type[BaseBleakClient] | None,
        command_timeout_s: float,
    ) -> None:
        self._device = device
        self.quirks = quirks
        self._client_backend = client_backend
        self._client: BleakClient | None = None
        self._listeners: Listeners[TreadmillEvent] = Listeners()
        self._control_point = ControlPoint(self._write, quirks, command_timeout_s)
        self._control_point_claimed = False
        self._commanded = False
        self._closing = False
        self.info = DeviceInfo(device.address, device.name, [], [], _UNKNOWN_SPEED_RANGE, None)
        # Held while a link is being set up: a heart-rate strap takes it too, since BlueZ fails
        # on concurrent connects, so treadmill and strap (re)connect one after the other.
        self.connect_lock = asyncio.Lock()
        self._heart_rate: HeartRateSource | None = None

    # -- life cycle ---------------------------------------------------------------------------
    @classmethod
    async def connect(
        cls,
        target: str,
        *,
        quirks: Quirks | None = None,
        scanner_backend: type[BaseBleakScanner] | None = None,
        client_backend: type[BaseBleakClient] | None = None,
        scan_timeout: float = 10.0,
        command_timeout: float = 2.0,
        subscribe: bool = True,
    ) -> Treadmill:
        """Find `target` (address or name), connect, read features and ranges, subscribe.

        Quirks: the device-name table's, plus `quirks` (from config). Any failure to reach the
        device is a ConnectError (exit 4) with one line.
        """
        device = await find_device(target, scan_timeout, scanner_backend)
        known = quirks_for_device_name(device.name)
        treadmill = cls(device, known.merged(quirks or Quirks()), client_backend, command_timeout)
        await treadmill._open()
        try:
            treadmill.info = await treadmill._read_info()
            if subscribe:
                await treadmill._subscribe()
        except BaseException:
            await treadmill.disconnect()
            raise
        return treadmill

    async def _open(self) -> None:
        self._closing = False
        try:
            async with self.connect_lock:
                self._client = await self._establish()
        except (BleakError, OSError, TimeoutError) as err:
            raise ConnectError(
                f"could not connect to {self._device.address}: {_reason(err)}"
            ) from err

    async def _establish(self) -> BleakClient:
        return await establish_connection(
            BleakClient,
            self._device,
            self._device.name or self._device.address,
            disconnected_callback=self._on_disconnect,
            max_attempts=CONNECT_ATTEMPTS,
            backend=self._client_backend,
        )

    async def reconnect(self) -> None:
        """Connect again to the same device and subscribe again (after a dropped link)."""
        await self._open()
        try:
            await self._subscribe()
        except (BleakError, OSError) as err:
            raise ConnectError(f"could not resubscribe after reconnecting: {_reason(err)}") from err

    async def disconnect(self) -> None:
        self._closing = True
        client = self._client
        if client is not None:
            with contextlib.suppress(BleakError, OSError, TimeoutError):
                await client.disconnect()

    @property
    def is_connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    @property
    def address(self) -> str:
        return self._device.address

    # -- control point ------------------------------------------------------------------------
    def claim_control_point(self, gate: Gate | None = None) -> ControlPoint:
        """The one writer of the control point; a second claim is a programming error. `gate`
        is asked before every write leaves (the supervisor's stop latch)."""
        if self._control_point_claimed:
            raise RuntimeError("the control point of this treadmill is already claimed")
        self._control_point_claimed = True
        if gate is not None:
            self._control_point.install_gate(gate)
        return self._control_point

    async def _write(self, uuid: str, payload: bytes) -> None:
        client = self._client
        if client is None or not client.is_connected:
            raise BleakError("Not connected")
        self._commanded = True
        await client.write_gatt_char(uuid, payload, response=True)

    # -- events -------------------------------------------------------------------------------
    def use_heart_rate(self, source: HeartRateSource | None) -> None:
        """Take the heart rate of Telemetry from `source` (a strap) whenever it has a current
        one; the treadmill's own value stands in only while it has none."""
        self._heart_rate = source

    def add_listener(self, listener: TreadmillListener) -> Callable[[], None]:
        return self._listeners.add(listener)

    def _emit(self, event: TreadmillEvent) -> None:
        self._listeners.emit(event)

    def _on_disconnect(self, _client: BleakClient) -> None:
        self._control_point.fail_all("disconnected")
        if not self._closing:
            self._emit(Disconnected(asyncio.get_running_loop().time()))

    def _on_treadmill_data(self, _char: object, data: bytearray) -> None:
        now = asyncio.get_running_loop().time()
        if self.quirks.zero_packets and not any(data):
            return  # wake/sleep garbage: it would read as a stopped belt
        try:
            value = ftms.decode_treadmill_data(bytes(data))
        except ftms.FtmsDecodeError as err:
            log.debug("bad treadmill data", error=str(err), data=bytes(data).hex())
            return
        distance = value.total_distance_m
        heart_rate = value.heart_rate_bpm
        source: HeartRateOrigin | None = "treadmill" if heart_rate is not None else None
        strap_bpm = self._heart_rate.current_bpm(now) if self._heart_rate is not None else None
        if strap_bpm is not None:
            heart_rate, source = strap_bpm, "strap"
        self._emit(
            Telemetry(
                received_at=now,
                speed_kmh=value.instantaneous_speed_kmh,
                distance_m=float(distance) if distance is not None else None,
                incline_pct=value.inclination_pct,
                heart_rate_bpm=heart_rate,
                heart_rate_source=source,
                elapsed_s=float(value.elapsed_time_s) if value.elapsed_time_s is not None else None,
                step_count=value.step_count,
                raw=value,
            )
        )

    def _on_machine_status(self, _char: object, data: bytearray) -> None:
        now = asyncio.get_running_loop().time()
        try:
            status = ftms.decode_machine_status(bytes(data))
        except ftms.FtmsDecodeError as err:
            log.debug("bad machine status", error=str(err), data=bytes(data).hex())
            return
        replayed = self.quirks.stale_stop_on_subscribe and not self._commanded
        if replayed and status.opcode in _STOP_STATUSES:
            log.info("ignoring a replayed stop status", status=status.opcode.name)
            return
        self._control_point.on_machine_status(status)
        control = status.control.name if status.control is not None else None
        self._emit(
            MachineStatus(
                received_at=now,
                opcode=status.opcode,
                control="pause" if control == "pause" else ("stop" if control else None),
                target_speed_kmh=status.target_speed_kmh,
                raw=status,
            )
        )

    def _on_training_status(self, _char: object, data: bytearray) -> None:
        now = asyncio.get_running_loop().time()
        try:
            status = ftms.decode_training_status(bytes(data))
        except ftms.FtmsDecodeError:
            return
        self._emit(TrainingStatus(received_at=now, status=status.status.name, raw=status))

    def _on_control_point(self, _char: object, data: bytearray) -> None:
        self._control_point.on_indication(bytes(data))

    # -- GATT set-up --------------------------------------------------------------------------
    def _has(self, uuid: str) -> bool:
        client = self._client
        return client is not None and client.services.get_characteristic(uuid) is not None

    async def _read_info(self) -> DeviceInfo:
        client = self._client
        assert client is not None
        if not self._has(uuids.TREADMILL_DATA_UUID):
            raise ConnectError(
                f"{self._device.address} is not an FTMS treadmill (no Treadmill Data)"
            )
        features: list[str] = []
        targets: list[str] = []
        try:
            if self._has(uuids.FEATURE_UUID):
                feature = ftms.decode_feature(
                    bytes(await client.read_gatt_char(uuids.FEATURE_UUID))
                )
                features, targets = feature.feature_names(), feature.target_names()
            speed_range = _UNKNOWN_SPEED_RANGE
            if self._has(uuids.SUPPORTED_SPEED_RANGE_UUID):
                raw = await client.read_gatt_char(uuids.SUPPORTED_SPEED_RANGE_UUID)
                sr = ftms.decode_speed_range(bytes(raw))
                speed_range = (sr.minimum_kmh, sr.maximum_kmh, sr.increment_kmh)
            incline_range: tuple[float, float, float] | None = None
            if self._has(uuids.SUPPORTED_INCLINATION_RANGE_UUID):
                raw = await client.read_gatt_char(uuids.SUPPORTED_INCLINATION_RANGE_UUID)
                ir = ftms.decode_incline_range(bytes(raw))
                incline_range = (ir.minimum_pct, ir.maximum_pct, ir.increment_pct)
        except (BleakError, ftms.FtmsDecodeError) as err:
            raise ConnectError(f"could not read the treadmill's features: {_reason(err)}") from err
        return DeviceInfo(
            address=self._device.address,
            name=self._device.name,
            features=features,
            target_settings=targets,
            speed_range_kmh=speed_range,
            incline_range_pct=incline_range,
        )

    async def _subscribe(self) -> None:
        client = self._client
        assert client is not None
        await client.start_notify(uuids.TREADMILL_DATA_UUID, self._on_treadmill_data)
        if self._has(uuids.FITNESS_MACHINE_STATUS_UUID):
            await client.start_notify(uuids.FITNESS_MACHINE_STATUS_UUID, self._on_machine_status)
        if self._has(uuids.TRAINING_STATUS_UUID):
            await client.start_notify(uuids.TRAINING_STATUS_UUID, self._on_training_status)
        if self._has(uuids.CONTROL_POINT_UUID):
            await client.start_notify(uuids.CONTROL_POINT_UUID, self._on_control_point)
