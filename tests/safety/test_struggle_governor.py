"""The struggle governor end to end: the simulated walker's step count through bleak to the
supervisor, on the virtual clock. The simulator's control log is the witness of what the
treadmill was told."""

from __future__ import annotations

import itertools

import pytest

from retrotread.config import SafetyConfig
from retrotread.events import Direction, PromptEvent
from retrotread.treadmill import Telemetry, TreadmillEvent
from retrotread.units import KMH_PER_MPH
from tests.support.rig import commanded_kmh, rig
from tests.support.virtual_time import advance

STEP_KMH = 0.1 * KMH_PER_MPH  # one ramp step of the default safety.max_step_mph


async def test_a_struggling_walker_slows_the_belt_once_by_one_step() -> None:
    async with rig("step-count", faults=["struggle@90:0.7"]) as r:
        seen: list[Telemetry] = []

        def keep(event: TreadmillEvent) -> None:
            if isinstance(event, Telemetry):
                seen.append(event)

        r.treadmill.add_listener(keep)
        await r.supervisor.set_target(1.5, Direction.backward)
        ramp = len(commanded_kmh(r))
        cruising = commanded_kmh(r)[-1][1]
        await advance(300)
        assert any(tm.step_count for tm in seen)  # bit 13 came through the client
        assert r.safety() == [("struggle", "slow")]
        prompts = [e.message for e in r.events if isinstance(e, PromptEvent)]
        assert prompts == ["Shorter steps: slowing down a little"]
        after = [kmh for _, kmh in commanded_kmh(r)[ramp:]]
        assert len(after) == 1  # one step down, and never back up
        assert after[-1] == pytest.approx(cruising - STEP_KMH, abs=0.011)
        assert commanded_kmh(r)[-1][1] == after[-1]
        assert r.supervisor.state.value == "running"  # a slow-down, not a stop
        # The pacer asking for more afterwards is held at the slowed speed.
        assert await r.supervisor.set_target(2.0, Direction.backward) == pytest.approx(
            after[-1] / KMH_PER_MPH, abs=0.01
        )


async def test_a_steady_walker_is_never_slowed() -> None:
    async with rig("step-count") as r:
        await r.supervisor.set_target(1.5, Direction.backward)
        await r.supervisor.set_target(2.0, Direction.backward)
        await advance(200)
        await r.supervisor.set_target(1.2, Direction.backward)
        await advance(400)
        assert r.safety() == []
        speeds = [kmh for _, kmh in commanded_kmh(r)]
        assert speeds[-1] == pytest.approx(1.2 * KMH_PER_MPH, abs=0.011)


async def test_the_governor_never_asks_for_more_speed_and_never_below_the_floor() -> None:
    """Steps shortening further and further at a slow belt: each slow-down is one step down,
    the commanded speed only ever falls, and it stops falling at the floor (a struggle there
    says nothing: there is no slower speed to give)."""
    safety = SafetyConfig(struggle_baseline_s=15.0, struggle_hold_s=5.0, struggle_cooldown_s=10.0)
    faults = [f"struggle@{t}:{f}" for t, f in ((40, 0.7), (100, 0.45), (160, 0.3), (220, 0.2))]
    async with rig("step-count", faults=faults, safety=safety) as r:
        await r.supervisor.set_target(0.8, Direction.backward)
        await advance(400)
        floor = r.supervisor.backward_band.floor.kmh
        speeds = [kmh for _, kmh in commanded_kmh(r)]
        assert speeds[-1] == pytest.approx(floor)
        steps_down = sum(1 for a, b in itertools.pairwise(speeds) if b < a)
        assert steps_down == 3  # 1.28 -> 1.12 -> 0.97 -> 0.81 km/h, the floor
        assert r.safety() == [("struggle", "slow")] * steps_down
        top = speeds.index(max(speeds))
        assert all(b <= a for a, b in itertools.pairwise(speeds[top:]))
        assert min(speeds) >= r.supervisor.backward_band.floor.kmh - 1e-9


async def test_a_treadmill_without_a_step_count_never_judges_steps() -> None:
    async with rig("generic", faults=["struggle@30:0.5"]) as r:
        await r.supervisor.set_target(1.5, Direction.backward)
        await advance(300)
        assert r.safety() == []
