"""Split Treadmill Data (no speed in a packet) and a Pause pressed at the console.

Both are driven through the real simulator, bleak and our Treadmill client on the virtual clock.
The simulator has no split-packet profile and no console Pause button, so the tests send those
notifications themselves through the simulator's bumble device (its public GATT API): real
bytes, encoded by our FTMS codec, over the virtual link, decoded by the real client.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from bumble.gatt import Characteristic

from retrotread import ftms
from retrotread.config import SafetyConfig
from retrotread.errors import LatchedError
from retrotread.events import Event, TelemetryEvent
from retrotread.units import KMH_PER_MPH
from simulators.faults import parse_fault
from simulators.harness import Simulator
from tests.support.rig import MOVING_OPS, rig
from tests.support.virtual_time import advance

MPH = KMH_PER_MPH


async def notify_all(sim: Simulator, characteristic: Characteristic[Any], value: bytes) -> None:
    """Send one notification of `characteristic` to every connected central."""
    device = sim.treadmill.device
    for connection in list(device.connections.values()):
        await device.notify_subscriber(connection, characteristic, value)
    await advance(0.05)  # let the virtual link deliver it


async def send_speedless_packet(sim: Simulator, heart_rate_bpm: int) -> None:
    """A Treadmill Data packet without the instantaneous speed (flags bit 0 set), as FTMS
    devices send when they split the data over several notifications."""
    packet = ftms.encode_treadmill_data(
        ftms.TreadmillData(heart_rate_bpm=heart_rate_bpm, elapsed_time_s=42)
    )
    assert packet[0] & 0x01  # "more data": the speed is absent
    await notify_all(sim, sim.treadmill.data_char, packet)


async def press_console_pause(sim: Simulator) -> None:
    """Someone presses Pause on the console: the treadmill tells every central."""
    status = ftms.MachineStatus(
        ftms.MachineStatusOpCode.stopped_or_paused_by_user, control=ftms.StopControl.pause
    )
    await notify_all(sim, sim.treadmill.status_char, ftms.encode_machine_status(status))


def speedless_reports(events: Sequence[Event]) -> list[TelemetryEvent]:
    """Telemetry events made from our speed-less packets (the simulator's own always carry a
    distance, ours never do)."""
    return [e for e in events if isinstance(e, TelemetryEvent) and e.distance_m is None]


# -- F2-1: a Treadmill Data packet without speed ------------------------------------------------


async def test_a_packet_without_speed_reports_the_last_known_belt_speed() -> None:
    async with rig() as r:
        await r.supervisor.set_target(1.0, "backward")
        await advance(5)  # the belt has reached the target
        belt_kmh = r.sim.treadmill.belt_speed_kmh
        assert belt_kmh > 1.5
        await send_speedless_packet(r.sim, heart_rate_bpm=77)
        (report,) = speedless_reports(r.events)
        assert report.heart_rate_bpm == 77  # the packet's own fields still get through
        assert report.speed_kmh == pytest.approx(belt_kmh, abs=0.011)
        assert report.speed_mph == pytest.approx(belt_kmh / MPH, abs=0.01)
        assert r.supervisor.last_telemetry == report
        assert r.supervisor.belt_mph == pytest.approx(belt_kmh / MPH, abs=0.01)
        assert not r.supervisor.latched


async def test_packets_without_speed_do_not_keep_the_stale_telemetry_watchdog_quiet() -> None:
    safety = SafetyConfig(telemetry_timeout_s=3.0)
    async with rig(safety=safety) as r:
        await r.supervisor.set_target(1.0, "backward")
        await advance(5)
        r.sim.treadmill.inject(parse_fault("stall@0"))  # no more packets carrying the speed
        for _ in range(8):  # ... but the link stays busy with speed-less ones, for 8 s
            await send_speedless_packet(r.sim, heart_rate_bpm=90)
            await advance(0.95)
            if r.supervisor.latched:
                break
        assert r.supervisor.latched
        assert r.supervisor.safety_reason == "telemetry_stale"
        assert ("telemetry_stale", "stop") in r.safety()


async def test_a_packet_without_speed_is_not_taken_for_a_stopped_belt() -> None:
    async with rig() as r:
        await r.supervisor.set_target(1.0, "backward")
        await advance(5)
        r.sim.treadmill.inject(parse_fault("stall@0"))  # the Stop's effect stays unseen
        r.supervisor.request_stop("estop", "test")
        await advance(0.5)
        await send_speedless_packet(r.sim, heart_rate_bpm=90)
        assert not r.supervisor.ended  # an absent speed is no 0: the stop is not verified
        await r.supervisor.wait_ended()
        assert ("stop_unverified", "stop") in r.safety()


# -- F2-2: a console Pause while we hold the belt paused ---------------------------------------


async def test_a_console_pause_during_our_pause_ends_the_session() -> None:
    async with rig() as r:
        await r.supervisor.set_target(1.0, "backward")
        await r.supervisor.pause("turnaround")
        await advance(3)
        assert not r.supervisor.latched  # the echo of our own pause is not the console
        held_at = len(r.sim.treadmill.control_log)
        await press_console_pause(r.sim)
        assert r.supervisor.latched
        assert r.supervisor.stop_reason == "console_stop"
        assert ("console_stop", "stop") in r.safety()
        with pytest.raises(LatchedError):
            await r.supervisor.resume("turnaround")  # the pacer's resume: nothing restarts
        assert await r.supervisor.wait_ended() == "console_stop"
        moves = [x for x in r.sim.treadmill.control_log[held_at:] if x.opcode in MOVING_OPS]
        assert moves == []
        assert r.sim.treadmill.belt_speed_kmh == 0.0


async def test_each_of_our_pauses_has_one_echo_and_a_further_pause_status_is_the_console() -> None:
    async with rig() as r:
        for _ in range(3):  # echoes of earlier pauses must not pile up as credit
            await r.supervisor.set_target(1.0, "backward")
            await r.supervisor.pause("turnaround")
            await advance(2)
            await r.supervisor.resume("turnaround")
        await r.supervisor.pause("turnaround")
        await advance(2)
        assert not r.supervisor.latched
        await press_console_pause(r.sim)
        assert r.supervisor.stop_reason == "console_stop"
