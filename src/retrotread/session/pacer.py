"""The pacer: what makes a session auto-paced.

It walks a resolved plan segment by segment and only ever *asks* the supervisor for speeds; the
supervisor caps, rounds and ramps them, so nothing here can exceed a limit. The pacer's own jobs:
- keep the program on schedule (segment deadlines are absolute from the program start, so a slow
  ramp or a turn-around shortens its segment instead of stretching the session): a ramp still
  running at its segment's deadline is abandoned where it got to and the next segment takes over
  from there. Only the slow-down before a turn-around always runs to the floor, since the walker
  may only turn at the floor; a turn-around longer than its whole segment overruns by that much;
- hold a heart-rate zone when the segment has one and heart rate is reported, by steps inside
  the segment's speed range: down promptly (a full step at every zone check) when the heart rate
  is above the zone, up slowly (a step only after the last change has had time to show in the
  heart rate) when it is below;
- bridge every direction change with a turn-around. FTMS has no direction: the walker turns
  around, so direction is bookkeeping (which ceiling applies) plus prompts.

Once the supervisor's stop latch has closed (any stop: the program's end, a fault, the walker)
the program is over: the pacer announces nothing more (no next segment, no turn-around prompt)
and returns at its next step, while the supervisor's own events tell how the stop goes. It reads
the latch itself rather than waiting to be cancelled, because the engine cancels it only once the
stop is verified, which may take a minute (a stalled machine, a link that is down).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from retrotread.config import TurnaroundMode
from retrotread.errors import BeltPaused
from retrotread.events import CueEvent, Direction, Event, PromptEvent, SegmentEvent
from retrotread.safety.supervisor import Supervisor
from retrotread.session.plan import Plan, Segment

PAUSE_CHECK_INTERVAL_S = 1.0
"""How often the pacer looks whether the belt was paused from outside (socket, MQTT)."""

ZONE_CHECK_INTERVAL_S = 10.0
"""How often a heart-rate zone is looked at. Above the zone every look lowers the target a full
step: a walker working too hard (backward walking raises heart rate well above forward walking)
is eased within seconds. Overshooting downwards while the heart rate catches up costs a little
pace, never safety."""

ZONE_RAISE_INTERVAL_S = 40.0
"""The least time from the segment's start or the last zone change to a raise. Heart rate lags
effort by tens of seconds, so a raise waits until the last change has shown in the heart rate:
raising as fast as lowering would overshoot the zone and oscillate."""


def zone_adjusted_mph(
    current_mph: float,
    heart_rate_bpm: int,
    segment: Segment,
    step_mph: float,
    *,
    may_raise: bool = True,
) -> float:
    """The next target for holding the segment's zone: one step down above it, one step up below
    it when `may_raise`, never outside the segment's speed range."""
    if segment.hr_min_bpm is None or segment.hr_max_bpm is None:
        return current_mph
    low = segment.min_mph if segment.min_mph is not None else segment.start_mph
    high = segment.ceiling_mph
    if heart_rate_bpm > segment.hr_max_bpm:
        return max(low, current_mph - step_mph)
    if heart_rate_bpm < segment.hr_min_bpm and may_raise:
        return min(high, current_mph + step_mph)
    return current_mph


