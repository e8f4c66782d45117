"""Races and edge cases of the safety invariants: pauses against starts and resumes in flight, a
stop mid-await, lost control, and a coarse mph grid.

Each test drives the real simulator through bleak on the virtual clock and pins down a race or an
edge case that could let the belt move (or run faster) than the supervisor allows.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from retrotread.config import SafetyConfig
from retrotread.errors import BeltPaused, LatchedError
from retrotread.events import CommandEvent, Event, SessionState
from retrotread.units import KMH_PER_MPH
from simulators.faults import parse_fault
from simulators.profiles import SpeedRange, load_profile
from tests.support.rig import MOVING_OPS, Rig, rig
from tests.support.virtual_time import advance

MPH = KMH_PER_MPH


def moves_after(r: Rig, index: int) -> list[int | None]:
    """Op codes of Start/Resume and Set Target Speed writes from control-log position `index`."""
    return [x.opcode for x in r.sim.treadmill.control_log[index:] if x.opcode in MOVING_OPS]


# -- a pause must win over a start or resume that is still in flight ----------------------------


async def test_a_pause_while_starting_keeps_the_belt_still() -> None:
    async with rig(start=False) as r:
        await r.supervisor.take_control()
        starting = asyncio.ensure_future(r.supervisor.start())
        await asyncio.sleep(0)  # start() has written the floor speed and awaits the answer
        assert not starting.done()
        ack = await r.supervisor.pause("mqtt")
        assert ack.acknowledged
        with contextlib.suppress(BeltPaused):
            await starting
        pause_at = len(r.sim.treadmill.control_log)
        await advance(20)
        assert r.sim.treadmill.belt_speed_kmh == 0.0
        assert r.supervisor.state is SessionState.paused
        assert not r.supervisor.latched  # no overspeed fault from a belt we never meant to run
        assert moves_after(r, pause_at) == []


async def test_a_pause_while_resuming_is_not_swallowed() -> None:
    async with rig() as r:
        await r.supervisor.set_target(1.0, "backward")
        await r.supervisor.pause("turnaround")
        await advance(5)
        resuming = asyncio.ensure_future(r.supervisor.resume())
        await asyncio.sleep(0)  # resume() has written the floor speed and awaits the answer
        assert not resuming.done()
        ack = await r.supervisor.pause("mqtt")
        assert ack.acknowledged
        with contextlib.suppress(BeltPaused):
            await resuming
        await advance(20)
        assert r.sim.treadmill.belt_speed_kmh == 0.0
        assert r.supervisor.paused
        assert not r.supervisor.latched
        with pytest.raises(BeltPaused):
            await r.supervisor.set_target(1.0, "backward")
        await r.supervisor.resume()  # the walker can still resume it
        assert r.supervisor.state is SessionState.running


async def test_a_resume_asked_for_before_a_pause_does_not_override_it() -> None:
    async with rig() as r:
        ramp = asyncio.ensure_future(r.supervisor.set_target(2.0, "backward"))
        await advance(2.5)  # the ramp holds the move lock between its steps
        resuming = asyncio.ensure_future(r.supervisor.resume())  # waits for the lock
        await asyncio.sleep(0)
        await r.supervisor.pause("mqtt")  # asked for after the resume: it must win
        with pytest.raises(BeltPaused):
            await ramp
        with pytest.raises(BeltPaused):
            await resuming
        await advance(20)
        assert r.supervisor.paused
        assert r.sim.treadmill.belt_speed_kmh == 0.0
        assert not r.supervisor.latched


# -- the latch, mid-await ---------------------------------------------------------------------


async def test_a_ramp_whose_last_step_is_answered_after_the_latch_closes_raises() -> None:
    async with rig() as r:

        def stop_when_the_step_is_answered(event: Event) -> None:
            if isinstance(event, CommandEvent) and event.op == "set_speed" and event.kmh == 0.88:
                r.supervisor.request_stop("estop", "test")

        r.supervisor.add_listener(stop_when_the_step_is_answered)
        with pytest.raises(LatchedError):
            await r.supervisor.set_target(0.55, "backward")  # 0.81 -> 0.88 km/h: one step
        assert r.supervisor.latched
        await r.supervisor.wait_ended()
        assert r.sim.treadmill.belt_speed_kmh == 0.0


# -- watchdogs ----------------------------------------------------------------------------------


async def test_lost_control_is_a_fault_stop_and_the_stop_retakes_control() -> None:
    async with rig() as r:
        await r.supervisor.set_target(1.5, "backward")
        lost_at = len(r.sim.treadmill.control_log)
        r.sim.treadmill.inject(parse_fault("control-lost@0"))  # its console took over
        assert await asyncio.wait_for(r.supervisor.wait_ended(), 60) == "fault"
        assert r.supervisor.safety_reason == "control_lost"
        assert ("control_lost", "stop") in r.safety()
        assert r.stopped().belt_mph == 0.0
        assert r.sim.treadmill.belt_speed_kmh == 0.0
        assert moves_after(r, lost_at) == []


# -- speed read as mph --------------------------------------------------------------------------


@pytest.mark.parametrize("cap", [1.88, 2.96, 3.0])
async def test_a_coarse_mph_parameter_never_runs_the_belt_above_the_cap(cap: float) -> None:
    """A speed_param_mph device snaps the parameter onto ITS grid (0.1 mph here): the written
    parameter must already lie on that grid, rounded down, or the device rounds it up."""
    base = load_profile("speed-as-mph")
    coarse = SpeedRange(min_kmh=0.5, max_kmh=12.0, increment_kmh=0.1)
    profile = base.model_copy(update={"speed": coarse})
    async with rig(profile, max_speed_mph=cap, safety=SafetyConfig(max_step_mph=0.5)) as r:
        await r.supervisor.set_target(3.0, "backward")
        await advance(10)
        assert r.sim.treadmill.belt_speed_kmh <= cap * MPH + 1e-9
        param_mph = r.sim.treadmill.target_speed_kmh  # what the device took the parameter for
        commanded = r.supervisor.commanded_mph
        assert param_mph is not None
        assert commanded is not None
        assert param_mph <= commanded + 1e-9
        assert r.safety() == []
        assert r.supervisor.state is SessionState.running
