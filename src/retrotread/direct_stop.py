"""`retrotread stop --device`: stop a treadmill that no session of ours holds.

Connect, then hand the belt to a stop-only Supervisor (`foreign_belt=True`): it claims the control
point, writes Request Control (a refusal tolerated) and FTMS Stop, and watches Treadmill Data until
the belt reads 0 (one more Stop if it does not within the verify time). This module never touches
the control point itself; it reports the Supervisor's StopAck, completed from its events.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner

from retrotread.config import Settings, load_settings
from retrotread.events import CommandEvent, Event, SafetyEvent, StopAck, TelemetryEvent
from retrotread.safety.supervisor import Supervisor
from retrotread.target import run_on_target, sim_profile_for
from retrotread.treadmill import Quirks, Treadmill

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


class _WhatTheAckLeavesOut:
    """The Supervisor's StopAck says whether a Stop was acknowledged; its events add whether the
    belt was seen at all (else its 0 mph is a default, not a reading), whether it was then seen at
    0, and what a refused Stop answered."""

    def __init__(self) -> None:
        self.belt_seen = False
        self.unverified = False
        self.last_stop_result: str | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, TelemetryEvent):
            self.belt_seen = True
        elif isinstance(event, CommandEvent) and event.op == "stop":
            self.last_stop_result = event.result
        elif isinstance(event, SafetyEvent) and event.reason == "stop_unverified":
            self.unverified = True

    def result(self, device: str, ack: StopAck) -> DeviceStopResult:
        verified = ack.acknowledged and not self.unverified
        if verified:
            detail = ""
        elif self.last_stop_result is None:
            detail = "no Stop could be written"
        elif self.last_stop_result != "success":
            detail = f"Stop answered {self.last_stop_result}"
        else:
            detail = "the belt was not seen at 0"
        belt_mph = round(ack.belt_mph, 2) if self.belt_seen else None
        return DeviceStopResult(device, ack.acknowledged, verified, belt_mph, detail)


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
        observed = _WhatTheAckLeavesOut()
        supervisor.add_listener(observed)
        try:
            ack = await supervisor.stop_foreign_belt(STOP_SOURCE, attempts=STOP_ATTEMPTS)
        finally:
            await supervisor.close()
        return observed.result(name, ack)
    finally:
        await treadmill.disconnect()


def stop_device(
    target: str | None, *, sim: bool, sim_profile: str | None, config_file: Path | None
) -> DeviceStopResult:
    """The CLI's entry: a real device by address/name, or (with `sim`) an in-process simulator
    (`sim_profile`, else the configured one; InputError (exit 2) for a bad one)."""
    settings = load_settings(config_file, for_stop=True)
    if not sim:
        assert target is not None
        return run_on_target(stop_treadmill(target, settings), sim=False)

    from simulators.harness import open_simulator

    profile = sim_profile_for(sim_profile, settings)

    async def on_simulator() -> DeviceStopResult:
        async with open_simulator(profile) as simulator:
            return await stop_treadmill(
                target or simulator.address,
                settings,
                scanner_backend=simulator.scanner_backend,
                client_backend=simulator.client_backend,
            )

    return run_on_target(on_simulator(), sim=True)
