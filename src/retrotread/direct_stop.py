"""`retrotread stop --device`: stop a treadmill that no session of ours holds.

Connect, Request Control, FTMS Stop, then watch Treadmill Data until the belt reads 0 (one more
Stop if it does not within the verify time). This process runs no session, so this module is the
one claimant of the control point here, and it only ever writes Request Control and Stop: nothing
in it can start or speed up a belt. (The session Supervisor writes Stop only for a belt it started
itself, which is why this short procedure lives here.)
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path

from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner

from retrotread.config import Settings
from retrotread.treadmill import (
    ControlPointError,
    Quirks,
    Telemetry,
    Treadmill,
    TreadmillEvent,
)
from retrotread.units import kmh_to_mph

STOP_ATTEMPTS = 2


@dataclass(frozen=True)
class DeviceStopResult:
    """`acknowledged`: FTMS Stop answered success; `verified`: the belt was then seen at 0."""

    device: str
    acknowledged: bool
    verified: bool
    belt_mph: float | None
    detail: str = ""


class _BeltWatch:
    """The last belt speed reported, and an event set whenever it reads 0."""

    def __init__(self) -> None:
        self.kmh: float | None = None
        self.at_zero = asyncio.Event()

    def __call__(self, event: TreadmillEvent) -> None:
        if isinstance(event, Telemetry) and event.speed_kmh is not None:
            self.kmh = event.speed_kmh
            if event.speed_kmh == 0:
                self.at_zero.set()
            else:
                self.at_zero.clear()

    @property
    def mph(self) -> float | None:
        return None if self.kmh is None else round(kmh_to_mph(self.kmh), 2)


async def stop_treadmill(
    target: str,
    settings: Settings,
    *,
    scanner_backend: type[BaseBleakScanner] | None = None,
    client_backend: type[BaseBleakClient] | None = None,
) -> DeviceStopResult:
    """Stop the treadmill `target` (address or name). ConnectError (exit 4) if it can't be reached
    or refuses control."""
    treadmill = await Treadmill.connect(
        target,
        quirks=Quirks.from_names(settings.device.quirks),
        scanner_backend=scanner_backend,
        client_backend=client_backend,
        scan_timeout=settings.device.connect_timeout_s,
        command_timeout=settings.safety.command_timeout_s,
    )
    watch = _BeltWatch()
    remove_listener = treadmill.add_listener(watch)
    name = treadmill.info.name or treadmill.address
    try:
        control_point = treadmill.claim_control_point()
        with contextlib.suppress(ControlPointError):
            # Some devices refuse Request Control yet obey Stop: try the Stop regardless.
            await control_point.request_control()
        acknowledged, verified, detail = False, False, ""
        for _ in range(STOP_ATTEMPTS):
            try:
                await control_point.stop()
            except ControlPointError as err:
                detail = f"Stop answered {err.result}"
                continue
            acknowledged = True
            verified = await _wait_until_zero(watch, settings.safety.stop_verify_timeout_s)
            if verified:
                break
            detail = "the belt was not seen at 0"
        return DeviceStopResult(name, acknowledged, verified, watch.mph, "" if verified else detail)
    finally:
        remove_listener()
        await treadmill.disconnect()


async def _wait_until_zero(watch: _BeltWatch, timeout_s: float) -> bool:
    try:
        await asyncio.wait_for(watch.at_zero.wait(), timeout_s)
    except TimeoutError:
        return False
    return True


def stop_device(
    target: str | None, *, sim: bool, sim_profile: str, config_file: Path | None
) -> DeviceStopResult:
    """The CLI's entry: a real device by address/name, or (with `sim`) an in-process simulator."""
    from retrotread.config import load_settings

    settings = load_settings(config_file)
    if not sim:
        assert target is not None
        return asyncio.run(stop_treadmill(target, settings))

    from simulators.clock import run_virtual
    from simulators.harness import open_simulator

    async def on_simulator() -> DeviceStopResult:
        async with open_simulator(sim_profile) as simulator:
            return await stop_treadmill(
                target or simulator.address,
                settings,
                scanner_backend=simulator.scanner_backend,
                client_backend=simulator.client_backend,
            )

    return run_virtual(on_simulator())
