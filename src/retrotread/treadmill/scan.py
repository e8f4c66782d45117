"""Finding FTMS treadmills, and heart-rate straps, by their advertisements (no connection)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from bleak import BleakScanner
from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import BleakError

from retrotread import ftms
from retrotread.errors import ConnectError
from retrotread.ftms.uuids import FTMS_SERVICE_UUID, HEART_RATE_SERVICE_UUID


@dataclass(frozen=True)
class FoundTreadmill:
    address: str
    name: str | None
    rssi: int | None
    machine_types: list[str]


@dataclass(frozen=True)
class FoundStrap:
    """A heart-rate strap advertising the Heart Rate Service (0x180D)."""

    address: str
    name: str | None
    rssi: int | None


async def scan_treadmills(
    timeout: float = 5.0,  # noqa: ASYNC109 - how long to listen, not a deadline
    backend: type[BaseBleakScanner] | None = None,
) -> list[FoundTreadmill]:
    """Treadmills advertising FTMS (0x1826) with the treadmill bit in their service data,
    strongest signal first. ConnectError (exit 4) when there is no Bluetooth to scan with."""
    treadmills, _straps = await scan_devices(timeout, backend)
    return treadmills


async def scan_devices(
    timeout: float = 5.0,  # noqa: ASYNC109 - how long to listen, not a deadline
    backend: type[BaseBleakScanner] | None = None,
) -> tuple[list[FoundTreadmill], list[FoundStrap]]:
    """Treadmills (as `scan_treadmills`) and heart-rate straps, from one scan, each strongest
    signal first: `retrotread scan` lists both, so a strap's address is at hand for
    `--hr-device`. ConnectError (exit 4) when there is no Bluetooth to scan with."""
    uuids = [FTMS_SERVICE_UUID, HEART_RATE_SERVICE_UUID]
    try:
        if backend is None:
            seen = await BleakScanner.discover(
                timeout=timeout, return_adv=True, service_uuids=uuids
            )
        else:
            seen = await BleakScanner.discover(
                timeout=timeout, return_adv=True, service_uuids=uuids, backend=backend
            )
    except (BleakError, OSError) as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise ConnectError(
            f"no Bluetooth adapter available ({reason}); try `retrotread info --sim` or `run --sim`"
        ) from err
    found = []
    straps = []
    for device, adv in seen.values():
        name = adv.local_name or device.name
        if HEART_RATE_SERVICE_UUID in adv.service_uuids:
            straps.append(FoundStrap(device.address, name, adv.rssi))
        types = _machine_types(adv.service_data.get(FTMS_SERVICE_UUID))
        if types is None or "treadmill" not in types:
            continue
        found.append(FoundTreadmill(device.address, name, adv.rssi, types))
    return _strongest_first(found), _strongest_first(straps)


_Found = TypeVar("_Found", FoundTreadmill, FoundStrap)


def _strongest_first(found: list[_Found]) -> list[_Found]:
    return sorted(found, key=lambda item: -(item.rssi if item.rssi is not None else -999))


def _machine_types(service_data: bytes | None) -> list[str] | None:
    if service_data is None:
        return None
    try:
        return ftms.decode_service_data(service_data).machine_type_names()
    except ftms.FtmsDecodeError:
        return None
