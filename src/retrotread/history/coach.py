"""The coach (SPEC.md "coach"): the next session, from past ones, as a plan `run --plan` accepts.

`suggest` is the whole rule book as a pure function: past sessions, the user's limits and the
time in, a `Suggestion` (plan, one line of why, rest or not) out. `suggest_for` reads the
sessions that matter from a data directory and calls it; `retrotread coach` and `run --coach`
both go through that, so they always agree.

Levels
------
A **level** is three numbers, the variables SPEC's rule 3 moves one at a time:

- `backward_s`: the plan's backward time, the sum of its backward segments' durations (whole
  seconds);
- `speed_mph`: the backward speed the walker holds, the speed of the plan's main block;
- `incline_pct`: the incline of the main block.

The coach's plan for a level (`plan_for_level`) is a warm-up at an easy speed (about 60 % of the
main speed, never below the floor) for a minute, the main block at the level's speed and incline
(in parts of at most 5 minutes, so each is a lap in exports and the time-left cues come often),
and an easy minute to finish; all of it backward and all of it counted as backward time. Under
3 minutes (only a short plan of the walker's own reads that low) the warm-up and the finish are
a third of the time each.

Every plan has a level (`level_of`), so the coach can go on from any session, not only from its
own plans:

- a coach plan reads back exactly the level it was made for. The name (`name = "coach"`) alone
  proves nothing, since `coach` prints it and an edited copy keeps it: a plan is read exactly
  only when its segments are the ones `plan_for_level` makes for the level it claims (its
  time, its top speed and incline); an edited one is read like any other plan;
- any other plan (a built-in program, a plan file) is read *conservatively*: its backward time,
  its time-weighted **mean** backward speed rounded down to 0.1 mph, and its time-weighted mean
  incline rounded down to 1 %. The coach's plan holds its speed for nearly the whole session, so
  taking a program's top speed (athletic touches 3.0 mph for 2 minutes) would make "the same
  level" much harder than what was walked. With the mean, the coach's plan for that level is
  never harder than the program in backward time, top or mean speed, or incline. first-steps
  reads as 4:30 backward at 0.7 mph with no incline: the walker builds time at the speed they
  found their feet at, as the guide says ("master the movement slowly before even thinking
  about increasing pace").
- a plan with under a minute of backward walking has no level: it is repeated, never built on.

The ladder (rule 3) is the order in which a level goes up, one variable per step:

1. backward time while it is under 20 minutes: +1 minute a session, and never more than 10 %
   above the lowest backward time of the last 7 days (and of the last session before them: the
   level the week started from), so a step is cut to what the week allows (in 10 s grains);
   from first-steps (4:30) that is +20 s, at 10 minutes a full minute once a week;
2. then backward speed, +0.1 mph, at most 0.1 mph above the lowest of the same week, up to the
   user's cap (`safety.max_backward_mph`, at most the hard 3.0 mph);
3. then incline, +1 %, at most 1 % above the lowest of the week, up to 5 %.

**One level easier** undoes one step of that order: in the time phase (under 20 minutes) one
minute less backward time, down to 3 minutes; past it, 1 % less incline, else 0.1 mph slower
(down to the floor, `safety.min_backward_mph`), else one minute less. A level at the bottom of
all three stays where it is. Stepping back therefore never makes any variable larger.

Why this shape: SPEC names the three variables and their steps, and a level made of exactly
those makes the properties the issue asks for (one variable up at a time, +10 % time a week,
never above the cap, never harder after a safety stop) statements about three numbers, which
the tests check against the plans themselves.

The rules, in SPEC's order
--------------------------
1. No session, or none in the last 28 days: first-steps.
2. Progress only when the last two sessions both completed (the program ran out), with no stop
   for safety of any kind (a supervisor's stop, the safety key, a console stop), RPE 13 or less
   when rated, and no heart-rate or struggle slow-down. Otherwise repeat the last plan, exactly
   as it ran (within today's caps). One level easier when the last session had a safety stop
   (the supervisor's: overspeed, lost link, heart rate, ...), a heart-rate slow-down (safety
   `heart_rate`, action `slow`) or RPE 15 or more. SPEC lists the safety-key and console stops
   apart from safety stops: they are the walker's own stops, so the plan is repeated, not eased.
   The struggle slow-down (shorter steps at a steady belt) is not in SPEC's list; it only holds
   progress back, since it says the walker was working hard.
3. The ladder above.
4. More than 14 days since the last session: one level easier per 14 days, and no progress
   (after a hard last session as well: one level for that, one per 14 days).
5. More than 3 sessions in the last 7 days: rest. The plan is still given, for a walker who
   walks anyway, and it never progresses (repeat, or easier by the rules above).

Every suggestion is fitted into the user's band: no backward speed above the cap or below the
floor, no forward speed above `safety.forward_max_mph`; and it is validated by the plan model,
carrying its one line of why in the plan's `reason`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import ValidationError

from retrotread.errors import InputError
from retrotread.events import Direction
from retrotread.history.record import SessionLog
from retrotread.history.store import iter_journals
from retrotread.session.plan import Plan, Segment
from retrotread.units import (
    DEFAULT_FORWARD_MAX_MPH,
    HARD_CEILING_MPH,
    HARD_FLOOR_MPH,
    IMPERIAL,
    format_speed,
)

if TYPE_CHECKING:
    from retrotread.config import SafetyConfig, Settings

FIRST_STEPS = "first-steps"
COACH_PLAN = "coach"  # every plan the coach makes is named so (not proof: see `_made_for`)

RESTART_AFTER = timedelta(days=28)  # rule 1
GAP_STEP = timedelta(days=14)  # rule 4
WEEK = timedelta(days=7)  # rules 3 and 5
MAX_SESSIONS_PER_WEEK = 3  # rule 5: more than this in 7 days is rest
PROGRESS_MAX_RPE = 13  # rule 2
STEP_BACK_RPE = 15

TIME_STEP_S = 60  # +1 min a session
TIME_TOP_S = 20 * 60  # time goes up to 20 min, then speed
TIME_FLOOR_S = 3 * 60  # stepping back never shortens a plan below 3 min
TIME_GRAIN_S = 10  # a step cut short by the weekly limit is whole 10 s
MIN_LEVEL_S = 60  # a plan with less backward time than this has no level
WEEKLY_TIME_GROWTH = (11, 10)  # at most x 1.1 a week
SPEED_STEP_CMPH = 10  # 0.1 mph, in hundredths
INCLINE_STEP_DPCT = 10  # 1 %, in tenths
INCLINE_TOP_DPCT = 50  # 5 %

WARM_UP_S = 60  # the warm-up and the easy finish, each
PART_MAX_S = 5 * 60  # the main block comes in parts of at most this
WARM_UP_SHARE = 6  # the warm-up speed is 6/10 of the main speed, rounded down to 0.1 mph

# Stops the walker made (safety key, console): they hold progress back but ease nothing (rule 2).
WALKER_STOPS = frozenset({"safety_key", "console_stop"})

_WALKER_STOP_WORDS = {"safety_key": "safety-key stop", "console_stop": "console stop"}
_STOP_WORDS = {"estop": "emergency stop", "interrupted": "interrupted", "fault": "a fault"}

Kind = Literal["first-steps", "progress", "repeat", "step-back"]


# -- values -------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Level:
    """A point on the ladder (see the module docstring). Integers, so that steps and weekly
    limits are exact: seconds, hundredths of a mph, tenths of a percent."""

    backward_s: int
    speed_cmph: int
    incline_dpct: int = 0

    @property
    def speed_mph(self) -> float:
        return self.speed_cmph / 100

    @property
    def incline_pct(self) -> float:
        return self.incline_dpct / 10

    def describe(self, units: str = IMPERIAL) -> str:
        """`4:50 backward at 0.7 mph`, `20 min backward at 1.2 mph on 2 % incline`."""
        text = f"{clock(self.backward_s)} backward at {format_speed(self.speed_mph, units)}"
        if self.incline_dpct:
            text += f" on {self.incline_pct:g} % incline"
        return text


@dataclass(frozen=True)
class CoachLimits:
    """The user's band, from `[safety]` (SPEC.md "Units and limits"): the coach never suggests
    a backward speed outside floor..cap or a forward one above forward_cap."""

    floor_mph: float = HARD_FLOOR_MPH
    cap_mph: float = HARD_CEILING_MPH
    forward_cap_mph: float = DEFAULT_FORWARD_MAX_MPH

    @classmethod
    def from_safety(cls, safety: SafetyConfig) -> CoachLimits:
        return cls(
            floor_mph=max(HARD_FLOOR_MPH, safety.min_backward_mph),
            cap_mph=min(HARD_CEILING_MPH, safety.max_backward_mph),
            forward_cap_mph=min(DEFAULT_FORWARD_MAX_MPH, safety.forward_max_mph),
        )

    @property
    def floor_cmph(self) -> int:
        return math.ceil(round(self.floor_mph * 100, 6))

    @property
    def cap_cmph(self) -> int:
        return math.floor(round(self.cap_mph * 100, 6))

    def clamp_cmph(self, cmph: int) -> int:
        return min(self.cap_cmph, max(self.floor_cmph, cmph))


@dataclass(frozen=True)
class PastSession:
    """What the coach needs of one past session, read from its journal (`from_log`) or made by
    hand in tests. `plan` is the plan as it ran (after the caps of its day)."""

    started_at: datetime
    plan: Plan | None
    program: str | None = None
    outcome: str = "completed"  # summary.outcome: completed / stopped; incomplete if cut off
    stop_reason: str | None = "completed"  # stopped.reason
    safety: tuple[tuple[str, str], ...] = ()  # (reason, action) of each safety event
    rpe: int | None = None
    backward_s: float = 0.0  # seconds the belt moved backward (what was walked, not planned)
    session: str = ""

    @classmethod
    def from_log(cls, log: SessionLog) -> PastSession:
        return cls(
            started_at=log.started_at,
            plan=_plan_of(log),
            program=log.program,
            outcome=log.outcome,
            stop_reason=log.stop_reason,
            safety=tuple((event.reason, event.action) for event in log.safety),
            rpe=log.rpe,
            backward_s=log.backward_s,
            session=log.id,
        )

    @property
    def completed(self) -> bool:
        """The program ran out: the only ending that counts toward progress."""
        return self.outcome == "completed" and self.stop_reason == "completed"

    @property
    def safety_stops(self) -> tuple[str, ...]:
        """Reasons of the supervisor's stops for safety (overspeed, lost link, heart rate, ...),
        not the walker's own safety-key or console stops."""
        found = [r for r, action in self.safety if action == "stop" and r not in WALKER_STOPS]
        return tuple(found)

    @property
    def walker_stops(self) -> tuple[str, ...]:
        """Safety-key and console stops, from the safety events or the stop's reason."""
        found = {r for r, action in self.safety if action == "stop" and r in WALKER_STOPS}
        if self.stop_reason in WALKER_STOPS:
            found.add(self.stop_reason)
        return tuple(sorted(found))

    @property
    def heart_rate_slowdowns(self) -> int:
        return sum(1 for r, action in self.safety if r == "heart_rate" and action == "slow")

    @property
    def struggle_slowdowns(self) -> int:
        return sum(1 for r, action in self.safety if r == "struggle" and action == "slow")


