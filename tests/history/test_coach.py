"""The coach's rules (SPEC.md "coach"), as properties over hand-made histories and as examples.

Histories are weeks of sessions built the way a walker makes them: mostly walking what the coach
suggested, sometimes a built-in program or a plan of their own, with gaps of hours to weeks, and
endings of every kind (completed, safety stops, the walker's own stops, heart-rate slow-downs,
high RPE, cut off). The properties measure the plans themselves (backward time, top and mean
backward speed, top and mean incline), not the coach's own idea of a level.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrotread.config import load_settings
from retrotread.errors import InputError
from retrotread.events import Direction
from retrotread.history import coach
from retrotread.history.coach import (
    MIN_LEVEL_S,
    CoachLimits,
    Level,
    PastSession,
    Suggestion,
    fit,
    level_of,
    plan_for_level,
    recent_sessions,
    step_back,
    suggest,
)
from retrotread.history.plan_file import plan_data, plan_json, plan_toml
from retrotread.history.record import SessionLog
from retrotread.session.plan import Plan
from retrotread.session.programs import PROGRAM_NAMES, load_program
from tests.support.journals import session_events, write_journal
from tests.support.settings import clean_environment

FIRST_STEPS = load_program("first-steps")
PROGRAMS = {name: load_program(name) for name in PROGRAM_NAMES}
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
EPS = 1e-9
SUPERVISOR_STOPS = ("overspeed", "telemetry_stale", "disconnected", "heart_rate")


# -- measuring plans --------------------------------------------------------------------------


@dataclass(frozen=True)
class Measures:
    backward_s: float
    top_mph: float
    mean_mph: float
    top_incline: float
    mean_incline: float


def measure(plan: Plan) -> Measures:
    backward = [s for s in plan.segments if s.direction is Direction.backward]
    seconds = sum(s.duration_s for s in backward)
    if not backward:
        return Measures(0.0, 0.0, 0.0, 0.0, 0.0)
    return Measures(
        backward_s=seconds,
        top_mph=max(s.ceiling_mph for s in backward),
        mean_mph=sum((s.start_mph + s.ceiling_mph) / 2 * s.duration_s for s in backward) / seconds,
        top_incline=max(s.incline_pct or 0.0 for s in backward),
        mean_incline=sum((s.incline_pct or 0.0) * s.duration_s for s in backward) / seconds,
    )


def variables_up(before: Plan, after: Plan) -> list[str]:
    """Which of SPEC's three variables went up: backward time, backward speed, incline."""
    a, b = measure(before), measure(after)
    up = []
    if b.backward_s > a.backward_s + EPS:
        up.append("time")
    if b.top_mph > a.top_mph + EPS:
        up.append("speed")
    if b.top_incline > a.top_incline + EPS:
        up.append("incline")
    return up


def harder_in(before: Plan, after: Plan) -> list[str]:
    """Every way `after` asks more of the walker than `before`."""
    a, b = measure(before), measure(after)
    return [
        name
        for name in ("backward_s", "top_mph", "mean_mph", "top_incline", "mean_incline")
        if getattr(b, name) > getattr(a, name) + EPS
    ]


def too_hard(session: PastSession) -> bool:
    """SPEC rule 2's reasons to step back, read from the session's own fields."""
    supervisor_stop = any(
        action == "stop" and reason not in ("safety_key", "console_stop")
        for reason, action in session.safety
    )
    slowed = ("heart_rate", "slow") in session.safety
    return supervisor_stop or slowed or (session.rpe is not None and session.rpe >= 15)


def good(session: PastSession) -> bool:
    return (
        session.outcome == "completed"
        and session.stop_reason == "completed"
        and not any(action == "stop" for _, action in session.safety)
        and ("heart_rate", "slow") not in session.safety
        and (session.rpe is None or session.rpe <= 13)
    )


def speeds_within(plan: Plan, limits: CoachLimits) -> bool:
    for segment in plan.segments:
        values = [v for v in (segment.target_mph, segment.min_mph, segment.max_mph) if v]
        if segment.direction is Direction.backward:
            if not all(limits.floor_mph - EPS <= v <= limits.cap_mph + EPS for v in values):
                return False
        elif not all(v <= limits.forward_cap_mph + EPS for v in values):
            return False
    return True


# -- building histories -----------------------------------------------------------------------


