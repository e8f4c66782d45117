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
  around, so direction is bookkeeping (which ceiling applies) plus prompts, and the prompts
  follow the belt as it is seen in Treadmill Data, never the speed commanded (`Pacer`).

Once the supervisor's stop latch has closed (any stop: the program's end, a fault, the walker)
the program is over: the pacer announces nothing more (no next segment, no turn-around prompt)
and returns at its next step, while the supervisor's own events tell how the stop goes. It reads
the latch itself rather than waiting to be cancelled, because the engine cancels it only once the
stop is verified, which may take a minute (a stalled machine, a link that is down).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from retrotread.config import TurnaroundMode
from retrotread.errors import BeltPaused
from retrotread.events import (
    CueEvent,
    Direction,
    Event,
    PromptEvent,
    SegmentEvent,
    TelemetryEvent,
    TurnaroundPhase,
)
from retrotread.safety.supervisor import Supervisor
from retrotread.session.plan import Plan, Segment
from retrotread.wording import by_whom

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

AT_FLOOR_TOLERANCE_MPH = 0.1
"""The belt counts as at the floor for a turn when a Treadmill Data packet shows it at most this
far above the commanded floor: one default ramp step, more than a speed readout wobbles, and a
speed a walker holding the rails turns at as safely as at the floor itself. What counts is the
belt *seen*, never the speed commanded: a belt that lags its commands (a slow motor, a heavy
walker) was told "turn around now" at 1.85 mph when the prompt followed the command."""

SETTLED_TOLERANCE_MPH = 0.3
"""A belt whose readout sits a little above what was commanded (a calibration offset) never
reads within AT_FLOOR_TOLERANCE_MPH: it counts as at the floor once it is seen no longer
changing (SETTLED_RATE_MPH_PER_S over SETTLE_WINDOW_S) at most this far above the floor, the
default `overspeed_tolerance_mph`, inside which the supervisor too counts a belt as at its
speed."""

SETTLED_RATE_MPH_PER_S = 0.02
"""A belt changing by at most this many mph per second is no longer slowing."""

SETTLE_WINDOW_S = 0.9
"""The rate is judged against the newest packet at least this old, whatever the treadmill's data
rate: a console that notifies at 5-10 Hz shows a belt still slowing 0.1-0.2 mph/s as two packets
a few hundredths of a mph apart, which a per-packet test would call settled. About a second, a
little less so that a 1 Hz treadmill's previous packet qualifies despite jitter."""

BELT_STOPPED_MPH = 0.05
"""Below this the belt counts as stopped (telemetry rounds to 0.001 mph)."""

FLOOR_WAIT_LIMIT_S = 30.0
"""How long after the floor was commanded the belt may take to be seen there. The supervisor
already stops a belt that lags a decrease by more than its overspeed tolerance for 15 s; this
is the backstop for a belt that is never seen slowing at all (packets without a speed): the
session stops (a fault) rather than telling the walker to turn on a moving belt or walking on
without a turn."""

PAUSE_WAIT_LIMIT_S = 10.0
"""How long a turn-around pause waits to see the belt stopped; the belt is at the floor already,
so after this the walker is told to turn with the belt as it is (and the prompt says so)."""


def turnaround_message(direction: Direction, paused: bool = False, pausing: bool = False) -> str:
    """What the walker is told while turning; it must describe what the belt really does:
    `paused` when it was seen stopped, `pausing` when a pause was written but the belt was not
    (yet) seen stopped (it was seen at the floor before)."""
    if paused:
        belt = "The belt is paused while you turn"
    elif pausing:
        belt = "The belt is stopping: hold the rails while you turn"
    else:
        belt = "The belt holds slow while you turn"
    return f"Turn around now: next you walk {direction.upper()}. {belt}."


