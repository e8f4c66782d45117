"""What `retrotread info` reports: a device's features and ranges, read without taking control."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner

from retrotread.config import Settings, load_settings
from retrotread.target import check_target, run_on_target, sim_profile_for, simulated_treadmill
from retrotread.treadmill.client import DeviceInfo, Treadmill
from retrotread.units import IMPERIAL, format_speed, kmh_to_mph

if TYPE_CHECKING:
    from simulators.profiles import Profile


def info_for_target(
    device: str | None, *, sim: bool, sim_profile: str | None, config_file: Path | None
) -> DeviceInfo:
    """`retrotread info` as a library call: the device (found within the configured connect
    timeout) or the simulator (`sim_profile`, else the configured one). InputError (exit 2) for
    bad flags, config or profile, ConnectError (exit 4) when the device can't be reached."""
    check_target(device, sim)
    return _read_info(device, sim, sim_profile, load_settings(config_file))


def info_lines_for_target(
    device: str | None, *, sim: bool, sim_profile: str | None, config_file: Path | None
) -> list[str]:
    """`retrotread info` for a person: as `info_for_target`, in the `[display] units`."""
    check_target(device, sim)
    settings = load_settings(config_file)
    found = _read_info(device, sim, sim_profile, settings)
    return device_info_lines(found, settings.display.units)


def _read_info(
    device: str | None, sim: bool, sim_profile: str | None, settings: Settings
) -> DeviceInfo:
    if sim:
        profile = sim_profile_for(sim_profile, settings)
        return run_on_target(read_sim_device_info(profile), sim=True)
    assert device is not None
    timeout = settings.device.connect_timeout_s
    return run_on_target(read_device_info(device, scan_timeout=timeout), sim=False)


async def read_device_info(
    target: str,
    *,
    scanner_backend: type[BaseBleakScanner] | None = None,
    client_backend: type[BaseBleakClient] | None = None,
    scan_timeout: float = 10.0,
) -> DeviceInfo:
    """Connect, read Feature and the Supported ranges, disconnect. ConnectError (exit 4)."""
    treadmill = await Treadmill.connect(
        target,
        scanner_backend=scanner_backend,
        client_backend=client_backend,
        scan_timeout=scan_timeout,
        subscribe=False,
    )
    try:
        return treadmill.info
    finally:
        await treadmill.disconnect()


async def read_sim_device_info(profile: str | Profile = "generic") -> DeviceInfo:
    """The same, through bleak, against a simulated treadmill (run it on the virtual clock).

    ValueError for an unknown profile name (the message lists the valid names)."""
    async with simulated_treadmill(profile) as sim:
        return await read_device_info(
            sim.address, scanner_backend=sim.scanner_backend, client_backend=sim.client_backend
        )


def device_info_json(info: DeviceInfo) -> dict[str, object]:
    """The object of SPEC.md `info --json`; `incline_range_pct` only when the device has one."""
    out: dict[str, object] = {
        "device": info.name or info.address,
        "address": info.address,
        "features": info.features,
        "target_settings": info.target_settings,
        "speed_range_kmh": list(info.speed_range_kmh),
    }
    if info.incline_range_pct is not None:
        out["incline_range_pct"] = list(info.incline_range_pct)
    return out


def device_info_lines(info: DeviceInfo, units: str = IMPERIAL) -> list[str]:
    """What `info` prints for a person: the same facts as `device_info_json`, speeds in `units`
    and also in the device's own km/h grid (the step is the device's, whatever the display)."""
    lo, hi, step = info.speed_range_kmh
    grid = f"{lo:g} to {hi:g} km/h in steps of {step:g} km/h"
    if units == IMPERIAL:
        speeds = (
            f"{format_speed(kmh_to_mph(lo), units, unit=False)} to "
            f"{format_speed(kmh_to_mph(hi), units)} (the device: {grid})"
        )
    else:
        speeds = grid
    rows = [
        ("device", info.name or info.address),
        ("address", info.address),
        ("features", ", ".join(info.features) or "none"),
        ("target settings", ", ".join(info.target_settings) or "none"),
        ("speed range", speeds),
    ]
    if info.incline_range_pct is not None:
        low, high, inc = info.incline_range_pct
        rows.append(("incline range", f"{low:g} to {high:g} % in steps of {inc:g} %"))
    else:
        rows.append(("incline range", "not supported"))
    return [f"{label:16} {value}" for label, value in rows]