@st.composite
def limits_strategy(draw: st.DrawFn) -> CoachLimits:
    cap = draw(st.sampled_from([3.0, 3.0, 2.5, 2.0, 1.5, 1.2, 1.0, 0.8, 0.6]))
    floor = draw(st.sampled_from([0.5, 0.5, 0.5, 0.6, 0.8]))
    floor = min(floor, round(cap - 0.1, 2))
    forward = draw(st.sampled_from([4.0, 3.0, 2.0]))
    return CoachLimits(floor_mph=floor, cap_mph=cap, forward_cap_mph=forward)


@st.composite
def own_plans(draw: st.DrawFn) -> Plan:
    """A plan file of the walker's own: a few segments, mostly backward."""
    segments: list[dict[str, Any]] = []
    for index in range(draw(st.integers(1, 6))):
        direction = draw(st.sampled_from(["backward", "backward", "backward", "forward"]))
        top = 3.0 if direction == "backward" else 4.0
        speed = draw(st.integers(5, int(top * 10))) / 10
        segment: dict[str, Any] = {
            "name": f"part {index}",
            "direction": direction,
            "duration_s": float(draw(st.integers(10, 900))),
        }
        if draw(st.booleans()):
            segment["target_mph"] = speed
        else:
            segment["min_mph"] = speed
            segment["max_mph"] = min(top, speed + draw(st.integers(0, 10)) / 10)
        if draw(st.booleans()):
            segment["incline_pct"] = draw(st.integers(0, 80)) / 10
        segments.append(segment)
    return Plan.model_validate({"name": "mine", "segments": segments})


ENDINGS = st.sampled_from(
    [
        *["clean"] * 12,  # most sessions go well, or progress would be rare
        "safety",
        "walker",
        "estop",
        "slowed",
        "rpe-high",
        "rpe-14",
        "cut-off",
    ]
)


@st.composite
def ending(draw: st.DrawFn) -> dict[str, Any]:
    """How a session ended, as its journal would tell it."""
    kind = draw(ENDINGS)
    rpe = draw(st.none() | st.integers(6, 13))
    if kind == "clean":
        return {"rpe": rpe}
    if kind == "safety":
        reason = draw(st.sampled_from(SUPERVISOR_STOPS))
        return {
            "outcome": "stopped",
            "stop_reason": "fault",
            "safety": ((reason, "stop"),),
            "rpe": rpe,
        }
    if kind == "walker":
        reason = draw(st.sampled_from(["safety_key", "console_stop"]))
        return {"outcome": "stopped", "stop_reason": reason, "safety": ((reason, "stop"),)}
    if kind == "estop":
        return {"outcome": "stopped", "stop_reason": "estop", "rpe": rpe}
    if kind == "slowed":
        return {"safety": (("heart_rate", "slow"),), "rpe": rpe}
    if kind == "rpe-high":
        return {"rpe": draw(st.integers(15, 20))}
    if kind == "rpe-14":
        return {"rpe": 14}
    return {"outcome": "incomplete", "stop_reason": None}


GAPS_H = st.one_of(
    st.integers(6, 30),  # the next day
    st.integers(30, 100),  # two to four days
    st.integers(30, 100),
    st.integers(100, 24 * 35),  # a week to five
)


@dataclass(frozen=True)
class History:
    """Weeks of sessions by one walker within one set of limits, the moment the coach is asked,
    and what it suggests then."""

    limits: CoachLimits
    past: list[PastSession]
    now: datetime
    suggestion: Suggestion

    @property
    def restarting(self) -> bool:
        """Rule 1 applies: first-steps, whatever came before."""
        return not self.past or self.now - self.past[-1].started_at > timedelta(days=28)

    @property
    def last_plan(self) -> Plan:
        plan = self.past[-1].plan
        assert plan is not None
        return plan

    def growth(self, name: str) -> tuple[float, float, float] | None:
        """How the suggestion raised the `Measures` field `name`: (the last session's value, the
        suggestion's, the lowest among the sessions a weekly limit is measured from: those of
        the last 7 days and the one before them). None when rule 1 applies or it did not go up."""
        if self.restarting:
            return None
        last = getattr(measure(self.last_plan), name)
        new = getattr(measure(self.suggestion.plan), name)
        if new <= last + EPS:
            return None
        week_ago = self.now - timedelta(days=7)
        week = [s for s in self.past if s.started_at > week_ago]
        before = [s for s in self.past if s.started_at <= week_ago]
        # A session more than 28 days before the week's first is from before a restart (rule 1).
        next_start = week[0].started_at if week else self.now
        if before and next_start - before[-1].started_at > timedelta(days=28):
            before = []
        # A plan with under a minute of backward walking has no level (MIN_LEVEL_S): it says
        # nothing of where the walker's week started.
        measured = [measure(s.plan) for s in week + before[-1:] if s.plan is not None]
        lowest = min(
            (getattr(m, name) for m in measured if m.backward_s >= MIN_LEVEL_S), default=last
        )
        return last, new, lowest


