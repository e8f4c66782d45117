"""Finding FTMS treadmills by their advertisements (no connection needed)."""

from __future__ import annotations

from dataclasses import dataclass

from bleak import BleakScanner
from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import BleakError

from retrotread import ftms
from retrotread.errors import ConnectError
from retrotread.ftms.uuids import FTMS_SERVICE_UUID


@dataclass(frozen=True)
class FoundTreadmill:
    address: str
    name: str | None
    rssi: int | None
    machine_types: list[str]


async def scan_treadmills(
    timeout: float = 5.0,  # noqa: ASYNC109 - how long to listen, not a deadline
    backend: type[BaseBleakScanner] | None = None,
) -> list[FoundTreadmill]:
    """Treadmills advertising FTMS (0x1826) with the treadmill bit in their service data,
    strongest signal first. ConnectError (exit 4) when there is no Bluetooth to scan with."""
    try:
        if backend is None:
            seen = await BleakScanner.discover(
                timeout=timeout, return_adv=True, service_uuids=[FTMS_SERVICE_UUID]
            )
        else:
            seen = await BleakScanner.discover(
                timeout=timeout, return_adv=True, service_uuids=[FTMS_SERVICE_UUID], backend=backend
            )
    except (BleakError, OSError) as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise ConnectError(
            f"no Bluetooth adapter available ({reason}); try `retrotread info --sim` or `run --sim`"
        ) from err
    found = []
    for device, adv in seen.values():
        types = _machine_types(adv.service_data.get(FTMS_SERVICE_UUID))
        if types is None or "treadmill" not in types:
            continue
        found.append(FoundTreadmill(device.address, adv.local_name or device.name, adv.rssi, types))
    return sorted(found, key=lambda t: -(t.rssi if t.rssi is not None else -999))


def _machine_types(service_data: bytes | None) -> list[str] | None:
    if service_data is None:
        return None
    try:
        return ftms.decode_service_data(service_data).machine_type_names()
    except ftms.FtmsDecodeError:
        return None
