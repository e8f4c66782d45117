"""Concurrent interleavings of the supervisor's entry points against the simulator.

The other property test runs operations one after another. Here every operation is its own task,
fired at a random virtual time plus a random number of loop turns, so set_target, pause, resume,
request_stop and injected faults overlap each other and the control-point writes in flight (on the
virtual clock a write and its answer take no time, only loop turns). Properties:
- every Set Target Speed lies in the band of its direction, on the device grid;
- after the first FTMS Stop nothing starts the belt or sets a speed;
- a pause that came after the last resume call leaves the belt at 0 (no start or resume in flight
  overrides it);
- the session ends with a StoppedEvent and the belt at 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools

from hypothesis import example, given, settings
from hypothesis import strategies as st

from retrotread.config import SafetyConfig
from retrotread.errors import RetrotreadError
from retrotread.events import CommandEvent, Direction, StoppedEvent
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

FAULTS = ["console-stop", "safety-key", "overspeed:1.6", "disconnect:1", "hr:200", "reject:stop"]

Op = tuple[float, int, str, float]  # (virtual s after the start, loop turns, kind, argument)

KINDS = ["target", "forward", "pause", "resume", "resume-turnaround", "stop", "fault"]
# Few distinct instants, so that operations collide; pauses and resumes weigh more, because
# their races with each other and with the writes in flight are what this test is after.
ops = st.tuples(
    st.sampled_from([0.0, 1.5, 3.0]),
    st.integers(0, 6),
    st.sampled_from([*KINDS, *(["pause", "resume"] * 3), "target"]),
    st.floats(0.0, 5.0),
)


async def interleave(profile: str, schedule: list[Op]) -> None:
    safety = SafetyConfig(max_heart_rate_bpm=180, heart_rate_slow_s=5.0)
    async with open_simulator(profile) as sim:
        treadmill = await connect(sim)
        supervisor = Supervisor(treadmill, safety)
        events, directions = record_with_direction(supervisor)
        await supervisor.take_control()
        await supervisor.start()

        order = itertools.count()
        last_pause = last_resume = -1
        tasks: list[asyncio.Task[object]] = []

        async def run(turns: int, kind: str, arg: float) -> None:
            nonlocal last_pause, last_resume
            for _ in range(turns):
                await asyncio.sleep(0)
            with contextlib.suppress(RetrotreadError):
                if kind in ("target", "forward"):
                    direction: Direction = "forward" if kind == "forward" else "backward"
                    await supervisor.set_target(arg, direction)
                elif kind == "pause":
                    last_pause = next(order)
                    await supervisor.pause("mqtt")
                elif kind.startswith("resume"):
                    last_resume = next(order)
                    await supervisor.resume("turnaround" if kind == "resume-turnaround" else None)
                elif kind == "stop":
                    supervisor.request_stop("estop", "test")
                else:
                    fault, _, value = FAULTS[int(arg) % len(FAULTS)].partition(":")
                    sim.treadmill.inject(parse_fault(f"{fault}@0" + (f":{value}" if value else "")))

        def spawn(turns: int, kind: str, arg: float) -> None:
            tasks.append(asyncio.ensure_future(run(turns, kind, arg)))

        loop = asyncio.get_running_loop()
        for at_s, turns, kind, arg in schedule:
            loop.call_later(at_s, spawn, turns, kind, arg)
        await advance(4.0)  # every operation has fired
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 120)
        await advance(10.0)  # the belt settles on whatever the supervisor left it at
        if last_pause > last_resume and not supervisor.latched:
            assert supervisor.paused
            assert sim.treadmill.belt_speed_kmh == 0.0

        sim.treadmill.rejected.clear()  # let the final Stop through
        # A session that gave up on its refused Stops still answers a later stop with a Stop.
        ack = await asyncio.wait_for(supervisor.stop("completed", "test"), 300)
        await asyncio.wait_for(supervisor.wait_ended(), 300)
        assert ack.acknowledged
        await advance(10.0)
        await asyncio.gather(*tasks, return_exceptions=True)
        await supervisor.close()
        await treadmill.disconnect()

        grid = supervisor.grid
        for event in events:
            if isinstance(event, CommandEvent) and event.op == "set_speed" and event.kmh:
                band = supervisor.band(directions[id(event)])
                assert band.contains(grid.setpoint(event_param(grid, event)))
        assert [e for e in events if isinstance(e, StoppedEvent)]
        assert_the_machine_stopped_safely(sim, supervisor)


@settings(max_examples=25)
@example(
    profile="generic", schedule=[(0.0, 0, "pause", 0), (1.5, 0, "resume", 0), (1.5, 2, "pause", 0)]
)
@given(
    profile=st.sampled_from(
        ["generic", "start-before-speed", "ack-by-status", "strict-procedure", "offset-grid"]
    ),
    schedule=st.lists(ops, min_size=1, max_size=8),
)
def test_concurrent_commands_pauses_stops_and_faults_keep_the_invariants(
    profile: str, schedule: list[Op]
) -> None:
    run_virtual(interleave(profile, schedule))