def stays_paused(t: float, by: str | None, direction: Direction) -> tuple[PromptEvent, CueEvent]:
    """What the walker is told when a countdown ends without the belt moving: someone paused
    it during the countdown (or the hold before it), and that pause wins. The prompt (kind
    `resume`, which the belt's next Start clears) replaces the countdown's; the cue is said."""
    whom = by_whom(by)  # "remotely (MQTT)", "from another terminal (...)": as everywhere else
    who = f" {whom}" if whom else ""
    return (
        PromptEvent(
            t=t,
            message=f"Paused{who}: the belt stays paused until you resume it",
            kind="resume",
            direction=direction,
        ),
        CueEvent(t=t, kind="paused", text=f"Belt stays paused{who}"),
    )


def _seconds(value: float) -> float:
    return round(max(0.0, value), 1)


@dataclass
class _Turn:
    """One turn-around as it runs: when each phase began, for the prompts' durations."""

    old: Direction
    new: Direction
    paused: bool  # the belt was seen stopped for the turn (pause mode)
    began_t: float
    turned_t: float | None = None
    moving_t: float | None = None  # the belt moves on (resumed, or the hold is over)

    @property
    def slowing_s(self) -> float | None:
        return None if self.turned_t is None else _seconds(self.turned_t - self.began_t)

    @property
    def holding_s(self) -> float | None:
        if self.turned_t is None or self.moving_t is None:
            return None
        return _seconds(self.moving_t - self.turned_t)


def _settled(readings: deque[tuple[float, float]], t: float, mph: float) -> bool:
    """Whether the belt seen at `mph` at `t` no longer changes: against the newest earlier
    reading at least SETTLE_WINDOW_S older, at most SETTLED_RATE_MPH_PER_S. Readings older than
    that one are dropped: a later reading will be judged against it or a newer one."""
    while len(readings) >= 2 and t - readings[1][0] >= SETTLE_WINDOW_S:
        readings.popleft()
    if not readings or t - readings[0][0] < SETTLE_WINDOW_S:
        return False
    then, was = readings[0]
    return abs(was - mph) <= SETTLED_RATE_MPH_PER_S * (t - then)