class ZoneSteps:
    """The timing of zone pacing in one segment: lower fast, raise slowly.

    The zone is looked at every ZONE_CHECK_INTERVAL_S; above it, each look lowers a full step.
    Below it, a step up comes only ZONE_RAISE_INTERVAL_S after the segment started or the target
    last moved (either way), so a lowering is never undone before the heart rate has settled.
    The supervisor still ramps and caps every target, so its limits stay the outer bound."""

    def __init__(self, segment: Segment, step_mph: float, now: float) -> None:
        self._segment = segment
        self._step_mph = step_mph
        self._next_check = now + ZONE_CHECK_INTERVAL_S
        self._next_raise = now + ZONE_RAISE_INTERVAL_S

    def target(self, now: float, current_mph: float, heart_rate_bpm: int | None) -> float:
        """The target to ask for now: `current_mph` unless a zone check is due and the heart
        rate (None: not reported) calls for a step."""
        if now < self._next_check:
            return current_mph
        self._next_check = now + ZONE_CHECK_INTERVAL_S
        if heart_rate_bpm is None:
            return current_mph
        adjusted = zone_adjusted_mph(
            current_mph,
            heart_rate_bpm,
            self._segment,
            self._step_mph,
            may_raise=now >= self._next_raise,
        )
        if adjusted != current_mph:
            self._next_raise = now + ZONE_RAISE_INTERVAL_S
        return adjusted


@dataclass(frozen=True)
class SegmentProgress:
    """Where the program is, for status and the live view."""

    index: int
    segment: Segment
    started_t: float
    ends_t: float
    target_mph: float


def segment_direction(segment: Segment) -> Direction:
    return segment.direction


# The walker hears "belt starting" / "resuming" at least this long before the belt moves
# (SPEC.md "Walker cues"): time to face the right way and take hold of the rails.
MOVE_COUNTDOWN_S = 3.0
RESUMING_TEXT = "Resuming in 3, 2, 1"

# The two turn-around prompts; the cue channel recognises them by these words.
SLOWING_FOR_TURN_MESSAGE = "Slowing down for a turn-around; keep going"
TURN_AROUND_NOW = "Turn around now"


def turnaround_message(direction: Direction, paused: bool = False) -> str:
    """What the walker is told while turning; it must describe what the belt really does."""
    belt = "The belt is paused" if paused else "The belt holds slow"
    return f"{TURN_AROUND_NOW}: next you walk {direction.upper()}. {belt} while you turn."


