"""The supervisor against the simulator, through bleak, on the virtual clock: ramps, the band,
the stop latch, every watchdog and the stop verification. The simulator's control log is the
witness of what was written to the treadmill."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from retrotread import ftms
from retrotread.config import SafetyConfig
from retrotread.errors import (
    BeltPaused,
    ConnectError,
    ControlPointError,
    DirectionChangeError,
    LatchedError,
)
from retrotread.events import CommandEvent, SessionState
from retrotread.units import KMH_PER_MPH
from simulators.faults import parse_fault
from tests.support.rig import MOVING_OPS, commanded_kmh, rig
from tests.support.virtual_time import advance

# -- start, ramp, band --------------------------------------------------------------------------


async def test_start_at_the_floor_then_ramp_within_the_limits() -> None:
    async with rig() as r:
        reached = await r.supervisor.set_target(2.0, "backward")
        assert reached == pytest.approx(2.0, abs=0.01)
        speeds = commanded_kmh(r)
        assert speeds[0][1] == 0.81  # the floor: 0.5 mph rounded UP onto the 0.01 grid
        for (t0, a), (t1, b) in itertools.pairwise(speeds):
            assert abs(b - a) <= 0.1 * KMH_PER_MPH + 1e-9
            assert t1 - t0 >= 1.0 - 1e-9
        await advance(5)
        assert r.sim.treadmill.belt_speed_kmh == pytest.approx(speeds[-1][1])
        assert r.supervisor.state is SessionState.running


async def test_targets_above_the_cap_are_capped_and_rounded_down_on_a_coarse_grid() -> None:
    async with rig("coarse-grid", safety=SafetyConfig(max_step_mph=0.5)) as r:
        assert await r.supervisor.set_target(9.0, "backward") == pytest.approx(4.8 / KMH_PER_MPH)
        assert max(k for _, k in commanded_kmh(r)) == 4.8  # never 4.9 (3.0 mph = 4.828 km/h)
        assert commanded_kmh(r)[0][1] == 0.9  # the floor rounds UP: 0.8 km/h < 0.5 mph


async def test_a_ramp_cancelled_mid_write_still_reports_that_write() -> None:
    """The pacer cancels ramps at segment deadlines. A Set Target Speed already on the wire
    finishes with its own answer: every write the treadmill received is reported once, and the
    next command is not answered with the abandoned one's response."""
    async with rig() as r:
        arrived = asyncio.Event()

        class Log(list[Any]):
            def append(self, item: Any) -> None:
                super().append(item)
                arrived.set()

        r.sim.treadmill.control_log = Log(r.sim.treadmill.control_log)
        ramp = asyncio.ensure_future(r.supervisor.set_target(2.0, "backward"))
        await asyncio.wait_for(arrived.wait(), 5)
        assert not ramp.done()
        ramp.cancel()  # the write reached the treadmill; its answer is still on the way back
        with pytest.raises(asyncio.CancelledError):
            await ramp
        await r.supervisor.set_target(1.0, "backward")
        await advance(2)
        reported = [
            e.kmh for e in r.events if isinstance(e, CommandEvent) and e.op == "set_speed"
        ]
        assert reported == [kmh for _, kmh in commanded_kmh(r)]
        assert all(
            e.result == "success"
            for e in r.events
            if isinstance(e, CommandEvent) and e.op == "set_speed"
        )


async def test_max_speed_lowers_the_backward_ceiling() -> None:
    async with rig(max_speed_mph=1.0) as r:
        await r.supervisor.set_target(3.0, "backward")
        assert max(k for _, k in commanded_kmh(r)) == 1.6  # 1.0 mph = 1.609 km/h -> 1.60


async def test_max_speed_lowers_the_forward_ceiling_too() -> None:
    async with rig(max_speed_mph=1.0, safety=SafetyConfig(max_step_mph=0.5)) as r:
        await r.supervisor.set_target(0.0, "backward")  # at the floor: may turn around
        await r.supervisor.set_target(3.5, "forward")
        assert max(k for _, k in commanded_kmh(r)) == 1.6  # 1.0 mph, not forward_max_mph