@st.composite
def histories(draw: st.DrawFn) -> History:
    """Weeks of sessions by one walker within one set of limits, and the moment to ask."""
    limits = draw(limits_strategy())
    at = START
    past: list[PastSession] = []
    # Some walkers were coached before these journals began: their first plan is a coach plan
    # of any level, so histories reach the speed and incline phases too.
    seasoned = draw(st.booleans())
    for index in range(draw(st.integers(0, 25))):
        at += timedelta(hours=draw(GAPS_H), minutes=draw(st.integers(0, 59)))
        source = draw(st.sampled_from(["coach"] * 6 + ["program", "own", "level"]))
        if seasoned and index == 0:
            source = "level"
        if source == "coach":
            plan = suggest(past, limits, FIRST_STEPS, now=at).plan
        elif source == "level":
            level = Level(
                draw(st.integers(60, 1500) | st.just(1200)),
                limits.clamp_cmph(draw(st.integers(50, 300) | st.just(300))),
                draw(st.integers(0, 50) | st.just(0)),
            )
            plan = plan_for_level(level, limits)
        elif source == "program":
            plan = fit(PROGRAMS[draw(st.sampled_from(PROGRAM_NAMES))], limits)
        else:
            plan = fit(draw(own_plans()), limits)
        past.append(PastSession(started_at=at, plan=plan, **draw(ending())))
    now = at + timedelta(hours=draw(GAPS_H))
    return History(limits, past, now, ask(limits, past, now))


def ask(limits: CoachLimits, past: list[PastSession], now: datetime) -> Suggestion:
    return suggest(past, limits, FIRST_STEPS, now=now)


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- properties ---------------------------------------------------------------------------------


@PROPERTY
@given(histories())
def test_never_more_than_one_variable_up_at_a_time(history: History) -> None:
    if history.restarting:
        return
    suggestion = history.suggestion
    assert len(variables_up(history.last_plan, suggestion.plan)) <= 1, suggestion.reason


@PROPERTY
@given(histories())
def test_backward_time_grows_at_most_ten_percent_a_week(history: History) -> None:
    grown = history.growth("backward_s")
    if grown is None:
        return
    last, new, lowest = grown
    assert new <= lowest * 1.1 + EPS, history.suggestion.reason
    assert new - last <= 60 + EPS  # and at most one minute a session


@PROPERTY
@given(histories())
def test_backward_speed_grows_at_most_a_tenth_a_week(history: History) -> None:
    grown = history.growth("top_mph")
    if grown is None:
        return
    _last, new, lowest = grown
    assert new <= lowest + 0.1 + EPS, history.suggestion.reason
    assert measure(history.suggestion.plan).backward_s >= 20 * 60 - EPS  # time first


@PROPERTY
@given(histories(), limits_strategy())
def test_never_above_the_cap_nor_below_the_floor(history: History, today: CoachLimits) -> None:
    """Also when the limits changed since the sessions were walked (a lower cap today)."""
    for current in (history.limits, today):
        suggestion = ask(current, history.past, history.now)
        assert speeds_within(suggestion.plan, current), suggestion.plan
        assert suggestion.plan.reason == suggestion.reason
        # The plan the coach gives is one `run --plan` accepts, as TOML and as JSON.
        assert Plan.model_validate(tomllib.loads(plan_toml(suggestion.plan))) == suggestion.plan
        assert Plan.model_validate(json.loads(plan_json(suggestion.plan))) == suggestion.plan


@PROPERTY
@given(histories())
def test_a_safety_stop_or_hard_session_is_never_followed_by_a_harder_one(
    history: History,
) -> None:
    """After a safety stop, a heart-rate slow-down or RPE >= 15: easier or the same, in every
    measure (mean speed and mean incline too), and never a progress."""
    if history.restarting or not too_hard(history.past[-1]):
        return
    suggestion = history.suggestion
    assert harder_in(history.last_plan, suggestion.plan) == [], suggestion.reason
    assert suggestion.kind in ("step-back", "repeat")


@PROPERTY
@given(histories())
def test_progress_only_after_two_good_sessions(history: History) -> None:
    past, suggestion = history.past, history.suggestion
    if suggestion.kind != "progress":
        return
    assert len(past) >= 2
    assert good(past[-1]), past[-1]
    assert good(past[-2]), past[-2]
    assert history.now - past[-1].started_at <= timedelta(days=14)
    assert not suggestion.rest