class Pacer:
    """Runs a resolved plan (`Plan.check_against` output) through a supervisor.

    A turn-around is told in prompts that follow the belt as it is seen (see `PromptEvent`):
    `slowing` while the belt ramps down to the floor (the walker still faces the old way, and the
    segment before is still the current one), `turn` once Treadmill Data shows the belt at the
    floor (or stopped, in pause mode), with the new segment's `segment` event just before it,
    `resuming` for the countdown before the belt moves again, `ramping` up to the new speed, and
    `done`, which clears the prompt and carries how long slowing, holding and ramping took."""

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
        self._telemetry_seen = asyncio.Event()
        self._seen_mph: float | None = None
        self._seen_t = 0.0  # when the latest Treadmill Data was received (session seconds)

    async def run(self, plan: Plan, direction: Direction) -> None:
        """Run every segment; `direction` is the one the belt was started in."""
        remove = self._supervisor.add_listener(self._observe)
        try:
            await self._run(plan, direction)
        finally:
            remove()

    def _observe(self, event: Event) -> None:
        """What the supervisor reports: the belt as seen, and when."""
        if isinstance(event, TelemetryEvent):
            self._seen_mph = event.speed_mph
            self._seen_t = event.t
            self._telemetry_seen.set()

    async def _run(self, plan: Plan, direction: Direction) -> None:
        deadline = self._now()
        for index, segment in enumerate(plan.segments):
            if self._supervisor.latched:
                return
            deadline += segment.duration_s
            turn: _Turn | None = None
            if segment_direction(segment) != direction:
                turn, paused_for = await self._turn_around(index, segment, direction, deadline)
                deadline += paused_for
                if turn is None:
                    return  # latched meanwhile, or the belt never slowed (a fault stop)
                direction = segment_direction(segment)
            else:
                self._begin_segment(index, segment, deadline)
            deadline = await self._hold_segment(index, segment, deadline, turn)

    def _begin_segment(self, index: int, segment: Segment, deadline: float) -> None:
        started = self._now()
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
                remaining_s=_seconds(deadline - started),
            )
        )

    def _say(self, event: Event) -> None:
        """Emit what the program does next, unless a stop has latched: after it, a segment or a
        turn-around prompt would announce something that will never happen."""
        if not self._supervisor.latched:
            self._emit(event)

    def _prompt(
        self,
        turn: _Turn,
        phase: TurnaroundPhase,
        message: str,
        *,
        in_s: float | None = None,
        target_mph: float | None = None,
        ramping_s: float | None = None,
    ) -> None:
        facing = turn.old if phase == "slowing" else turn.new
        self._say(
            PromptEvent(
                t=self._now(),
                message=message,
                kind="turnaround",
                phase=phase,
                direction=facing,
                next_direction=turn.new if phase == "slowing" else None,
                slowing_s=turn.slowing_s,
                holding_s=turn.holding_s,
                in_s=in_s,
                target_mph=target_mph,
                ramping_s=ramping_s,
            )
        )

    async def _turn_around(
        self, index: int, segment: Segment, old: Direction, deadline: float
    ) -> tuple[_Turn | None, float]:
        """Slow to the floor, see the belt there (or stopped), prompt the turn, hold, count down.
        Returns the turn (None when the session is ending) and the seconds spent paused by
        others, by which the program's schedule moves back."""
        new = segment_direction(segment)
        pause_mode = self._turnaround_mode == "pause"
        turn = _Turn(old, new, paused=False, began_t=self._now())
        self._prompt(
            turn,
            "slowing",
            f"Slowing down to turn around: keep walking {old.upper()}",
            target_mph=self._floor_mph,
        )
        paused_for = await self._set_target(self._floor_mph, old)
        floor = max(self._floor_mph, self._supervisor.commanded_mph or self._floor_mph)
        if not await self._belt_seen_at_floor(floor, FLOOR_WAIT_LIMIT_S):
            if not self._supervisor.latched:
                self._supervisor.fault(
                    "pacer_error",
                    f"the belt was not seen at the floor ({floor:.2f} mph) within "
                    f"{FLOOR_WAIT_LIMIT_S:g} s for a turn-around (last seen "
                    f"{self._supervisor.belt_mph:.2f} mph)",
                )
            return None, paused_for
        if pause_mode and not self._supervisor.paused:
            await self._supervisor.pause("turnaround")
        if self._supervisor.paused:
            turn.paused = await self._belt_seen_at_floor(0.0, PAUSE_WAIT_LIMIT_S, stopped=True)
        if self._supervisor.latched:
            return None, paused_for
        turn.turned_t = self._now()
        self._begin_segment(index, segment, deadline + paused_for)
        message = turnaround_message(new, paused=turn.paused, pausing=self._supervisor.paused)
        self._prompt(turn, "turn", message)
        # The hold ends with the resuming countdown; a hold shorter than the countdown is
        # lengthened to it. A stop latches on its own path meanwhile and is checked after.
        countdown = MOVE_COUNTDOWN_S
        await asyncio.sleep(max(0.0, self._turnaround_hold_s - countdown))
        # Paused by someone else (MQTT, the socket): the walker resumes, with its own countdown.
        # In pause mode their pause found the belt paused already (no Pause written, nothing
        # said then): the supervisor knows who holds the pause, so ask it, and tell the walker.
        others = self._supervisor.pause_sources - {"turnaround"}
        walker_resumes = self._supervisor.paused and (not pause_mode or bool(others))
        # A pause from now on, during the countdown, wins over the resume at its end.
        pauses = self._supervisor.pause_count
        if walker_resumes and pause_mode:
            self._say_stays_paused(new)
        if not walker_resumes:
            moves = "starts" if self._supervisor.paused else "speeds up"
            self._prompt(
                turn,
                "resuming",
                f"Walk {new.upper()}: the belt {moves} in {countdown:g} s",
                in_s=countdown,
            )
            self._say(CueEvent(t=self._now(), kind="resuming", text=RESUMING_TEXT, in_s=countdown))
        await asyncio.sleep(countdown)
        if self._supervisor.latched:
            return None, paused_for
        if pause_mode:
            # Resume only our own pause, and only if nobody paused since the countdown began:
            # if MQTT or the control socket paused during the hold or the countdown, the belt
            # stays paused and `_set_target` below waits for the walker to resume.
            try:
                await self._supervisor.resume("turnaround", pauses_seen=pauses)
            except BeltPaused:
                if not walker_resumes and not self._supervisor.latched:
                    self._say_stays_paused(new)
        # Switch the supervisor's ceiling to the new direction while still at the floor.
        paused_for += await self._set_target(self._floor_mph, new)
        turn.moving_t = self._now()
        return turn, paused_for

    def _say_stays_paused(self, direction: Direction) -> None:
        """The belt stays paused for someone else at the end of a turn-around: say so, naming
        who paused last (the turn-around's own pause is no reason to wait for the walker)."""
        sources = self._supervisor.pause_sources - {"turnaround"}
        last = self._supervisor.last_pause_source
        by = last if last in sources else ", ".join(sorted(sources)) or None
        for event in stays_paused(self._now(), by, direction):
            self._say(event)

    async def _belt_seen_at_floor(
        self, floor_mph: float, limit_s: float, *, stopped: bool = False
    ) -> bool:
        """Wait for Treadmill Data, received from now on, showing the belt at `floor_mph` (see
        AT_FLOOR_TOLERANCE_MPH and SETTLED_TOLERANCE_MPH), or with `stopped` below
        BELT_STOPPED_MPH; False after `limit_s`, or once a stop latched."""
        loop = asyncio.get_running_loop()
        until = loop.time() + limit_s
        # (session seconds, mph) of the packets seen since the wait began; the oldest is the
        # newest one at least SETTLE_WINDOW_S older than the latest (once there is one).
        readings: deque[tuple[float, float]] = deque()
        while not self._supervisor.latched:
            self._telemetry_seen.clear()
            remaining = until - loop.time()
            if remaining <= 0:
                return False
            try:
                async with asyncio.timeout(remaining):
                    await self._telemetry_seen.wait()
            except TimeoutError:
                return False
            seen = self._seen_mph
            if seen is None:
                continue
            if stopped:
                if seen < BELT_STOPPED_MPH:
                    return True
                continue
            if seen <= floor_mph + AT_FLOOR_TOLERANCE_MPH + 1e-9:
                return True
            if seen <= floor_mph + SETTLED_TOLERANCE_MPH and _settled(readings, self._seen_t, seen):
                return True
            readings.append((self._seen_t, seen))
        return False

    async def _hold_segment(
        self, index: int, segment: Segment, deadline: float, turn: _Turn | None = None
    ) -> float:
        """Hold the segment until its deadline (moved back by any time spent paused); returns
        the deadline it ended at. After a turn-around its ramp is the turn-around's last phase."""
        direction = segment_direction(segment)
        target = segment.start_mph
        # A zone paces by heart rate: without one for long, the supervisor holds at the floor.
        self._supervisor.zone_needs_heart_rate = segment.has_hr_zone
        if segment.incline_pct is not None:
            await self._supervisor.set_incline(segment.incline_pct)
        if turn is not None and target > self._floor_mph:
            self._prompt(
                turn, "ramping", f"Walk {direction.upper()}: speeding up", target_mph=target
            )
        ramp_began = self._now()
        paused_for = await self._set_target(target, direction, deadline)
        deadline += paused_for
        if turn is not None:
            ramping = _seconds(self._now() - ramp_began - paused_for)
            self._prompt(turn, "done", "", ramping_s=ramping)
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