async def test_forward_has_its_own_ceiling_and_direction_changes_only_at_the_floor() -> None:
    async with rig(safety=SafetyConfig(max_step_mph=0.5)) as r:
        await r.supervisor.set_target(1.5, "backward")
        with pytest.raises(DirectionChangeError):
            await r.supervisor.set_target(3.5, "forward")
        await r.supervisor.set_target(0.0, "backward")  # down to the floor: a turn-around
        assert await r.supervisor.set_target(9.0, "forward") == pytest.approx(6.43 / KMH_PER_MPH)
        assert max(k for _, k in commanded_kmh(r)) == 6.43  # 4.0 mph forward_max, rounded down


async def test_min_speed_quirk_raises_the_floor_to_one_kmh() -> None:
    async with rig("min-speed-1kmh") as r:
        assert commanded_kmh(r)[0][1] == 1.0
        assert r.supervisor.backward_band.floor.param == 100


@pytest.mark.parametrize("profile", ["start-before-speed", "start-toggles-pause", "ack-by-status"])
async def test_quirky_devices_start_and_ramp(profile: str) -> None:
    async with rig(profile) as r:
        await r.supervisor.set_target(1.0, "backward")
        await advance(6)
        assert r.sim.treadmill.belt_speed_kmh == pytest.approx(1.6, abs=0.02)
        assert r.supervisor.state is SessionState.running
        ack = await r.supervisor.stop("completed", "test")
        assert ack.acknowledged
        assert await r.supervisor.wait_ended() == "completed"
        assert r.sim.treadmill.belt_speed_kmh == 0.0


async def test_speed_as_mph_device_runs_at_the_commanded_speed() -> None:
    async with rig("speed-as-mph") as r:
        await r.supervisor.set_target(2.0, "backward")
        await advance(6)
        assert r.sim.treadmill.belt_speed_kmh == pytest.approx(3.2, abs=0.03)
        assert r.sim.treadmill.belt_speed_kmh <= 3.0 * KMH_PER_MPH
        assert r.safety() == []


async def test_request_control_refused_is_connect_error_unless_the_quirk_says_it_works() -> None:
    async with rig(faults=["reject@0:request-control"], start=False) as r:
        with pytest.raises(ConnectError, match="refused control"):
            await r.supervisor.take_control()
        assert ("control_refused", "stop") in r.safety()
    async with rig("control-rejected") as r:
        await r.supervisor.set_target(1.0, "backward")
        assert r.supervisor.state is SessionState.running


# -- the stop latch -----------------------------------------------------------------------------


async def test_request_stop_is_synchronous_latches_and_writes_stop_first() -> None:
    async with rig() as r:
        ramp = asyncio.ensure_future(r.supervisor.set_target(3.0, "backward"))
        await advance(2.5)
        writes_before = len(r.sim.treadmill.control_log)
        assert r.supervisor.request_stop("estop", "test") is None
        assert r.supervisor.latched
        assert r.supervisor.stop_reason == "estop"
        with pytest.raises(LatchedError):
            await ramp
        await r.supervisor.wait_ended()
        after = r.sim.treadmill.control_log[writes_before:]
        assert after[0].request == ftms.stop()
        assert not any(x.opcode in MOVING_OPS for x in after)
        assert r.stopped().reason == "estop"
        assert r.sim.treadmill.belt_speed_kmh == 0.0
        with pytest.raises(LatchedError):
            await r.supervisor.set_target(1.0, "backward")
        with pytest.raises(LatchedError):
            await r.supervisor.resume()
        with pytest.raises(LatchedError):
            await r.supervisor.start()
        assert r.supervisor.state is SessionState.stopped


async def test_stop_is_written_even_while_a_command_awaits_its_answer() -> None:
    async with rig(safety=SafetyConfig(command_timeout_s=10.0)) as r:
        r.sim.treadmill.inject(parse_fault("no-indication@0"))
        ramp = asyncio.ensure_future(r.supervisor.set_target(2.0, "backward"))
        await advance(1.5)  # the first step is written and waits for an answer
        r.supervisor.request_stop("estop", "test")
        await advance(0.01)
        assert r.sim.treadmill.control_log[-1].request == ftms.stop()
        assert r.sim.treadmill.control_log[-1].t < 2.0
        with pytest.raises((LatchedError, ControlPointError)):
            await ramp


async def test_a_second_request_stop_is_a_no_op_and_the_first_reason_stays() -> None:
    async with rig() as r:
        r.supervisor.request_stop("completed", "program")
        r.supervisor.request_stop("estop", "control-socket")
        await r.supervisor.wait_ended()
        assert len(r.written(ftms.OpCode.stop_or_pause)) == 1
        assert r.stopped().reason == "completed"