@PROPERTY
@given(histories())
def test_a_long_gap_eases_and_a_month_restarts(history: History) -> None:
    suggestion = history.suggestion
    if not history.past:
        assert suggestion.kind == "first-steps"
        return
    gap = history.now - history.past[-1].started_at
    if gap > timedelta(days=28):
        assert suggestion.kind == "first-steps"
        assert suggestion.plan.segments == fit(FIRST_STEPS, history.limits).segments
        assert "28 days" in suggestion.reason
    elif gap > timedelta(days=14):
        assert harder_in(history.last_plan, suggestion.plan) == [], suggestion.reason
        assert suggestion.kind in ("step-back", "repeat")
        assert "days since the last session" in suggestion.reason


@PROPERTY
@given(histories())
def test_more_than_three_sessions_a_week_is_rest_with_a_plan_that_does_not_progress(
    history: History,
) -> None:
    suggestion = history.suggestion
    in_week = sum(1 for s in history.past if s.started_at > history.now - timedelta(days=7))
    assert suggestion.rest == (in_week > 3)
    if suggestion.rest:
        assert suggestion.reason.startswith("Rest today")
        assert suggestion.note is not None
        assert suggestion.kind != "progress"
        assert variables_up(history.last_plan, suggestion.plan) == []


@PROPERTY
@given(histories())
def test_the_history_order_and_future_sessions_do_not_matter(history: History) -> None:
    future = [PastSession(started_at=history.now + timedelta(hours=1), plan=FIRST_STEPS, rpe=20)]
    shuffled = list(reversed(history.past)) + future
    assert ask(history.limits, shuffled, history.now) == history.suggestion


# -- levels ---------------------------------------------------------------------------------------


def test_first_steps_reads_as_its_time_at_its_mean_speed_rounded_down() -> None:
    # 60 s each at 0.5, 0.7, 0.8 and 1.0 mph, then 30 s at 0.5: 4:30 at 0.72 mph on average.
    assert level_of(FIRST_STEPS, CoachLimits()) == Level(270, 70, 0)


def test_a_coach_plan_reads_back_the_level_it_was_made_for() -> None:
    for level in (Level(60, 50), Level(290, 70), Level(1200, 255, 30), Level(1500, 300, 50)):
        plan = plan_for_level(level, CoachLimits())
        assert level_of(plan, CoachLimits()) == level


def test_a_level_is_read_within_the_band_of_today() -> None:
    plan = plan_for_level(Level(600, 200), CoachLimits())
    assert level_of(plan, CoachLimits(cap_mph=1.5)) == Level(600, 150)
    assert level_of(plan, CoachLimits(floor_mph=2.5)) == Level(600, 250)


def test_a_plan_without_a_minute_backward_has_no_level() -> None:
    forward = Plan.model_validate(
        {"name": "f", "segments": [{"name": "f", "direction": "forward", "duration_s": 600,
                                    "target_mph": 3.0}, {"name": "b", "duration_s": 30,
                                                         "target_mph": 1.0}]}
    )  # fmt: skip
    assert level_of(forward, CoachLimits()) is None


def test_the_plan_for_a_level_warms_up_walks_in_parts_and_finishes_easy() -> None:
    plan = plan_for_level(Level(1200, 200, 20), CoachLimits(), user_name="Alex")
    names = [s.name for s in plan.segments]
    assert names == [
        "warm-up",
        "backward 1 of 4",
        "backward 2 of 4",
        "backward 3 of 4",
        "backward 4 of 4",
        "easy finish",
    ]
    assert sum(s.duration_s for s in plan.segments) == 1200
    assert all(s.duration_s <= 300 for s in plan.segments)
    assert all(s.direction is Direction.backward for s in plan.segments)
    warm, *main, finish = plan.segments
    assert (warm.target_mph, warm.incline_pct, warm.duration_s) == (1.2, 0.0, 60)
    assert (finish.target_mph, finish.incline_pct) == (1.2, 0.0)
    assert {(s.target_mph, s.incline_pct) for s in main} == {(2.0, 2.0)}
    assert plan.name == "coach"
    assert plan.title == "20 min backward at 2.0 mph on 2 % incline, for Alex"
    assert "face" not in plan.description.lower()  # the walker faces away from the console


def test_a_short_level_shrinks_its_warm_up_and_never_warms_up_below_the_floor() -> None:
    plan = plan_for_level(Level(100, 70), CoachLimits(floor_mph=0.6))
    assert [(s.duration_s, s.target_mph) for s in plan.segments] == [
        (33, 0.6),
        (34, 0.7),
        (33, 0.6),
    ]


