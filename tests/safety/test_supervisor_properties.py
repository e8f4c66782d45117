"""Random command sequences and fault injections against the simulator, on the virtual clock.

Whatever the engine, a remote channel or the treadmill does, the supervisor must only ever write
backward speeds inside the band on the device's grid, change speed by at most one ramp step per
step interval, never start or speed the belt after a stop, and end with the belt at 0.
"""

from __future__ import annotations

import asyncio
import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from retrotread.config import SafetyConfig
from retrotread.errors import InputError, RetrotreadError
from retrotread.events import CommandEvent, StoppedEvent
from retrotread.safety.limits import mph_to_centi, ramp_step_c, step_wait_s
from retrotread.safety.supervisor import Supervisor
from simulators.clock import run_virtual
from simulators.faults import parse_fault
from simulators.harness import open_simulator
from tests.support.rig import connect, record_with_direction
from tests.support.virtual_time import advance
from tests.support.wire import (
    assert_the_machine_stopped_safely,
    event_param,
)

PROFILES = [
    "generic",
    "coarse-grid",
    "min-speed-1kmh",
    "start-before-speed",
    "ack-by-status",
    "offset-grid",  # a minimum off the increment's multiples
    "mph-coarse",  # the parameter read as mph, on a grid that misses the floor
    "laggy",  # a belt that takes its time to follow a command
    "strict-procedure",  # one control-point procedure at a time (ATT 0xFE)
]
SIM_FAULTS = ["console-stop", "safety-key", "overspeed:1.6", "disconnect:2", "stall", "hr:200"]

operations = st.one_of(
    st.tuples(st.just("target"), st.floats(0.0, 5.0)),
    st.tuples(st.just("forward"), st.floats(0.0, 6.0)),
    st.tuples(st.just("wait"), st.floats(0.0, 15.0)),
    st.tuples(st.just("pause"), st.just(0.0)),
    st.tuples(st.just("resume"), st.just(0.0)),
    st.tuples(st.just("stop"), st.just(0.0)),
    st.tuples(st.sampled_from([f"fault:{f}" for f in SIM_FAULTS]), st.just(0.0)),
)


async def scenario(
    profile: str, cap: float, step: float, interval: float, ops: list[tuple[str, float]]
) -> None:
    safety = SafetyConfig(max_step_mph=step, step_interval_s=interval, max_heart_rate_bpm=180)
    async with open_simulator(profile) as sim:
        treadmill = await connect(sim)
        try:
            supervisor = Supervisor(treadmill, safety, max_speed_mph=cap)
        except InputError:  # the grid has no speed in this band: refused before anything moved
            assert sim.treadmill.control_log == []
            await treadmill.disconnect()
            return
        events, directions = record_with_direction(supervisor)
        await supervisor.take_control()
        await supervisor.start()
        ramps: list[asyncio.Future[float]] = []
        for op, value in ops:
            if op in ("target", "forward"):
                direction = "forward" if op == "forward" else "backward"
                ramps.append(asyncio.ensure_future(supervisor.set_target(value, direction)))
            elif op == "wait":
                await advance(value)
            elif op == "pause":
                await supervisor.pause("test")
            elif op == "resume":
                with contextlib.suppress(RetrotreadError):
                    await supervisor.resume()
            elif op == "stop":
                supervisor.request_stop("estop", "test")
            else:
                kind, _, arg = op.removeprefix("fault:").partition(":")
                sim.treadmill.inject(parse_fault(f"{kind}@0" + (f":{arg}" if arg else "")))
            await asyncio.sleep(0)
        supervisor.request_stop("completed", "test")
        await asyncio.wait_for(supervisor.wait_ended(), 300)
        await asyncio.gather(*ramps, return_exceptions=True)
        await advance(10)
        await supervisor.close()
        await treadmill.disconnect()

        grid = supervisor.grid
        step_c = ramp_step_c(step)
        speeds = [e for e in events if isinstance(e, CommandEvent) and e.op == "set_speed"]
        for event in speeds:
            setpoint = grid.setpoint(event_param(grid, event))
            if directions[id(event)] == "backward":
                band = supervisor.backward_band
                assert setpoint.high_c <= mph_to_centi(cap) <= mph_to_centi(3.0)
            else:
                band = supervisor.forward_band
                assert setpoint.high_c <= mph_to_centi(4.0)
            assert band.contains(setpoint)
        # While the belt runs (between a start/resume and the next pause or stop), every change
        # is one ramp step, at most max_step per step interval on average.
        commands = [e for e in events if isinstance(e, CommandEvent)]
        previous: CommandEvent | None = None
        for event in commands:
            if event.op in ("pause", "stop", "start"):
                previous = None
            elif event.op == "set_speed" and event.kmh is not None:
                if previous is not None:
                    before = grid.setpoint(event_param(grid, previous))
                    after = grid.setpoint(event_param(grid, event))
                    band = supervisor.band(directions[id(event)])
                    highs = sorted(s.high_c for s in band.setpoints)
                    low, high = sorted((before.high_c, after.high_c))
                    assert abs(after.high_c - before.high_c) <= step_c or not [
                        h for h in highs if low < h < high
                    ]
                    wait = step_wait_s(after.high_c - before.high_c, step_c, interval)
                    assert event.t - previous.t >= wait - 1e-6
                previous = event

        assert [e for e in events if isinstance(e, StoppedEvent)]
        assert_the_machine_stopped_safely(sim, supervisor)


@settings(max_examples=20)
@given(
    profile=st.sampled_from(PROFILES),
    cap=st.floats(0.7, 3.0),
    step=st.sampled_from([0.05, 0.1, 0.25, 0.5]),
    interval=st.sampled_from([0.5, 1.0, 2.0]),
    ops=st.lists(operations, min_size=1, max_size=12),
)
def test_random_sessions_keep_every_safety_invariant(
    profile: str, cap: float, step: float, interval: float, ops: list[tuple[str, float]]
) -> None:
    run_virtual(scenario(profile, cap, step, interval, ops))