class Pacer:
    """Runs a resolved plan (`Plan.check_against` output) through a supervisor."""

    def __init__(
        self,
        supervisor: Supervisor,
        emit: Callable[[Event], None],
        session_time: Callable[[], float],
        *,
        floor_mph: float,
        turnaround_mode: TurnaroundMode,
        turnaround_hold_s: float,
    ) -> None:
        self._supervisor = supervisor
        self._emit = emit
        self._now = session_time
        self._floor_mph = floor_mph
        self._turnaround_mode = turnaround_mode
        self._turnaround_hold_s = turnaround_hold_s
        self.progress: SegmentProgress | None = None

    async def run(self, plan: Plan, direction: Direction) -> None:
        """Run every segment; `direction` is the one the belt was started in."""
        deadline = self._now()
        for index, segment in enumerate(plan.segments):
            if self._supervisor.latched:
                return
            started = self._now()
            deadline += segment.duration_s
            self.progress = SegmentProgress(index, segment, started, deadline, segment.start_mph)
            self._say(
                SegmentEvent(
                    t=started,
                    index=index,
                    name=segment.name,
                    direction=segment_direction(segment),
                    target_mph=segment.start_mph,
                    duration_s=segment.duration_s,
                    incline_pct=segment.incline_pct,
                )
            )
            if segment_direction(segment) != direction:
                await self._turn_around(direction, segment_direction(segment))
                direction = segment_direction(segment)
            deadline = await self._hold_segment(index, segment, deadline)

    def _say(self, event: Event) -> None:
        """Emit what the program does next, unless a stop has latched: after it, a segment or a
        turn-around prompt would announce something that will never happen."""
        if not self._supervisor.latched:
            self._emit(event)

    async def _turn_around(self, old: Direction, new: Direction) -> None:
        self._say(PromptEvent(t=self._now(), message=SLOWING_FOR_TURN_MESSAGE))
        await self._set_target(self._floor_mph, old)
        if self._turnaround_mode == "pause":
            await self._supervisor.pause("turnaround")
        self._say(
            PromptEvent(
                t=self._now(),
                message=turnaround_message(new, paused=self._turnaround_mode == "pause"),
            )
        )
        # The hold ends with the resuming countdown; a hold shorter than the countdown is
        # lengthened to it. A stop latches on its own path meanwhile and is checked after.
        countdown = MOVE_COUNTDOWN_S
        await asyncio.sleep(max(0.0, self._turnaround_hold_s - countdown))
        self._say(CueEvent(t=self._now(), kind="resuming", text=RESUMING_TEXT, in_s=countdown))
        await asyncio.sleep(countdown)
        if self._supervisor.latched:
            return
        if self._turnaround_mode == "pause":
            # Resume only our own pause: if MQTT or the control socket paused during the hold,
            # the belt stays paused and `_set_target` below waits for the walker to resume.
            with contextlib.suppress(BeltPaused):
                await self._supervisor.resume("turnaround")
        # Switch the supervisor's ceiling to the new direction while still at the floor.
        await self._set_target(self._floor_mph, new)

    async def _hold_segment(self, index: int, segment: Segment, deadline: float) -> float:
        """Hold the segment until its deadline (moved back by any time spent paused); returns
        the deadline it ended at."""
        direction = segment_direction(segment)
        target = segment.start_mph
        # A zone paces by heart rate: without one for long, the supervisor holds at the floor.
        self._supervisor.zone_needs_heart_rate = segment.has_hr_zone
        if segment.incline_pct is not None:
            await self._supervisor.set_incline(segment.incline_pct)
        deadline += await self._set_target(target, direction, deadline)
        zone = ZoneSteps(segment, segment.ramp_step_mph or 0.1, self._now())
        while (remaining := deadline - self._now()) > 0:
            await asyncio.sleep(min(PAUSE_CHECK_INTERVAL_S, remaining))
            if self._supervisor.latched:
                break
            if self._supervisor.paused:
                deadline += await self._set_target(target, direction, deadline)
            if not segment.has_hr_zone:
                continue
            telemetry = self._supervisor.last_telemetry
            bpm = telemetry.heart_rate_bpm if telemetry is not None else None
            adjusted = zone.target(self._now(), target, bpm)
            if adjusted != target:
                target = adjusted
                self.progress = SegmentProgress(index, segment, self._started(), deadline, target)
                deadline += await self._set_target(target, direction, deadline)
        return deadline

    def _started(self) -> float:
        return self.progress.started_t if self.progress is not None else self._now()

    async def _set_target(
        self, mph: float, direction: Direction, deadline: float | None = None
    ) -> float:
        """Ask for `mph`; while someone has paused the belt, wait for the walker to resume it.
        With a `deadline` (session time, moved back by the time spent paused) the ramp ends
        there even if `mph` is not reached yet. Returns the seconds spent paused, by which the
        program's schedule moves back."""
        paused_for = 0.0
        while True:
            try:
                if deadline is None:
                    await self._supervisor.set_target(mph, direction)
                else:
                    await self._ramp_until(mph, direction, deadline + paused_for)
                return paused_for
            except BeltPaused:
                started = self._now()
                # The supervisor has no "resumed" event to await; a 1 s poll is cheap enough.
                while self._supervisor.paused and not self._supervisor.latched:  # noqa: ASYNC110
                    await asyncio.sleep(PAUSE_CHECK_INTERVAL_S)
                paused_for += self._now() - started

    async def _ramp_until(self, mph: float, direction: Direction, deadline: float) -> None:
        """Ramp towards `mph` until `deadline`. Cancelling `Supervisor.set_target` is safe: it
        holds its move lock only inside `async with`, sets the commanded speed before each write
        (so its overspeed and stop checks never trust a speed that was not asked for), and a
        Stop goes out on its own path, never behind a ramp."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout_at(loop.time() + deadline - self._now()) as budget:
                await self._supervisor.set_target(mph, direction)
        except TimeoutError:
            if not budget.expired():  # a control-point timeout is the supervisor's business
                raise