def test_level_plans_have_no_incline_commands_on_the_level() -> None:
    plan = plan_for_level(Level(600, 100), CoachLimits())
    assert all(s.incline_pct is None for s in plan.segments)


@pytest.mark.parametrize(
    ("level", "easier"),
    [
        (Level(600, 100, 20), Level(540, 100, 20)),  # time phase: a minute less
        (Level(200, 100, 0), Level(180, 100, 0)),  # ... down to 3 min
        (Level(180, 100, 20), Level(180, 100, 10)),  # then incline
        (Level(180, 100, 0), Level(180, 90, 0)),  # then speed
        (Level(180, 50, 0), Level(180, 50, 0)),  # the bottom stays
        (Level(100, 50, 0), Level(100, 50, 0)),  # a short plan is never made longer
        (Level(1200, 300, 50), Level(1200, 300, 40)),  # past 20 min: incline first
        (Level(1200, 300, 0), Level(1200, 290, 0)),  # then speed
        (Level(1200, 55, 0), Level(1200, 50, 0)),  # ... down to the floor
        (Level(1200, 50, 0), Level(1140, 50, 0)),  # then time
    ],
)
def test_one_level_easier_undoes_one_step_of_the_ladder(level: Level, easier: Level) -> None:
    assert step_back(level, CoachLimits()) == easier


@given(
    st.builds(Level, st.integers(60, 3000), st.integers(50, 300), st.integers(0, 80)),
    limits_strategy(),
)
def test_one_level_easier_never_raises_anything(level: Level, limits: CoachLimits) -> None:
    level = Level(level.backward_s, limits.clamp_cmph(level.speed_cmph), level.incline_dpct)
    easier = step_back(level, limits)
    assert easier.backward_s <= level.backward_s
    assert easier.speed_cmph <= level.speed_cmph
    assert easier.incline_dpct <= level.incline_dpct
    assert easier.speed_cmph >= limits.floor_cmph


# -- each rule, with its reason -------------------------------------------------------------------


def coach_session(level: Level, day: float, **ending: Any) -> PastSession:
    plan = plan_for_level(level, CoachLimits())
    return PastSession(started_at=START + timedelta(days=day), plan=plan, **ending)


def at(day: float) -> datetime:
    return START + timedelta(days=day)


def walked_twice(level: Level, second_day: float, **ending: Any) -> list[PastSession]:
    """Two coach sessions at `level`, on day 0 and on `second_day`; `ending`: how the second
    ended."""
    return [coach_session(level, 0), coach_session(level, second_day, **ending)]


def suggested(past: list[PastSession], day: float, limits: CoachLimits | None = None) -> Suggestion:
    """What the coach suggests on `day` after `past`, within `limits` (the defaults if None)."""
    return suggest(past, limits or CoachLimits(), FIRST_STEPS, now=at(day))


def test_rule_1_no_session_yet_is_first_steps() -> None:
    suggestion = suggested([], 0)
    assert suggestion.kind == "first-steps"
    assert suggestion.plan.segments == FIRST_STEPS.segments
    assert suggestion.plan.name == "first-steps"
    assert suggestion.reason == "No sessions yet: start with first-steps."


def test_rule_1_first_steps_fits_a_lower_cap() -> None:
    suggestion = suggested([], 0, CoachLimits(cap_mph=0.8))
    assert max(s.ceiling_mph for s in suggestion.plan.segments) == 0.8


def test_rule_1_none_in_28_days_starts_again() -> None:
    past = walked_twice(Level(900, 150), 2)
    suggestion = suggested(past, 30.5)
    assert suggestion.kind == "first-steps"
    assert suggestion.reason == (
        "No session in the last 28 days (the last on 2026-03-04): start again with first-steps."
    )


def test_rule_2_one_good_session_is_repeated() -> None:
    first = PastSession(started_at=at(0), plan=FIRST_STEPS)
    suggestion = suggested([first], 2)
    assert suggestion.kind == "repeat"
    assert suggestion.plan.segments == FIRST_STEPS.segments
    assert "only one session so far" in suggestion.reason


def test_rule_3_two_good_first_steps_add_what_the_week_allows() -> None:
    past = [PastSession(started_at=at(0), plan=FIRST_STEPS, rpe=11),
            PastSession(started_at=at(2), plan=FIRST_STEPS)]  # fmt: skip
    suggestion = suggested(past, 4)
    assert suggestion.kind == "progress"
    # 10 % of 4:30 is 27 s: 20 s in whole 10 s grains, at first-steps' mean speed.
    assert suggestion.level == Level(290, 70, 0)
    assert suggestion.reason == (
        "The last two sessions went well: 4:50 backward at 0.7 mph, backward time up 20 s "
        "(time first: +1 min a session, at most +10 % a week, up to 20 min)."
    )
    assert suggestion.plan.reason == suggestion.reason