@dataclass(frozen=True)
class Suggestion:
    """The coach's answer: the plan (its `reason` set to the same line), why, and whether to
    rest first. `level` is the plan's level when the coach made or read one."""

    plan: Plan
    reason: str
    kind: Kind
    rest: bool = False
    note: str | None = None  # the rest note, when resting
    level: Level | None = None


# -- levels and plans ---------------------------------------------------------------------------


def clock(seconds: int) -> str:
    """`20 min`, `4:50`, `40 s`."""
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min" if rest == 0 else f"{minutes}:{rest:02d}"


def _backward(plan: Plan) -> list[Segment]:
    return [s for s in plan.segments if s.direction is Direction.backward]


def _middle_mph(segment: Segment) -> float:
    """A fixed segment's target, the middle of a range."""
    return (segment.start_mph + segment.ceiling_mph) / 2


def level_of(plan: Plan, limits: CoachLimits) -> Level | None:
    """The plan's level (module docstring), its speed within the user's band; None for a plan
    with under a minute of backward walking, which gives the ladder nothing to stand on."""
    backward = _backward(plan)
    seconds = sum(s.duration_s for s in backward)
    if seconds < MIN_LEVEL_S:
        return None
    claimed = Level(
        math.floor(round(seconds, 6)),
        round(max(s.ceiling_mph for s in backward) * 100),
        round(max(s.incline_pct or 0.0 for s in backward) * 10),
    )
    if _made_for(plan, claimed):
        speed, incline = claimed.speed_cmph, claimed.incline_dpct
    else:
        mean_mph = sum(_middle_mph(s) * s.duration_s for s in backward) / seconds
        mean_pct = sum((s.incline_pct or 0.0) * s.duration_s for s in backward) / seconds
        speed = math.floor(round(mean_mph * 10, 6)) * 10
        incline = math.floor(round(mean_pct, 6)) * 10
    return Level(math.floor(round(seconds, 6)), limits.clamp_cmph(speed), max(0, incline))


