"""`Supervisor.resume(pauses_seen=...)`: a resume counts as asked for when its countdown began,
so a pause that arrives during the countdown, even one that finds the belt paused already (and
writes nothing), wins. The simulator's control log witnesses that nothing moved."""

from __future__ import annotations

import pytest

from retrotread.errors import BeltPaused
from retrotread.events import Direction, SessionState
from tests.support.rig import MOVING_OPS, rig
from tests.support.virtual_time import advance


async def test_a_pause_after_the_count_was_taken_refuses_the_resume() -> None:
    async with rig() as r:
        await r.supervisor.set_target(1.0, Direction.backward)
        await r.supervisor.pause("mqtt")
        await advance(10)
        counted = r.supervisor.pause_count  # the walker's countdown begins
        written = len(r.sim.treadmill.control_log)
        ack = await r.supervisor.pause("control-socket")  # during the countdown
        assert ack.detail == "already paused"
        assert r.supervisor.pause_count == counted + 1
        await advance(3)
        with pytest.raises(BeltPaused, match="control-socket"):
            await r.supervisor.resume(pauses_seen=counted)
        await advance(20)
        assert r.supervisor.paused
        assert r.sim.treadmill.belt_speed_kmh == 0.0
        later = r.sim.treadmill.control_log[written:]
        assert not [x for x in later if x.opcode in MOVING_OPS]
        assert r.supervisor.last_pause_source == "control-socket"
        assert r.supervisor.pause_sources == {"mqtt", "control-socket"}
        # A new countdown, with nothing arriving during it, resumes.
        await r.supervisor.resume(pauses_seen=r.supervisor.pause_count)
        assert r.supervisor.state is SessionState.running
        assert r.supervisor.pause_sources == frozenset()


async def test_without_a_pause_since_the_count_the_resume_goes_ahead() -> None:
    async with rig() as r:
        await r.supervisor.pause("turnaround")
        counted = r.supervisor.pause_count
        await advance(3)
        await r.supervisor.resume("turnaround", pauses_seen=counted)
        assert r.supervisor.state is SessionState.running
        await advance(5)
        assert r.sim.treadmill.belt_speed_kmh > 0.0


async def test_the_turnarounds_resume_yields_to_a_pause_by_its_own_name_after_the_count() -> None:
    """Even a second pause with the turn-around's own source (no other source to see) wins
    once it came after the count."""
    async with rig() as r:
        await r.supervisor.pause("turnaround")
        counted = r.supervisor.pause_count
        await r.supervisor.pause("turnaround")
        with pytest.raises(BeltPaused):
            await r.supervisor.resume("turnaround", pauses_seen=counted)
        assert r.supervisor.paused