def test_rule_3_a_full_minute_once_the_week_allows_it() -> None:
    past = walked_twice(Level(600, 100), 3)
    suggestion = suggested(past, 8)
    assert suggestion.level == Level(660, 100, 0)
    assert "backward time up 1 min" in suggestion.reason


def test_rule_3_the_weekly_limit_holds_time_back() -> None:
    past = [
        coach_session(Level(600, 100), 0),
        coach_session(Level(660, 100), 3),
        coach_session(Level(660, 100), 5),
    ]
    suggestion = suggested(past, 6)
    assert suggestion.kind == "repeat"
    assert suggestion.plan.segments == past[-1].plan.segments  # type: ignore[union-attr]
    assert suggestion.reason == (
        "Repeat the last plan: backward time is at its limit for the week (at most +10 % a "
        "week, from 10 min)."
    )


def test_rule_3_a_shorter_session_in_the_week_counts_too() -> None:
    past = [
        coach_session(Level(900, 100), 1),
        PastSession(started_at=at(3), plan=PROGRAMS["cooldown"]),  # 7 min
        coach_session(Level(900, 100), 5),
    ]
    suggestion = suggested(past, 6)
    assert suggestion.kind == "repeat"
    assert "limit for the week" in suggestion.reason


def test_rule_3_at_20_min_the_speed_goes_up_a_tenth_a_week() -> None:
    past = walked_twice(Level(1200, 100), 3)
    suggestion = suggested(past, 5)
    assert suggestion.level == Level(1200, 110, 0)
    assert suggestion.reason == (
        "The last two sessions went well: 20 min backward at 1.1 mph, 20 min reached, backward "
        "speed up 0.1 mph (at most +0.1 mph a week, up to your cap of 3.0 mph)."
    )
    again = [*past[1:], coach_session(Level(1200, 110), 5)]
    held = suggested(again, 7)
    assert held.kind == "repeat"
    assert "backward speed went up in the last 7 days" in held.reason
    # A week after the session that went faster, not after the suggestion.
    assert suggested(again, 11.9).kind == "repeat"
    later = suggested(again, 12.1)
    assert later.level == Level(1200, 120, 0)


def test_rule_3_at_the_cap_the_incline_goes_up_to_5_percent() -> None:
    limits = CoachLimits(cap_mph=1.5)
    past = walked_twice(Level(1200, 150), 8)
    suggestion = suggested(past, 10, limits)
    assert suggestion.level == Level(1200, 150, 10)
    assert "incline up 1 %" in suggestion.reason
    top = walked_twice(Level(1200, 150, 50), 8)
    held = suggested(top, 10, limits)
    assert held.kind == "repeat"
    assert "top of the ladder" in held.reason


def test_rule_3_a_program_is_built_on_at_its_mean_speed() -> None:
    past = [PastSession(started_at=at(0), plan=PROGRAMS["athletic"]),
            PastSession(started_at=at(3), plan=PROGRAMS["athletic"])]  # fmt: skip
    suggestion = suggested(past, 5)
    # 14 min averaging 2.28 mph: a minute more at 2.2 mph, never its 3.0 mph top for longer.
    assert suggestion.level == Level(900, 220, 0)
    assert measure(suggestion.plan).top_mph == 2.2


@pytest.mark.parametrize(
    ("ending", "words"),
    [
        ({"outcome": "stopped", "stop_reason": "console_stop",
          "safety": (("console_stop", "stop"),)}, "ended with a console stop"),
        ({"outcome": "stopped", "stop_reason": "safety_key",
          "safety": (("safety_key", "stop"),)}, "ended with a safety-key stop"),
        ({"outcome": "stopped", "stop_reason": "estop"},
         "was stopped before its end (emergency stop)"),
        ({"outcome": "incomplete", "stop_reason": None}, "was cut off before its end"),
        ({"rpe": 14}, "was rated RPE 14 (progress needs 13 or less)"),
        ({"safety": (("struggle", "slow"),)}, "had a struggle slow-down (shorter steps)"),
    ],
)  # fmt: skip
def test_rule_2_anything_but_two_good_sessions_repeats_the_last_plan(
    ending: dict[str, Any], words: str
) -> None:
    past = walked_twice(Level(600, 100), 2, **ending)
    suggestion = suggested(past, 4)
    assert suggestion.kind == "repeat"
    assert suggestion.plan.segments == past[-1].plan.segments  # type: ignore[union-attr]
    assert suggestion.reason == f"Repeat the last plan: the session on 2026-03-04 {words}."


