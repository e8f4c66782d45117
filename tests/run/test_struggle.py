"""`run --sim --sim-profile step-count`: the struggle governor in a whole session, end to end
(pacer, supervisor, the simulated walker's steps through bleak), on the virtual clock."""

from __future__ import annotations

from pathlib import Path

from retrotread.events import CommandEvent, PromptEvent, SafetyEvent
from tests.support.sessions import STEADY_PLAN, simulate, write_plan


def speeds_after(events: list[CommandEvent], t: float) -> list[float]:
    return [e.mph for e in events if e.op == "set_speed" and e.t >= t and e.mph is not None]


def test_a_struggling_walker_is_slowed_once_and_the_session_completes(tmp_path: Path) -> None:
    run = simulate(
        tmp_path,
        plan_file=write_plan(tmp_path, STEADY_PLAN),
        sim_profile="step-count",
        sim_faults=("struggle@100:0.7",),
    )
    assert run.exit_code == 0
    (struggle,) = [e for e in run.of(SafetyEvent) if e.reason == "struggle"]
    assert struggle.action == "slow"
    assert 100 < struggle.t < 160
    assert "Shorter steps: slowing down a little" in [e.message for e in run.of(PromptEvent)]
    before = speeds_after(run.of(CommandEvent), 0)
    later = speeds_after(run.of(CommandEvent), struggle.t)
    # One ramp step (0.1 mph) down, and the next segment's 1.5 mph stays at the slowed speed.
    assert len(later) == 1
    assert abs(later[0] - (before[-len(later) - 1] - 0.1)) < 0.01


def test_a_steady_walker_with_a_step_count_is_never_slowed(tmp_path: Path) -> None:
    run = simulate(tmp_path, plan_file=write_plan(tmp_path, STEADY_PLAN), sim_profile="step-count")
    assert run.exit_code == 0
    assert "struggle" not in run.safety_reasons()