async def test_stop_before_start_latches_and_nothing_moves() -> None:
    async with rig(start=False) as r:
        ack = await r.supervisor.stop("estop", "test")
        assert ack.acknowledged
        assert await r.supervisor.wait_ended() == "estop"
        with pytest.raises(LatchedError):
            await r.supervisor.start()
        assert r.sim.treadmill.control_log == []


async def test_a_rejected_stop_is_retried_until_the_belt_stops() -> None:
    async with rig(safety=SafetyConfig(stop_verify_timeout_s=2.0)) as r:
        await r.supervisor.set_target(1.0, "backward")
        r.sim.treadmill.inject(parse_fault("reject@0:stop"))
        r.supervisor.request_stop("estop", "test")
        await advance(3)
        assert r.sim.treadmill.belt_speed_kmh > 0  # the treadmill refuses
        r.sim.treadmill.rejected.clear()  # ... until it does not
        assert await r.supervisor.wait_ended() == "estop"
        assert r.sim.treadmill.belt_speed_kmh == 0.0
        results = [e.result for e in r.commands("stop")]
        assert results[0] == "operation_failed"
        assert results[-1] == "success"


async def test_stop_ack_waits_for_the_treadmills_answer() -> None:
    async with rig() as r:
        await r.supervisor.set_target(1.0, "backward")
        ack = await r.supervisor.stop("estop", "control-socket")
        assert ack.acknowledged
        assert ack.belt_mph > 0  # acknowledged before the belt reached 0
        assert r.commands("stop")[0].source == "control-socket"


# -- pause --------------------------------------------------------------------------------------


async def test_pause_holds_the_belt_until_the_local_resume() -> None:
    async with rig() as r:
        await r.supervisor.set_target(1.5, "backward")
        ack = await r.supervisor.pause("mqtt")
        assert ack.acknowledged
        assert r.supervisor.state is SessionState.paused
        with pytest.raises(BeltPaused):
            await r.supervisor.set_target(2.0, "backward")
        await advance(20)  # no telemetry-stale or console-stop while paused
        assert r.sim.treadmill.belt_speed_kmh == 0.0
        assert r.safety() == []
        await r.supervisor.resume()
        assert commanded_kmh(r)[-1][1] == 0.81  # back at the floor, not at 1.5 mph
        await r.supervisor.set_target(0.0, "forward")  # a turn-around while at the floor
        assert r.supervisor.state is SessionState.running


# -- watchdogs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "reason", "safety_reason"),
    [
        ("safety-key@20", "safety_key", "safety_key"),
        ("console-stop@20", "console_stop", "console_stop"),
        ("overspeed@20:1.5", "fault", "overspeed"),
        ("stall@20", "fault", "telemetry_stale"),
        ("disconnect@20:2", "fault", "disconnected"),
        ("hr@20:200", "fault", "heart_rate"),
    ],
)
async def test_each_fault_ends_the_session_with_the_belt_stopped(
    fault: str, reason: str, safety_reason: str
) -> None:
    safety = SafetyConfig(max_heart_rate_bpm=170, heart_rate_slow_s=10.0)
    async with rig(faults=[fault], safety=safety) as r:
        await r.supervisor.set_target(2.0, "backward")
        assert await asyncio.wait_for(r.supervisor.wait_ended(), 120) == reason
        assert r.stopped().reason == reason
        assert (safety_reason, "stop") in r.safety()
        assert r.supervisor.state is (
            SessionState.fault if reason == "fault" else SessionState.stopped
        )
        latched_at = r.stopped().t - 0.001
        await advance(2)
        if safety_reason != "telemetry_stale":  # a stalled treadmill still stops, unseen
            assert r.stopped().belt_mph == 0.0
        assert r.sim.treadmill.belt_speed_kmh == 0.0
        late = [x for x in r.sim.treadmill.control_log if x.t > latched_at]
        assert not any(x.opcode in MOVING_OPS for x in late)
        with pytest.raises(LatchedError):
            await r.supervisor.set_target(1.0, "backward")


