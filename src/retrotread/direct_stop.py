"""`retrotread stop --device`: stop a treadmill that no session of ours holds.

Connect, then hand the belt to a stop-only Supervisor (`foreign_belt=True`): it claims the control
point, writes Request Control (a refusal tolerated) and FTMS Stop, and watches Treadmill Data until
the belt reads 0 (one more Stop if it does not within the verify time). This module never touches
the control point itself; it only reads the Supervisor's events to report what happened.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner

from retrotread.config import Settings
from retrotread.safety.supervisor import Supervisor
from retrotread.session.events import CommandEvent, Event, SafetyEvent, TelemetryEvent
from retrotread.treadmill import Quirks, Treadmill
from retrotread.units import kmh_to_mph

STOP_ATTEMPTS = 2
STOP_SOURCE = "cli"


@dataclass(frozen=True)
class DeviceStopResult:
    """`acknowledged`: FTMS Stop answered success; `verified`: the belt was then seen at 0."""

    device: str
    acknowledged: bool
    verified: bool
    belt_mph: float | None
    detail: str = ""


class _StopReport:
    """What the Supervisor's events tell about the stop: the last belt speed, whether a Stop
    was acknowledged and the last Stop's answer, and whether the belt went unverified."""

    def __init__(self) -> None:
        self.kmh: float | None = None
        self.acknowledged = False
        self.last_stop_result: str | None = None
        self.unverified = False

    def __call__(self, event: Event) -> None:
        if isinstance(event, TelemetryEvent):
            self.kmh = event.speed_kmh
        elif isinstance(event, CommandEvent) and event.op == "stop":
            self.last_stop_result = event.result
            self.acknowledged |= event.result == "success"
        elif isinstance(event, SafetyEvent) and event.reason == "stop_unverified":
            self.unverified = True

    @property
    def verified(self) -> bool:
        """The belt was seen at 0 after an acknowledged Stop."""
        return self.acknowledged and not self.unverified

    @property
    def mph(self) -> float | None:
        return None if self.kmh is None else round(kmh_to_mph(self.kmh), 2)

    @property
    def detail(self) -> str:
        """Empty when verified, else the last thing that went wrong."""
        if self.verified:
            return ""
        if self.last_stop_result is None:
            return "no Stop could be written"
        if self.last_stop_result != "success":
            return f"Stop answered {self.last_stop_result}"
        return "the belt was not seen at 0"


async def stop_treadmill(
    target: str,
    settings: Settings,
    *,
    scanner_backend: type[BaseBleakScanner] | None = None,
    client_backend: type[BaseBleakClient] | None = None,
) -> DeviceStopResult:
    """Stop the treadmill `target` (address or name). ConnectError (exit 4) if it can't be
    reached."""
    treadmill = await Treadmill.connect(
        target,
        quirks=Quirks.from_names(settings.device.quirks),
        scanner_backend=scanner_backend,
        client_backend=client_backend,
        scan_timeout=settings.device.connect_timeout_s,
        command_timeout=settings.safety.command_timeout_s,
    )
    name = treadmill.info.name or treadmill.address
    try:
        supervisor = Supervisor(treadmill, settings.safety, foreign_belt=True)
        report = _StopReport()
        supervisor.add_listener(report)
        try:
            await supervisor.stop_foreign_belt(STOP_SOURCE, attempts=STOP_ATTEMPTS)
        finally:
            await supervisor.close()
        return DeviceStopResult(
            name, report.acknowledged, report.verified, report.mph, report.detail
        )
    finally:
        await treadmill.disconnect()


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