def test_rule_2_the_session_before_last_counts_as_well() -> None:
    past = [coach_session(Level(600, 100), 0, rpe=14), coach_session(Level(600, 100), 2)]
    suggestion = suggested(past, 4)
    assert suggestion.kind == "repeat"
    assert "the session on 2026-03-02 was rated RPE 14" in suggestion.reason


@pytest.mark.parametrize(
    ("ending", "words"),
    [
        ({"outcome": "stopped", "stop_reason": "fault", "safety": (("overspeed", "stop"),)},
         "ended with a safety stop (overspeed)"),
        ({"outcome": "stopped", "stop_reason": "fault", "safety": (("heart_rate", "stop"),)},
         "ended with a safety stop (heart rate)"),
        ({"safety": (("heart_rate", "slow"),)}, "had a heart-rate slow-down"),
        ({"rpe": 15}, "was rated RPE 15 (15 or more)"),
    ],
)  # fmt: skip
def test_rule_2_a_safety_stop_slow_down_or_rpe_15_steps_back_one_level(
    ending: dict[str, Any], words: str
) -> None:
    past = walked_twice(Level(600, 100), 2, **ending)
    suggestion = suggested(past, 4)
    assert suggestion.kind == "step-back"
    assert suggestion.level == Level(540, 100, 0)
    assert suggestion.reason == (
        f"One level easier, 9 min backward at 1.0 mph: the last session {words}."
    )


def test_rule_2_at_the_bottom_the_last_plan_is_repeated() -> None:
    past = [coach_session(Level(180, 50), 0, rpe=17)]
    suggestion = suggested(past, 1)
    assert suggestion.kind == "repeat"
    assert suggestion.reason == (
        "Repeat the last plan, already the easiest level: the last session was rated RPE 17 "
        "(15 or more)."
    )


def test_rule_4_a_gap_of_more_than_14_days_eases_a_level_per_14_days() -> None:
    past = walked_twice(Level(600, 100), 2)
    one = suggested(past, 2 + 15)
    assert one.kind == "step-back"
    assert one.level == Level(540, 100, 0)
    assert (
        one.reason == "One level easier, 9 min backward at 1.0 mph: 15 days since the last session."
    )
    two = suggested(past, 2 + 28)
    assert two.level == Level(480, 100, 0)
    assert two.reason.startswith("2 levels easier, 8 min backward at 1.0 mph: 28 days")
    near = suggested(past, 2 + 13.9)
    assert near.kind == "progress"


def test_rule_4_a_gap_after_a_hard_session_adds_up() -> None:
    past = walked_twice(Level(600, 100), 2, rpe=16)
    suggestion = suggested(past, 2 + 15)
    assert suggestion.level == Level(480, 100, 0)
    assert suggestion.reason == (
        "2 levels easier, 8 min backward at 1.0 mph: the last session was rated RPE 16 (15 or "
        "more) and 15 days since the last session."
    )


def test_rule_5_more_than_three_sessions_in_7_days_is_rest() -> None:
    past = [coach_session(Level(600, 100), day) for day in (0, 1, 2, 3)]
    suggestion = suggested(past, 4)
    assert suggestion.rest
    assert suggestion.kind == "repeat"
    assert suggestion.note == (
        "Rest today: 4 sessions in the last 7 days, more than 3; the guide suggests 1-3 a week."
    )
    assert suggestion.reason == (
        f"{suggestion.note} If you walk anyway: repeat the last plan: no progress while you "
        "need rest."
    )
    assert suggestion.plan.segments == past[-1].plan.segments  # type: ignore[union-attr]
    fewer = suggested(past[1:], 4)
    assert not fewer.rest


def test_rule_5_rest_after_a_hard_session_still_eases() -> None:
    past = [coach_session(Level(600, 100), day) for day in (0, 1, 2)]
    past.append(coach_session(Level(600, 100), 3, rpe=18))
    suggestion = suggested(past, 4)
    assert suggestion.rest
    assert suggestion.kind == "step-back"
    assert suggestion.level == Level(540, 100, 0)


def test_a_lower_cap_today_lowers_a_repeated_plan() -> None:
    past = walked_twice(Level(600, 200), 2, rpe=14)
    suggestion = suggested(past, 4, CoachLimits(cap_mph=1.5))
    assert suggestion.kind == "repeat"
    assert max(s.ceiling_mph for s in suggestion.plan.segments) == 1.5