async def test_heart_rate_above_the_limit_slows_first() -> None:
    safety = SafetyConfig(max_heart_rate_bpm=170, heart_rate_slow_s=30.0)
    async with rig(safety=safety, faults=["hr@15:190"]) as r:
        await r.supervisor.set_target(2.0, "backward")
        await advance(25)
        assert ("heart_rate", "slow") in r.safety()
        assert not r.supervisor.latched
        assert commanded_kmh(r)[-1][1] == 0.81  # ramped down to the floor
        assert await r.supervisor.set_target(2.5, "backward") == pytest.approx(0.81 / KMH_PER_MPH)
        assert await asyncio.wait_for(r.supervisor.wait_ended(), 60) == "fault"
        assert ("heart_rate", "stop") in r.safety()


async def test_a_dropped_link_reconnects_sends_stop_and_ends() -> None:
    async with rig(faults=["disconnect@20:3"]) as r:
        await r.supervisor.set_target(2.0, "backward")
        await r.supervisor.wait_ended()
        assert r.sim.treadmill.connection_count == 2  # it came back to send Stop
        after = [x for x in r.sim.treadmill.control_log if x.t >= 20]
        assert [x.opcode for x in after] == [ftms.OpCode.request_control, ftms.OpCode.stop_or_pause]
        assert r.sim.treadmill.belt_speed_kmh == 0.0


async def test_a_console_stop_while_paused_still_ends_the_session() -> None:
    async with rig() as r:
        await r.supervisor.set_target(1.0, "backward")
        await r.supervisor.pause("test")
        await advance(3)
        assert not r.supervisor.latched  # the echo of our own pause is not a console stop
        r.sim.treadmill.press_console_stop()
        assert await r.supervisor.wait_ended() == "console_stop"
        with pytest.raises(LatchedError):
            await r.supervisor.resume()


@pytest.mark.parametrize(("fault", "reason"), [("reject@0:start", "control_refused")])
async def test_a_refused_start_is_a_fault_stop(fault: str, reason: str) -> None:
    async with rig(faults=[fault], start=False) as r:
        await r.supervisor.take_control()
        with pytest.raises(ControlPointError):
            await r.supervisor.start()
        assert await r.supervisor.wait_ended() == "fault"
        assert r.supervisor.safety_reason == reason
        assert r.sim.treadmill.belt_speed_kmh == 0.0


async def test_a_remote_pause_during_a_turnaround_pause_needs_the_walker_to_resume() -> None:
    async with rig() as r:
        await r.supervisor.set_target(1.0, "backward")
        await r.supervisor.pause("turnaround")
        await r.supervisor.pause("mqtt")
        with pytest.raises(BeltPaused, match="mqtt"):
            await r.supervisor.resume("turnaround")
        assert r.supervisor.paused
        await r.supervisor.resume()  # the walker
        assert not r.supervisor.paused
        await r.supervisor.pause("turnaround")
        await r.supervisor.resume("turnaround")
        assert not r.supervisor.paused


async def test_incline_is_rounded_to_the_device_grid_and_a_refusal_is_not_fatal() -> None:
    async with rig() as r:
        assert await r.supervisor.set_incline(2.2) == 2.0  # 0.5 % steps
        assert await r.supervisor.set_incline(40.0) == 15.0
    async with rig("coarse-grid") as r:
        assert await r.supervisor.set_incline(2.0) is None  # no incline on this machine
        assert r.supervisor.state is SessionState.running


async def test_a_stop_that_is_never_seen_is_retried_then_reported_unverified() -> None:
    async with rig(faults=["stall@10"]) as r:
        await r.supervisor.set_target(1.0, "backward")
        assert await r.supervisor.wait_ended() == "fault"
        assert ("telemetry_stale", "stop") in r.safety()
        assert ("stop_unverified", "stop") in r.safety()
        assert len(r.written(ftms.OpCode.stop_or_pause)) > 1  # retried
        assert r.sim.treadmill.belt_speed_kmh == 0.0  # it did stop, we just could not see it


async def test_a_link_that_never_comes_back_ends_the_session() -> None:
    async with rig(faults=["disconnect@10:1000"]) as r:
        await r.supervisor.set_target(1.0, "backward")
        assert await r.supervisor.wait_ended() == "fault"
        assert r.supervisor.safety_reason == "disconnected"
        assert ("stop_unverified", "stop") in r.safety()
        assert r.supervisor.state is SessionState.fault
