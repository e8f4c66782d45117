"""SPEC.md "Stop guarantees" against the simulator, on the virtual clock.

- The latch is atomic: once a stop is requested, no Start/Resume and no Set Target Speed enters
  the transport any more, whatever await the move was at. The transport (the bleak backend the
  simulator is reached through) records the latch state at the moment each write enters it, and
  the machine's own control log must show no moving write after the first Stop.
- Verified means acknowledged: a belt that reads 0 because it has not begun to move after a
  Start does not verify a stop that the machine refused.
- One procedure at a time: a Stop refused with ATT 0xFE (another procedure in progress) is
  written again at once, and no other write is ever refused that way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from retrotread import ftms
from retrotread.config import SafetyConfig
from retrotread.errors import RetrotreadError
from retrotread.events import Event, SafetyEvent, StoppedEvent
from retrotread.safety.supervisor import Supervisor
from retrotread.treadmill import Quirks, Treadmill
from simulators.harness import open_simulator
from simulators.treadmill import ATT_PROCEDURE_ALREADY_IN_PROGRESS
from tests.support.rig import rig
from tests.support.virtual_time import advance
from tests.support.wire import MOVING_OPS, moving_writes_after_first_stop

# Enough loop passes to get past every await of one start, resume or ramp step.
MAX_TURNS = 400


@dataclass
class Transport:
    """What entered the bleak backend, with the latch state at that moment."""

    writes: list[tuple[bool, bytes]] = field(default_factory=list)
    supervisor: Supervisor | None = None

    def moving_writes_after_latch(self) -> list[bytes]:
        return [data for latched, data in self.writes if latched and data[0] in MOVING_OPS]


def recording(base: type[Any], transport: Transport) -> type[Any]:
    class Recording(base):  # type: ignore[misc, valid-type]
        async def write_gatt_char(self, characteristic: Any, data: Any, response: bool) -> None:
            supervisor = transport.supervisor
            transport.writes.append((supervisor is not None and supervisor.latched, bytes(data)))
            await super().write_gatt_char(characteristic, data, response)

    return Recording


@asynccontextmanager
async def recorded(profile: str) -> AsyncIterator[tuple[Any, Supervisor, Transport]]:
    transport = Transport()
    async with open_simulator(profile) as sim:
        treadmill = await Treadmill.connect(
            sim.address,
            quirks=Quirks.from_names(sim.profile.quirks),
            scanner_backend=sim.scanner_backend,
            client_backend=recording(sim.client_backend, transport),
        )
        supervisor = Supervisor(treadmill, SafetyConfig())
        transport.supervisor = supervisor
        try:
            yield sim, supervisor, transport
        finally:
            await supervisor.close()
            await treadmill.disconnect()


Move = Callable[[Supervisor], Awaitable[object]]


async def _prepare_start(supervisor: Supervisor) -> Move:
    await supervisor.take_control()
    return lambda s: s.start()


async def _prepare_resume(supervisor: Supervisor) -> Move:
    await supervisor.take_control()
    await supervisor.start()
    await supervisor.pause("test")
    await advance(5)
    return lambda s: s.resume()


async def _prepare_ramp(supervisor: Supervisor) -> Move:
    await supervisor.take_control()
    await supervisor.start()
    await advance(2)  # the step is due at once: the sweep covers its every await
    return lambda s: s.set_target(0.55, "backward")  # 0.81 -> 0.88 km/h: one step


PREPARE = {"start": _prepare_start, "resume": _prepare_resume, "set_target": _prepare_ramp}


async def _stop_after(profile: str, what: str, turns: int) -> bool:
    """Drive a stop into `what` after `turns` loop passes; True when the move had finished
    before the stop (the sweep is past its last await)."""
    async with recorded(profile) as (sim, supervisor, transport):
        move = await PREPARE[what](supervisor)
        task = asyncio.ensure_future(move(supervisor))
        for _ in range(turns):
            await asyncio.sleep(0)
        finished = task.done()
        supervisor.request_stop("estop", "test")
        with contextlib.suppress(RetrotreadError):
            await task
        await asyncio.wait_for(supervisor.wait_ended(), 120)
        await advance(10)
        assert transport.moving_writes_after_latch() == [], (what, turns)
        assert moving_writes_after_first_stop(sim.treadmill.control_log) == [], (what, turns)
        assert sim.treadmill.belt_speed_kmh == 0.0
        return finished


# Machines that answer at once, so that loop passes alone walk through every await; the order of
# the start's two writes differs between them.
@pytest.mark.parametrize("profile", ["generic", "start-before-speed"])
@pytest.mark.parametrize("what", ["start", "resume", "set_target"])
async def test_a_stop_at_any_await_of_a_move_holds_back_every_moving_write(
    profile: str, what: str
) -> None:
    for turns in range(MAX_TURNS):
        if await _stop_after(profile, what, turns):
            return
    pytest.fail(f"{what} did not finish within {MAX_TURNS} loop passes")


async def test_a_zero_before_any_acknowledged_stop_does_not_verify_the_stop() -> None:
    """A laggy belt reads 0 for a while after a Start; with every Stop refused, that 0 must not
    count: stop_unverified, and indeed the belt then starts running."""
    async with rig("laggy", faults=["reject@0:stop"], start=False) as r:
        await r.supervisor.take_control()
        await r.supervisor.start()
        assert r.sim.treadmill.belt_speed_kmh == 0.0  # the belt has not begun to move
        r.supervisor.request_stop("estop", "test")
        await asyncio.wait_for(r.supervisor.wait_ended(), 600)
        assert ("stop_unverified", "stop") in r.safety()
        assert not [c for c in r.commands("stop") if c.result == "success"]
        assert r.sim.treadmill.belt_speed_kmh > 0.0  # the hazard the report warns of


async def test_a_zero_after_an_acknowledged_stop_verifies_it() -> None:
    async with rig("laggy", start=False) as r:
        await r.supervisor.take_control()
        await r.supervisor.start()
        ack = await r.supervisor.stop("estop", "test")
        assert ack.acknowledged
        await asyncio.wait_for(r.supervisor.wait_ended(), 120)
        assert ("stop_unverified", "stop") not in r.safety()
        stopped = [e for e in r.events if isinstance(e, StoppedEvent)]
        assert stopped[0].belt_mph == 0.0
        await advance(10)
        assert r.sim.treadmill.belt_speed_kmh == 0.0


async def test_a_stop_refused_as_procedure_in_progress_is_written_again_at_once() -> None:
    async with rig("strict-procedure") as r:
        ramp = asyncio.ensure_future(r.supervisor.set_target(2.0, "backward"))
        for _ in range(500):  # on until a step awaits its (0.25 s late) answer
            if any(
                x.opcode == ftms.OpCode.set_target_speed and x.response is None
                for x in r.sim.treadmill.control_log[1:]
            ):
                break
            await advance(0.01)
        ack = await r.supervisor.stop("estop", "test")
        with contextlib.suppress(RetrotreadError):
            await ramp
        assert ack.acknowledged
        stops = [x for x in r.sim.treadmill.control_log if x.request == ftms.stop()]
        assert stops[0].att_error == ATT_PROCEDURE_ALREADY_IN_PROGRESS
        assert stops[-1].att_error is None
        assert stops[-1].t - stops[0].t <= 0.3  # right after the procedure in progress ended
        await asyncio.wait_for(r.supervisor.wait_ended(), 60)
        assert ("stop_unverified", "stop") not in r.safety()


async def test_only_stop_ever_meets_a_procedure_in_progress() -> None:
    """The client serialises its writes: pauses, resumes and ramps racing each other never
    overlap on a one-procedure-at-a-time machine."""
    events: list[Event] = []
    async with rig("strict-procedure") as r:
        r.supervisor.add_listener(events.append)
        ramp = asyncio.ensure_future(r.supervisor.set_target(2.0, "backward"))
        await advance(3.3)
        pause = asyncio.ensure_future(r.supervisor.pause("test"))
        incline = asyncio.ensure_future(r.supervisor.set_incline(2.0))
        await advance(3)
        with contextlib.suppress(RetrotreadError):
            await r.supervisor.resume()
        await asyncio.gather(ramp, pause, incline, return_exceptions=True)
        await r.supervisor.stop("completed", "test")
        await asyncio.wait_for(r.supervisor.wait_ended(), 60)
        busy = [
            x
            for x in r.sim.treadmill.control_log
            if x.att_error == ATT_PROCEDURE_ALREADY_IN_PROGRESS and x.request != ftms.stop()
        ]
        assert busy == []
        assert not [e for e in events if isinstance(e, SafetyEvent) and e.action == "stop"]


async def test_a_latch_closed_before_the_supervisor_exists_gets_no_supervisor() -> None:
    """The session's latch is the supervisor's: one closed early (a stop before the belt
    started) cannot be handed to a supervisor, so nothing can write a Start on it."""
    from retrotread.safety.latch import Latch

    latch = Latch()
    latch.latch("estop", "test")
    async with rig(start=False) as r:
        with pytest.raises(RuntimeError, match="idle latch"):
            Supervisor(r.treadmill, SafetyConfig(), latch=latch)
