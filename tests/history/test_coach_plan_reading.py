"""How the coach reads a past plan's level: its own plans exactly, anything else conservatively.

The name `coach` proves nothing (`retrotread coach` prints it, and an edited copy keeps it): a
plan is read exactly only when its segments are the ones the coach makes for the level it
claims. An edited copy is read like any other plan (mean backward speed, rounded down), so a
minute at 2.5 mph in front of ten at 0.8 does not make the next plan ten minutes at 2.5 mph.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrotread.events import Direction
from retrotread.history.coach import (
    CoachLimits,
    Level,
    PastSession,
    level_of,
    plan_for_level,
    suggest,
)
from retrotread.history.plan_file import plan_data, plan_toml
from retrotread.session.plan import Plan, Segment
from retrotread.session.programs import load_program

LIMITS = CoachLimits()
FIRST_STEPS = load_program("first-steps")
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _segment(name: str, seconds: float, mph: float) -> Segment:
    return Segment(name=name, direction=Direction.backward, duration_s=seconds, target_mph=mph)


def _two_good_sessions(plan: Plan) -> list[PastSession]:
    return [PastSession(started_at=START + timedelta(days=day), plan=plan) for day in (0, 2)]


def _next(plan: Plan) -> tuple[Level | None, float]:
    """The suggestion after two good sessions of `plan`: its level and its top backward speed."""
    suggestion = suggest(
        _two_good_sessions(plan), LIMITS, FIRST_STEPS, now=START + timedelta(days=3)
    )
    top = max(s.ceiling_mph for s in suggestion.plan.segments)
    return suggestion.level, top


def test_an_edited_copy_named_coach_is_read_by_its_mean_speed() -> None:
    edited = Plan(
        name="coach",
        segments=(_segment("warm-up", 60, 2.5), _segment("backward", 600, 0.8)),
    )
    # (60 x 2.5 + 600 x 0.8) / 660 = 0.95 mph, rounded down: not its 2.5 mph minute.
    assert level_of(edited, LIMITS) == Level(660, 90, 0)
    level, top = _next(edited)
    assert level == Level(720, 90, 0)  # a minute more, at what was mostly walked
    assert top == pytest.approx(0.9)


def test_a_coach_plan_with_its_main_block_slowed_is_no_longer_read_exactly() -> None:
    genuine = plan_for_level(Level(600, 250, 0), LIMITS)
    slowed = genuine.model_copy(
        update={
            "segments": tuple(
                s.model_copy(update={"target_mph": 0.8}) if s.name.startswith("backward") else s
                for s in genuine.segments
            )
        }
    )
    # The top speed left is the warm-up's 1.5 mph; the coach's plan for that would hold it for
    # eight minutes. Read by the mean instead: (120 x 1.5 + 480 x 0.8) / 600 = 0.94 mph.
    assert level_of(slowed, LIMITS) == Level(600, 90, 0)


def test_a_coach_plan_that_was_printed_and_run_back_is_read_exactly() -> None:
    level = Level(600, 120, 20)
    genuine = plan_for_level(level, LIMITS, user_name="Sam")
    # As `coach` prints it and `run --plan` reads it back, or a journal's `connected` holds it.
    printed = Plan.model_validate(tomllib.loads(plan_toml(genuine)))
    journaled = Plan.model_validate(plan_data(genuine))
    for plan in (genuine, printed, journaled):
        assert level_of(plan, LIMITS) == level  # its top speed and incline, not its mean
    level_next, top = _next(printed)
    assert level_next == Level(660, 120, 20)
    assert top == pytest.approx(1.2)


def test_segment_names_do_not_matter_but_the_plan_name_does() -> None:
    genuine = plan_for_level(Level(600, 120, 0), LIMITS)
    renamed_parts = genuine.model_copy(
        update={
            "segments": tuple(
                s.model_copy(update={"name": f"part {i}"}) for i, s in enumerate(genuine.segments)
            )
        }
    )
    assert level_of(renamed_parts, LIMITS) == Level(600, 120, 0)
    # The same segments under another name: someone's own plan, read by its mean speed.
    mine = genuine.model_copy(update={"name": "mine"})
    assert level_of(mine, LIMITS) == Level(600, 110, 0)  # (120 x 0.7 + 480 x 1.2) / 600


@settings(max_examples=200, deadline=None)
@given(
    seconds=st.integers(60, 1500),
    speed=st.integers(50, 300),
    incline=st.integers(0, 50),
    floor=st.sampled_from([0.5, 0.6, 0.8, 1.0]),
    cap=st.sampled_from([1.5, 2.0, 3.0]),
)
def test_every_coach_plan_reads_back_its_level_whatever_the_band_it_was_made_in(
    seconds: int, speed: int, incline: int, floor: float, cap: float
) -> None:
    made_in = CoachLimits(floor_mph=floor, cap_mph=cap)
    plan = plan_for_level(Level(seconds, speed, incline), made_in)
    assert level_of(plan, LIMITS) == Level(seconds, made_in.clamp_cmph(speed), incline)