def _made_for(plan: Plan, level: Level) -> bool:
    """Whether `plan` is the coach's plan for `level`: named so, and with the segments
    `plan_for_level` makes for it (segment names aside: they change nothing walked). Made in
    the band of its day: the cap is the level's speed at least, and the floor shows only in the
    warm-up's speed, so the plan's own warm-up speed stands in for it (a warm-up made faster
    than the coach's is no easier)."""
    if plan.name != COACH_PLAN or not plan.segments:
        return False
    made_with = CoachLimits(floor_mph=plan.segments[0].start_mph, cap_mph=level.speed_mph)
    return _walked(plan_for_level(level, made_with)) == _walked(plan)


def _walked(plan: Plan) -> list[dict[str, object]]:
    """What a plan's segments ask of the walker, floats rounded (a journal's round trip)."""
    return [
        {
            key: round(value, 6) if isinstance(value, float) else value
            for key, value in segment.model_dump(mode="json", exclude={"name"}).items()
        }
        for segment in plan.segments
    ]


def step_back(level: Level, limits: CoachLimits) -> Level:
    """One level easier (module docstring); the same level when it is the bottom."""
    seconds, speed, incline = level.backward_s, level.speed_cmph, level.incline_dpct
    shorter = max(TIME_FLOOR_S, seconds - TIME_STEP_S) if seconds > TIME_FLOOR_S else seconds
    slower = max(limits.floor_cmph, speed - SPEED_STEP_CMPH) if speed > limits.floor_cmph else speed
    flatter = max(0, incline - INCLINE_STEP_DPCT)
    if seconds < TIME_TOP_S and shorter < seconds:
        return Level(shorter, speed, incline)
    if incline > 0:
        return Level(seconds, speed, flatter)
    if slower < speed:
        return Level(seconds, slower, incline)
    return Level(shorter, speed, incline)


