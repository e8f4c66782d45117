"""Cues in whole simulated sessions run as a library call, as fast as possible on the virtual
clock (deterministic, unlike a time-scaled CLI run): what is said when the supervisor slows."""

from __future__ import annotations

from pathlib import Path

from retrotread.events import CommandEvent, CueEvent, SafetyEvent
from tests.support.sessions import STEADY_PLAN, simulate, write_plan


def test_the_struggle_governor_s_slow_down_is_said_naming_the_new_speed(tmp_path: Path) -> None:
    """`slow_down`, SPEC's kind for a slower belt named by its new speed: a kind of our own
    would fail any reader that checks cue kinds against SPEC's table."""
    run = simulate(
        tmp_path,
        plan_file=write_plan(tmp_path, STEADY_PLAN),
        sim_profile="step-count",
        sim_faults=("struggle@100:0.7",),
        cues="off",
    )
    assert run.exit_code == 0
    (struggle,) = [e for e in run.of(SafetyEvent) if e.reason == "struggle"]
    assert struggle.action == "slow"
    said = [c for c in run.of(CueEvent) if c.kind == "slow_down" and c.t >= struggle.t]
    assert len(said) == 1
    step = next(c for c in run.of(CommandEvent) if c.op == "set_speed" and c.t >= struggle.t)
    assert step.mph is not None
    assert run.events.index(step) < run.events.index(said[0])  # said after the write
    assert said[0].text == f"Shorter steps: slowing down to {step.mph:.1f} miles per hour"


def test_a_steady_walker_hears_no_struggle(tmp_path: Path) -> None:
    run = simulate(
        tmp_path, plan_file=write_plan(tmp_path, STEADY_PLAN), sim_profile="step-count", cues="off"
    )
    assert run.exit_code == 0
    assert not [c for c in run.of(CueEvent) if "Shorter steps" in c.text]
