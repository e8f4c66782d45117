"""A belt something else started, stopped by `stop_foreign_belt`: the path of `retrotread stop
--device`. The simulator's control log is the witness of what was written; "another app" is a
second client that starts the belt and leaves it running."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from retrotread import ftms
from retrotread.config import SafetyConfig
from retrotread.errors import ControlPointError, InputError
from retrotread.events import CommandEvent, Event, SafetyEvent, StopAck, StoppedEvent
from retrotread.safety.foreign_belt import stop_foreign_belt
from retrotread.safety.latch import MAX_STOP_ATTEMPTS
from retrotread.safety.supervisor import Supervisor
from retrotread.treadmill import Telemetry, Treadmill
from simulators.harness import Simulator, open_simulator
from simulators.profiles import Profile, SpeedRange, load_profile
from tests.support.virtual_time import advance

MOVING_OPS = {ftms.OpCode.start_or_resume, ftms.OpCode.set_target_speed}


@dataclass
class ForeignRig:
    sim: Simulator
    treadmill: Treadmill
    log_start: int  # control-log entries written before our stop began (the other app)
    events: list[Event] = field(default_factory=list)

    async def stop(self, attempts: int = MAX_STOP_ATTEMPTS) -> StopAck:
        return await stop_foreign_belt(
            self.treadmill, SafetyConfig(), "cli", attempts=attempts, listener=self.events.append
        )

    def ours(self) -> list[int]:
        """Opcodes written since our stop began."""
        return [x.opcode for x in self.sim.treadmill.control_log[self.log_start :]]

    def commands(self, op: str) -> list[str]:
        return [e.result for e in self.events if isinstance(e, CommandEvent) and e.op == op]

    def stopped(self) -> StoppedEvent:
        (event,) = [e for e in self.events if isinstance(e, StoppedEvent)]
        return event


async def leave_belt_running(sim: Simulator, kmh: float = 3.0) -> None:
    """Another app starts the belt and goes away without stopping it."""
    other_app = await Treadmill.connect(
        sim.address, scanner_backend=sim.scanner_backend, client_backend=sim.client_backend
    )
    at_speed = asyncio.Event()
    other_app.add_listener(
        lambda e: isinstance(e, Telemetry) and e.speed_kmh == kmh and at_speed.set()
    )
    control_point = other_app.claim_control_point()
    with contextlib.suppress(ControlPointError):  # some devices refuse it and obey anyway
        await control_point.request_control()
    await control_point.set_speed(round(kmh * 100))
    await control_point.start()
    await at_speed.wait()
    await other_app.disconnect()


@asynccontextmanager
async def foreign_rig(
    profile: str | Profile = "generic", faults: Sequence[str] = (), running: bool = True
) -> AsyncIterator[ForeignRig]:
    async with open_simulator(profile, faults) as sim:
        if running:
            await leave_belt_running(sim)
        treadmill = await Treadmill.connect(
            sim.address, scanner_backend=sim.scanner_backend, client_backend=sim.client_backend
        )
        try:
            yield ForeignRig(sim, treadmill, len(sim.treadmill.control_log))
        finally:
            await treadmill.disconnect()


async def test_a_running_foreign_belt_is_stopped_and_verified() -> None:
    async with foreign_rig() as r:
        assert r.sim.treadmill.belt_speed_kmh == 3.0
        ack = await r.stop()
        assert ack.acknowledged
        assert r.sim.treadmill.belt_speed_kmh == 0
        assert r.ours() == [ftms.OpCode.request_control, ftms.OpCode.stop_or_pause]
        assert r.commands("request_control") == ["success"]
        assert r.commands("stop") == ["success"]
        stopped = r.stopped()
        assert (stopped.reason, stopped.source, stopped.belt_mph) == ("estop", "cli", 0)
        assert ack.belt_mph == 0


async def test_a_refused_request_control_does_not_keep_the_stop_from_being_written() -> None:
    """A device that refuses Request Control yet obeys its commands (control-rejected)."""
    async with foreign_rig("control-rejected") as r:
        ack = await r.stop()
        assert ack.acknowledged
        assert r.commands("request_control") == ["control_not_permitted"]
        assert r.ours() == [ftms.OpCode.request_control, ftms.OpCode.stop_or_pause]
        assert r.sim.treadmill.belt_speed_kmh == 0


@pytest.mark.parametrize("attempts", [1, 2, MAX_STOP_ATTEMPTS])
async def test_a_refused_stop_is_retried_then_reported_unverified(attempts: int) -> None:
    async with foreign_rig(faults=["reject@0:stop"]) as r:
        ack = await r.stop(attempts)
        assert not ack.acknowledged
        # Each attempt: Stop, and after its refusal Request Control and Stop once more.
        assert r.ours().count(ftms.OpCode.stop_or_pause) == 2 * attempts
        assert set(r.commands("stop")) == {"operation_failed"}
        unverified = [e for e in r.events if isinstance(e, SafetyEvent)]
        assert [(e.reason, e.action) for e in unverified] == [("stop_unverified", "stop")]
        assert r.stopped().reason == "estop"


async def test_a_standing_belt_still_gets_its_stop_and_nothing_that_moves_it() -> None:
    """Nobody knows what a foreign belt does: the Stop is written even when it stands, and
    Request Control and Stop are all that is ever written."""
    async with foreign_rig(running=False) as r:
        ack = await r.stop()
        assert ack.acknowledged
        assert r.ours() == [ftms.OpCode.request_control, ftms.OpCode.stop_or_pause]
        assert not MOVING_OPS & set(r.ours())
        assert not [e for e in r.events if isinstance(e, SafetyEvent)]
        assert r.stopped().reason == "estop"
        await advance(10)
        assert r.sim.treadmill.belt_speed_kmh == 0


async def test_the_foreign_stop_runs_once_and_never_around_a_session_supervisor() -> None:
    """Both claim the control point: a second stop of the same Treadmill, or one of a Treadmill
    a session's Supervisor holds, is refused before anything is written."""
    async with foreign_rig(running=False) as r:
        await r.stop()
        written = len(r.sim.treadmill.control_log)
        with pytest.raises(RuntimeError):
            await r.stop()
        assert len(r.sim.treadmill.control_log) == written
    async with open_simulator("generic") as sim:
        treadmill = await Treadmill.connect(
            sim.address, scanner_backend=sim.scanner_backend, client_backend=sim.client_backend
        )
        session = Supervisor(treadmill, SafetyConfig())
        with pytest.raises(RuntimeError):
            await stop_foreign_belt(treadmill, SafetyConfig(), "cli")
        assert not sim.treadmill.control_log
        await session.close()
        await treadmill.disconnect()


async def test_a_device_whose_grid_misses_the_walking_band_can_still_be_stopped() -> None:
    fast_only = load_profile("generic").model_copy(
        update={"speed": SpeedRange(min_kmh=6.0, max_kmh=16.0, increment_kmh=0.1)}
    )
    async with open_simulator(fast_only) as sim:
        treadmill = await Treadmill.connect(
            sim.address, scanner_backend=sim.scanner_backend, client_backend=sim.client_backend
        )
        with pytest.raises(InputError):
            Supervisor(treadmill, SafetyConfig())  # a session refuses such a device
        ack = await stop_foreign_belt(treadmill, SafetyConfig(), "cli")
        assert ack.acknowledged
        await treadmill.disconnect()