def plan_for_level(
    level: Level, limits: CoachLimits, *, user_name: str | None = None, units: str = IMPERIAL
) -> Plan:
    """The coach's plan for a level: warm-up, the main block in parts, an easy finish."""
    seconds = level.backward_s
    # A minute each from 3 min up, a third each below: the easy share never grows with the
    # backward time, so a shorter plan is never faster on average than a longer one.
    easy_s = WARM_UP_S if seconds >= 3 * WARM_UP_S else seconds // 3
    main_s = seconds - 2 * easy_s
    speed = limits.clamp_cmph(level.speed_cmph)
    easy = max(limits.floor_cmph, min(speed, speed * WARM_UP_SHARE // 100 * 10))
    incline = level.incline_pct if level.incline_dpct else None
    flat = 0.0 if incline is not None else None
    parts = max(1, math.ceil(main_s / PART_MAX_S))
    size, extra = divmod(main_s, parts)
    segments = []
    if easy_s:
        segments.append(_segment("warm-up", easy_s, easy, flat))
    for part in range(parts):
        name = "backward" if parts == 1 else f"backward {part + 1} of {parts}"
        segments.append(_segment(name, size + (1 if part < extra else 0), speed, incline))
    if easy_s:
        segments.append(_segment("easy finish", easy_s, easy, flat))
    shown = Level(seconds, speed, level.incline_dpct)
    easy_text = format_speed(easy / 100, units)
    on_incline = f" on {level.incline_pct:g} % incline" if incline is not None else ""
    description = (
        (
            f"Warm up for {clock(easy_s)} at {easy_text}, walk backward for {clock(main_s)} at "
            f"{format_speed(speed / 100, units)}{on_incline}, then finish with an easy "
            f"{clock(easy_s)} at {easy_text}. "
        )
        if easy_s
        else f"Walk backward for {clock(main_s)} at {format_speed(speed / 100, units)}. "
    ) + (
        "Hold the side handrails lightly, take short, deliberate steps rolling from toe to heel, "
        "stay upright and look over your shoulder without twisting. Stop at once if anything "
        "feels wrong."
    )
    title = shown.describe(units)
    return Plan(
        name=COACH_PLAN,
        title=f"{title}, for {user_name}" if user_name else title,
        description=description,
        segments=tuple(segments),
    )


def _segment(name: str, seconds: int, cmph: int, incline: float | None) -> Segment:
    return Segment(
        name=name,
        direction=Direction.backward,
        duration_s=float(seconds),
        target_mph=cmph / 100,
        incline_pct=incline,
    )


def fit(plan: Plan, limits: CoachLimits) -> Plan:
    """The plan with every speed inside the user's band: backward floor..cap, forward up to the
    forward cap (what `Plan.check_against` would do at the start, done before it is printed)."""

    def within(value: float | None, low: float, high: float) -> float | None:
        return None if value is None else min(high, max(low, value))

    segments = []
    for segment in plan.segments:
        if segment.direction is Direction.backward:
            low, high = limits.floor_cmph / 100, limits.cap_cmph / 100
        else:
            low, high = HARD_FLOOR_MPH, limits.forward_cap_mph
        segments.append(
            segment.model_copy(
                update={
                    name: within(getattr(segment, name), low, high)
                    for name in ("target_mph", "min_mph", "max_mph")
                }
            )
        )
    return plan.model_copy(update={"segments": tuple(segments)})


def _validated(plan: Plan, reason: str) -> Plan:
    """Through the plan model once more, as `run --plan` will read it."""
    data = plan.model_dump(mode="json", exclude_none=True)
    data["reason"] = reason
    return Plan.model_validate(data)


# -- the rules ----------------------------------------------------------------------------------


def suggest(
    history: Iterable[PastSession],
    limits: CoachLimits,
    first_steps: Plan,
    *,
    now: datetime,
    user_name: str | None = None,
    units: str = IMPERIAL,
) -> Suggestion:
    """The next session by SPEC's rules (module docstring), from `history` (any order; sessions
    after `now` are ignored) at time `now` (aware, or naive UTC)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    past = sorted((s for s in history if s.started_at <= now), key=lambda s: s.started_at)
    if not past:
        return _first_steps(first_steps, limits, "No sessions yet: start with first-steps.")
    last = past[-1]
    gap = now - last.started_at
    if gap > RESTART_AFTER:
        return _first_steps(
            first_steps,
            limits,
            f"No session in the last 28 days (the last on {last.started_at:%Y-%m-%d}): "
            "start again with first-steps.",
        )
    if last.plan is None:
        return _first_steps(
            first_steps,
            limits,
            "The last session's plan is not on record: start from first-steps.",
        )
    week = [s for s in past if s.started_at > now - WEEK]
    rest = len(week) > MAX_SESSIONS_PER_WEEK
    level = level_of(last.plan, limits)
    kind, plan_level, why = _decide(past, level, limits, now, units, rest=rest)
    if plan_level is None:
        plan = fit(last.plan, limits)
    else:
        plan = plan_for_level(plan_level, limits, user_name=user_name, units=units)
    note = None
    reason = why
    if rest:
        note = (
            f"Rest today: {len(week)} sessions in the last 7 days, more than "
            f"{MAX_SESSIONS_PER_WEEK}; the guide suggests 1-3 a week."
        )
        reason = f"{note} If you walk anyway: {why[0].lower()}{why[1:]}"
    return Suggestion(
        plan=_validated(plan, reason),
        reason=reason,
        kind=kind,
        rest=rest,
        note=note,
        level=plan_level if plan_level is not None else level,
    )


def _first_steps(first_steps: Plan, limits: CoachLimits, reason: str) -> Suggestion:
    return Suggestion(_validated(fit(first_steps, limits), reason), reason, "first-steps")


def _decide(
    past: Sequence[PastSession],
    level: Level | None,
    limits: CoachLimits,
    now: datetime,
    units: str,
    *,
    rest: bool,
) -> tuple[Kind, Level | None, str]:
    """Rules 2-5 for the last plan's level: (kind, the level to plan for or None to repeat the
    last plan as it ran, why)."""
    last = past[-1]
    gap = now - last.started_at
    easing: list[str] = []
    hard = _too_hard(last)
    if hard is not None:
        easing.append(f"the last session {hard}")
    gap_steps = gap // GAP_STEP if gap > GAP_STEP else 0
    if gap_steps:
        easing.append(f"{gap.days} days since the last session")
    if easing:
        because = " and ".join(easing)
        steps = (1 if hard is not None else 0) + gap_steps
        if level is None:
            return "repeat", None, f"Repeat the last plan ({because}); it has no backward level."
        eased = level
        for _ in range(steps):
            eased = step_back(eased, limits)
        if eased == level:
            return (
                "repeat",
                None,
                f"Repeat the last plan, already the easiest level: {because}.",
            )
        amount = "One level" if steps == 1 else f"{steps} levels"
        return "step-back", eased, f"{amount} easier, {eased.describe(units)}: {because}."
    blockers = [
        f"the session on {s.started_at:%Y-%m-%d} {b}" for s in past[-2:] if (b := _blocker(s))
    ]
    if not blockers and len(past) < 2:
        blockers.append("only one session so far (progress needs two good ones in a row)")
    if blockers:
        return "repeat", None, f"Repeat the last plan: {'; '.join(blockers)}."
    if rest:
        return "repeat", None, "Repeat the last plan: no progress while you need rest."
    if level is None:
        return "repeat", None, "Repeat the last plan: it has no backward walking to build on."
    step = _progress(level, past, limits, now, units)
    if isinstance(step, str):
        return "repeat", None, f"Repeat the last plan: {step}."
    higher, what = step
    return (
        "progress",
        higher,
        f"The last two sessions went well: {higher.describe(units)}, {what}.",
    )


def _too_hard(session: PastSession) -> str | None:
    """What in the session calls for one level easier (rule 2), in words; None if nothing."""
    if session.safety_stops:
        return f"ended with a safety stop ({session.safety_stops[0].replace('_', ' ')})"
    if session.heart_rate_slowdowns:
        return "had a heart-rate slow-down"
    if session.rpe is not None and session.rpe >= STEP_BACK_RPE:
        return f"was rated RPE {session.rpe} (15 or more)"
    return None


def _blocker(session: PastSession) -> str | None:
    """Why the session does not count toward progress (rule 2), in words; None if it does."""
    if session.walker_stops:
        return f"ended with a {_WALKER_STOP_WORDS[session.walker_stops[0]]}"
    if session.safety_stops:
        return f"had a safety stop ({session.safety_stops[0].replace('_', ' ')})"
    if not session.completed:
        if session.outcome == "incomplete":
            return "was cut off before its end"
        why = _STOP_WORDS.get(session.stop_reason or "", session.stop_reason or "a stop")
        return f"was stopped before its end ({why})"
    if session.heart_rate_slowdowns:
        return "had a heart-rate slow-down"
    if session.struggle_slowdowns:
        return "had a struggle slow-down (shorter steps)"
    if session.rpe is not None and session.rpe > PROGRESS_MAX_RPE:
        return f"was rated RPE {session.rpe} (progress needs {PROGRESS_MAX_RPE} or less)"
    return None


def _week_levels(past: Sequence[PastSession], limits: CoachLimits, now: datetime) -> list[Level]:
    """The levels the weekly limits measure from: every session of the last 7 days, and the
    last one before them (the level the week started from), unless more than 28 days lie
    between that one and the week's first: then the walker started again (rule 1), and what
    came before the restart is no measure of this week."""
    start = now - WEEK
    chosen = [s for s in past if s.started_at > start]
    before = [s for s in past if s.started_at <= start]
    next_start = chosen[0].started_at if chosen else now
    if before and next_start - before[-1].started_at <= RESTART_AFTER:
        chosen.append(before[-1])
    levels = [level_of(s.plan, limits) for s in chosen if s.plan is not None]
    return [level for level in levels if level is not None]


def _progress(
    level: Level, past: Sequence[PastSession], limits: CoachLimits, now: datetime, units: str
) -> tuple[Level, str] | str:
    """One step up the ladder (rule 3), or why not, in words."""
    week = _week_levels(past, limits, now)
    if level.backward_s < TIME_TOP_S:
        lowest = min(lv.backward_s for lv in week)
        growth, per = WEEKLY_TIME_GROWTH
        room = TIME_TOP_S - level.backward_s
        step = min(TIME_STEP_S, room, lowest * growth // per - level.backward_s)
        if step < room:
            step = step // TIME_GRAIN_S * TIME_GRAIN_S
        if step <= 0:
            return (
                f"backward time is at its limit for the week (at most +10 % a week, from "
                f"{clock(lowest)})"
            )
        return (
            Level(level.backward_s + step, level.speed_cmph, level.incline_dpct),
            f"backward time up {clock(step)} (time first: +1 min a session, at most +10 % a "
            "week, up to 20 min)",
        )
    cap, speed = limits.cap_cmph, level.speed_cmph
    if speed < cap:
        lowest = min(lv.speed_cmph for lv in week)
        faster = min(level.speed_cmph + SPEED_STEP_CMPH, cap, lowest + SPEED_STEP_CMPH)
        if faster <= level.speed_cmph:
            return "backward speed went up in the last 7 days (at most +0.1 mph a week)"
        return (
            Level(level.backward_s, faster, level.incline_dpct),
            f"20 min reached, backward speed up {format_speed((faster - speed) / 100, units)}"
            f" (at most +0.1 mph a week, up to your cap of {format_speed(cap / 100, units)})",
        )
    incline = level.incline_dpct
    if incline < INCLINE_TOP_DPCT:
        lowest = min(lv.incline_dpct for lv in week)
        steeper = min(
            incline + INCLINE_STEP_DPCT,
            INCLINE_TOP_DPCT,
            lowest + INCLINE_STEP_DPCT,
        )
        if steeper <= incline:
            return "the incline went up in the last 7 days (at most +1 % a week)"
        return (
            Level(level.backward_s, level.speed_cmph, steeper),
            f"20 min at your top speed reached, incline up {(steeper - incline) / 10:g} % (at "
            "most +1 % a week, up to 5 %)",
        )
    return "it is the top of the ladder (20 min at your cap, 5 % incline)"


# -- from the journals ----------------------------------------------------------------------------


def _plan_of(log: SessionLog) -> Plan | None:
    """The plan as it ran: the `connected` event's, else rebuilt from the segments it began."""
    if log.plan is not None:
        try:
            return Plan.model_validate(log.plan)
        except ValidationError:
            pass
    if not log.laps:
        return None
    try:
        return Plan.model_validate(
            {
                "name": (log.program or "unknown")[:80],
                "segments": [
                    {
                        "name": lap.name[:60] or f"segment {lap.index + 1}",
                        "direction": lap.direction.value,
                        "duration_s": max(1.0, lap.planned_s),
                        "target_mph": lap.target_mph,
                        "incline_pct": lap.incline_pct,
                    }
                    for lap in log.laps
                ],
            }
        )
    except ValidationError:
        return None


def _enough(found: Sequence[PastSession], now: datetime) -> bool:
    """Newest first: the rules need the last two sessions, the last 7 days and the session
    before them; older ones change nothing."""
    return len(found) >= 2 and found[-1].started_at <= now - WEEK


def recent_sessions(data_dir: Path, now: datetime) -> list[PastSession]:
    """The sessions the rules look at, oldest first, read from the journals newest first and no
    further back than needed. A journal without telemetry (a start that failed) is no session.

    A journal that cannot be read is an InputError naming it (exit 2): a damaged journal might
    hold the safety stop that should make the next session easier, so the coach does not guess
    around it. Only the journals the rules need are read, so an old damaged one does not matter.
    """
    found: list[PastSession] = []
    for path in reversed(list(iter_journals(data_dir))):
        if _enough(found, now):
            break
        try:
            log = SessionLog.read(path)
        except InputError as err:
            raise InputError(
                f"coach: {err}; the coach needs every recent session (move the journal aside "
                "to go on without it)"
            ) from None
        except OSError as err:
            raise InputError(
                f"coach: cannot read the journal {path}: {err.strerror or err}"
            ) from None
        if log.worth_listing and log.started_at <= now:
            found.append(PastSession.from_log(log))
    return found[::-1]


def suggest_for(settings: Settings, data_dir: Path, *, now: datetime | None = None) -> Suggestion:
    """The suggestion for now from the journals under `data_dir`, within `settings`' [safety]
    band, naming `[user] name`; what `retrotread coach` prints and `run --coach` runs."""
    from retrotread.session.programs import load_program

    moment = now if now is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return suggest(
        recent_sessions(data_dir, moment),
        CoachLimits.from_safety(settings.safety),
        load_program(FIRST_STEPS),
        now=moment,
        user_name=settings.user.name,
        units=settings.display.units,
    )