def test_a_walker_who_walks_well_twice_a_week_reaches_20_min_then_speeds_up() -> None:
    """The ladder end to end: 10 % a week from first-steps is about four months to 20 min."""
    past: list[PastSession] = []
    day = 0.0
    weeks_to_20 = None
    while day < 7 * 40:
        plan = suggested(past, day).plan
        past.append(PastSession(started_at=at(day), plan=plan, rpe=12))
        if weeks_to_20 is None and measure(plan).backward_s >= 1200:
            weeks_to_20 = day / 7
        day += 3.5
    assert weeks_to_20 is not None
    assert 12 <= weeks_to_20 <= 20
    last = measure(past[-1].plan)  # type: ignore[arg-type]
    assert last.backward_s == 1200
    assert 0.7 < last.top_mph <= 3.0


# -- from the journals ----------------------------------------------------------------------------


def journal(data_dir: Path, day: float, *, plan: Plan | None = None, **options: Any) -> Path:
    sid = (START + timedelta(days=day)).strftime("%Y%m%dT%H%M%SZ") + "-c0c0"
    events = session_events(sid, program=plan.name if plan else "hand-made", **options)
    if plan is not None:
        events[0] = events[0].model_copy(update={"plan": plan_data(plan), "program": plan.name})
    return write_journal(data_dir / "sessions", sid, events)


def test_a_past_session_reads_plan_safety_and_rpe_from_its_journal(tmp_path: Path) -> None:
    plan = fit(FIRST_STEPS, CoachLimits())
    path = journal(
        tmp_path,
        0,
        plan=plan,
        seconds=40,
        safety=[(20.0, "heart_rate", "slow"), (30.0, "overspeed", "stop")],
        stop_reason="fault",
        rpe=16,
    )
    session = PastSession.from_log(SessionLog.read(path))
    assert session.plan == plan
    assert session.program == "first-steps"
    assert session.started_at == START
    assert session.outcome == "stopped"
    assert session.stop_reason == "fault"
    assert session.safety_stops == ("overspeed",)
    assert session.heart_rate_slowdowns == 1
    assert session.rpe == 16
    assert session.backward_s == pytest.approx(40, abs=1)
    assert not session.completed


def test_without_a_recorded_plan_the_segments_it_began_stand_in(tmp_path: Path) -> None:
    path = journal(tmp_path, 0, seconds=120, mph=1.2)
    session = PastSession.from_log(SessionLog.read(path))
    assert session.plan is not None
    assert [(s.duration_s, s.target_mph) for s in session.plan.segments] == [(120, 1.2)]


def test_recent_sessions_skip_failed_starts_and_read_no_further_than_needed(
    tmp_path: Path,
) -> None:
    old = journal(tmp_path, 0, seconds=30)
    old.write_text("not a journal\n" * 3)  # damaged, but too old to matter
    for day in (10, 20, 25):
        journal(tmp_path, day, seconds=30)
    journal(tmp_path, 26, seconds=30, telemetry=False)  # a start that failed
    # The last two, the last 7 days and the one before them: day 10 and the damaged day 0 are
    # never read.
    assert [s.started_at for s in recent_sessions(tmp_path, at(27))] == [at(20), at(25)]
    # Sessions after `now` are not in the past.
    assert [s.started_at for s in recent_sessions(tmp_path, at(24))] == [at(10), at(20)]


def test_a_damaged_recent_journal_is_refused_naming_it(tmp_path: Path) -> None:
    journal(tmp_path, 0, seconds=30)
    damaged = journal(tmp_path, 2, seconds=30)
    damaged.write_text("{}\n" + damaged.read_text())
    with pytest.raises(InputError, match=r"coach: .*c0c0\.jsonl: line 1 .*move the journal"):
        recent_sessions(tmp_path, at(3))


def test_suggest_for_reads_the_data_dir_and_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_environment(monkeypatch, tmp_path, data_dir=False)
    config = tmp_path / "config.toml"
    config.write_text('[safety]\nmax_backward_mph = 0.6\n[user]\nname = "Alex"\n')
    settings_ = load_settings(config)
    plan = fit(FIRST_STEPS, CoachLimits())
    journal(tmp_path, 0, plan=plan, seconds=30)
    journal(tmp_path, 2, plan=plan, seconds=30, rpe=12)
    suggestion = coach.suggest_for(settings_, tmp_path, now=at(3))
    assert suggestion.kind == "progress"
    assert suggestion.plan.title.endswith(", for Alex")
    assert max(s.ceiling_mph for s in suggestion.plan.segments) == 0.6
    empty = coach.suggest_for(settings_, tmp_path / "nothing", now=at(3))
    assert empty.kind == "first-steps"
