"""The safety supervisor: the only path from the session to the belt.

It claims the treadmill's control point, so whoever holds the Supervisor can move the belt only
through it, and every move passes the same gates: the stop latch, the band of the direction,
rounding onto the device's grid, and the ramp limit. It watches every notification for reasons to
stop (stale telemetry, overspeed, heart rate, the console, the safety key, lost control, a dropped
link) or to slow down (heart rate, a struggling walker's shortening steps) and, once stopped, it
stays stopped: a stop latch can only be cleared by a new session.

This module is the facade; the rules live next to it:
- `limits`: the band, the device grid and the ramp (exact arithmetic);
- `watch`: the verdicts on what the treadmill reports (overspeed, heart rate, step length,
  machine statuses and pause echoes), with time passed in;
- `latch`: the belt's state (idle, running, paused, resuming, latched, ended) with its named
  transitions, the gate that holds back every moving write once latched, and the stop procedure.
What stays here is the asyncio around them: the move lock, the ramp's waits, the stale-telemetry
timer, and who may resume a pause.

The emergency path (`request_stop`) is synchronous: it latches and creates the task that writes
FTMS Stop before doing anything else, so no await and no listener delays the Stop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from fractions import Fraction
from typing import Final, Literal

import structlog

from retrotread.config import SafetyConfig
from retrotread.errors import (
    BeltPaused,
    ConnectError,
    ControlPointError,
    DirectionChangeError,
    LatchedError,
)
from retrotread.events import (
    CommandOp,
    Direction,
    PromptEvent,
    SafetyReason,
    SessionState,
    StopAck,
    StopReason,
    StopSource,
    TelemetryEvent,
)
from retrotread.safety.latch import BeltState, Latch, Listener, Reports, StopProcedure
from retrotread.safety.limits import (
    Band,
    Setpoint,
    centi_to_mph,
    device_grid,
    incline_deci,
    mph_to_centi,
    ramp_step_c,
    session_bands,
    step_wait_s,
)
from retrotread.safety.watch import (
    HeartRate,
    HeartRateLoss,
    HeartRateLossVerdict,
    HeartRateVerdict,
    Overspeed,
    StatusVerdict,
    StatusWatch,
    Struggle,
    StruggleVerdict,
)
from retrotread.treadmill import Disconnected, MachineStatus, Telemetry, Treadmill, TreadmillEvent

log = structlog.get_logger(__name__)

_FAULT_STOP: StopReason = "fault"
# A refused Start or Set Target Speed ends the session; its answer names the safety reason.
_REFUSALS: Final[dict[str, SafetyReason]] = {"timeout": "no_answer", "disconnected": "disconnected"}


class Supervisor:
    """Gatekeeper of one session's belt. Build it from a connected Treadmill; it claims the
    control point, so it must be the only Supervisor of that Treadmill.

    `forward_segments=False`: the plan never faces forward, so no forward band (and no forward
    limit) is needed. A belt something else started is stopped by `safety.foreign_belt`."""

    def __init__(
        self,
        treadmill: Treadmill,
        safety: SafetyConfig,
        *,
        max_speed_mph: float | None = None,
        t0: float | None = None,
        forward_segments: bool = True,
        latch: Latch | None = None,
        derived_heart_rate_limit: bool = False,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._treadmill = treadmill
        self._safety = safety
        t0 = self._loop.time() if t0 is None else t0
        self.device = treadmill.info
        quirks = treadmill.quirks
        self.grid = device_grid(treadmill.info, quirks.min_speed_1kmh, quirks.speed_param_mph)
        self.backward_band, self.forward_band = session_bands(
            self.grid, safety, max_speed_mph, forward_segments=forward_segments
        )
        self._step_c = ramp_step_c(safety.max_step_mph)
        # The session's latch when it has one (open: a closed one never gets a supervisor).
        self._latch = latch if latch is not None else Latch()
        if self._latch.state is not BeltState.idle:
            raise RuntimeError(f"a supervisor needs an idle latch, not {self._latch.state.name}")
        # Asked by the control point in the step that hands a write to bleak: after the latch
        # only Stop and Request Control leave, whatever was decided before (SPEC.md: the latch
        # is atomic). The latch's own method, so that no call stands between it and its state.
        self._gate: Callable[[str], None] = self._latch.gate
        # Claimed only once nothing above can refuse the device: a refused one stays claimable.
        self._cp = treadmill.claim_control_point(self._gate)
        # A refused Start or Set Target Speed is a fault stop.
        self._reports = Reports(t0, on_refused=self._refused)
        self._stop = StopProcedure(
            self._latch, treadmill, self._cp, self._reports, safety.stop_verify_timeout_s
        )
        self._overspeed = Overspeed(int(mph_to_centi(safety.overspeed_tolerance_mph)))
        self._heart_rate = HeartRate(safety.max_heart_rate_bpm, safety.heart_rate_slow_s)
        self._heart_rate_loss = HeartRateLoss(safety.heart_rate_timeout_s)
        # A limit only derived from the walker's age needs a heart rate once one was seen: a
        # treadmill (and no strap) that never reports one is not held at the floor for it.
        self._limit_needs_a_reading = not derived_heart_rate_limit
        self._heart_rate_seen = False
        # Set by the pacer while the segment holds a heart-rate zone: then, as with a limit, a
        # missing heart rate holds the belt at the floor.
        self.zone_needs_heart_rate = False
        # The last target asked for, taken up again when a lost heart rate is back.
        self._wanted: tuple[float, Direction] | None = None
        self._struggle = Struggle(
            drop=safety.struggle_step_drop,
            hold_s=safety.struggle_hold_s,
            baseline_s=safety.struggle_baseline_s,
            cooldown_s=safety.struggle_cooldown_s,
        )
        # The fastest backward setpoint left after the struggle governor slowed the belt: each
        # slow-down lowers it one ramp step, and nothing raises it again this session (the
        # walker's shortened steps said this speed was too much; the pacer may not undo that).
        self._struggle_cap: Setpoint | None = None
        self._statuses = StatusWatch()
        self._move_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[object]] = set()

        self.direction = Direction.backward
        self._pause_sources: set[str] = set()  # everyone who asked for the current pause
        self._pause_count = 0  # pause requests so far: a start/resume asked before one yields
        self._last_pause_source: str | None = None  # who asked for the latest pause
        self._commanded: Setpoint | None = None  # None: nothing commanded, or paused
        self._last_change_at: float | None = None
        self.last_telemetry: TelemetryEvent | None = None
        self._stale_timer: asyncio.TimerHandle | None = None
        self.safety_reason: SafetyReason | None = None
        self._remove_treadmill_listener = treadmill.add_listener(self._on_treadmill_event)

    # -- observation --------------------------------------------------------------------------
    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """`listener` gets every CommandEvent, SafetyEvent, TelemetryEvent and the StoppedEvent."""
        return self._reports.add_listener(listener)

    @property
    def latched(self) -> bool:
        return self._latch.latched

    @property
    def ended(self) -> bool:
        return self._latch.ended

    @property
    def paused(self) -> bool:
        return self._latch.paused

    @property
    def started(self) -> bool:
        return self._latch.started

    @property
    def pause_count(self) -> int:
        """Pause requests so far in this session, whatever they found (a pause asked for while
        already paused counts too). Taken before a resume countdown and handed to `resume` as
        `pauses_seen`, it lets a pause that arrives during the countdown win."""
        return self._pause_count

    @property
    def pause_sources(self) -> frozenset[str]:
        """Everyone who asked for the current pause (empty while the belt is not paused)."""
        return frozenset(self._pause_sources) if self._latch.paused else frozenset()

    @property
    def last_pause_source(self) -> str | None:
        """Who asked for the latest pause of this session."""
        return self._last_pause_source

    @property
    def stop_reason(self) -> StopReason | None:
        """The first stop's reason, once latched."""
        return self._latch.reason

    @property
    def stop_source(self) -> StopSource | None:
        return self._latch.source

    @property
    def belt_mph(self) -> float:
        return self._stop.belt_mph

    @property
    def commanded_mph(self) -> float | None:
        commanded = self._commanded
        if commanded is None or not self._latch.started or self._latch.paused:
            return None
        return commanded.mph

    @property
    def state(self) -> SessionState:
        return self._latch.session_state

    def band(self, direction: Direction) -> Band:
        return self.backward_band if direction == "backward" else self.forward_band

    def now(self) -> float:
        """Seconds since the session started (the events' `t`)."""
        return self._reports.now()

    # -- moving the belt ----------------------------------------------------------------------
    async def take_control(self) -> None:
        """Request Control. A refusal is a ConnectError (exit 4) unless the device is known to
        refuse and obey anyway (request_control_rejected)."""
        self._check_not_latched()
        try:
            await self._reports.command("request_control", self._cp.request_control())
        except ControlPointError as err:
            if self._treadmill.quirks.request_control_rejected and err.result != "disconnected":
                log.info("request control refused; continuing (request_control_rejected quirk)")
                return
            self._reports.safety("control_refused", "stop", str(err))
            raise ConnectError(f"the treadmill refused control: {err.result}") from err

    async def start(self, direction: Direction = Direction.backward) -> None:
        """Start the belt at the floor speed. Only once per session: after a stop, never again.
        A pause that arrives meanwhile wins: the belt stays paused until the walker resumes."""
        async with self._move_lock:
            self._check_not_latched()
            if self._latch.started:
                raise RuntimeError("the belt was already started in this session")
            self.direction = direction
            self._latch.start()
            self._arm_stale_timer()
            await self._run_at_floor()

    async def resume(self, source: str | None = None, *, pauses_seen: int | None = None) -> None:
        """Resume after a pause, at the floor speed. For the local side only (the pacer's
        turn-around, the walker's key); SessionControl offers no way to call it remotely.

        With `source` (e.g. "turnaround"), resume only a pause that source alone asked for:
        if someone else (MQTT, the control socket) paused meanwhile, BeltPaused is raised and
        the belt stays paused until the walker resumes with `resume()`.

        The later request wins: a pause asked for after the resume was (while it waited for a
        ramp to yield, or while its own writes are in flight) is not overridden; BeltPaused.
        The resume counts as asked for when `pause_count` read `pauses_seen` (the start of the
        countdown before it: a pause during the countdown wins), else when this is called."""
        pauses = self._pause_count if pauses_seen is None else pauses_seen
        async with self._move_lock:
            self._check_not_latched()
            if not self._latch.paused:
                return
            if self._pause_count != pauses:
                raise BeltPaused(
                    f"paused again by {self._last_pause_source} after the resume was asked for"
                )
            others = self._pause_sources - {source} if source is not None else set()
            if others:
                raise BeltPaused(f"paused by {', '.join(sorted(others))}; the walker resumes")
            # Still paused during the writes, but a pause arriving meanwhile is a new one:
            # written (with its own echo due), and it stops _run_at_floor before its Start.
            self._latch.resume()
            try:
                await self._run_at_floor()
            except BaseException:
                if self._latch.state is BeltState.resuming:
                    self._latch.resume_failed()
                raise
            overtaken = self._pause_count != pauses
            if self._latch.state is BeltState.resuming:  # not latched meanwhile
                if overtaken:
                    self._latch.resume_failed()
                else:
                    self._latch.resumed()
                    self._pause_sources.clear()
                    self._arm_stale_timer()
            if overtaken:
                raise BeltPaused("paused again while resuming")

    async def set_target(self, mph: float, direction: Direction) -> float:
        """Ramp to `mph` (capped to the direction's band, rounded onto the device grid), one step
        of at most safety.max_step_mph per safety.step_interval_s. Returns the mph commanded at
        the end. LatchedError when a stop latched before or during the ramp; BeltPaused when
        paused."""
        self._wanted = (mph, direction)
        async with self._move_lock:
            self._check_movable()
            if direction != self.direction:
                if self._commanded_c() > self.band(direction).floor.high_c:
                    raise DirectionChangeError(
                        f"turn around at the floor speed first (commanded {self.commanded_mph} mph)"
                    )
                self.direction = direction
            band = self.band(direction)
            while True:
                self._check_movable()  # no await between this check and the write below
                current = self._commanded
                target = self._effective_target(mph, direction)
                if current is not None and target.param == current.param:
                    return target.mph
                step = (
                    target if current is None else band.step_toward(current, target, self._step_c)
                )
                delay = self._step_delay(current, step)
                if delay > 0:
                    await asyncio.sleep(delay)
                    continue  # the target, a pause or a stop may have changed meanwhile
                await self._write_speed(step)

    async def set_incline(self, pct: float) -> float | None:
        """Set the incline, clamped to the device's range and rounded to its increment; None
        when the device has no incline or refused it (the refusal is a command event)."""
        incline = self.device.incline_range_pct
        if incline is None:
            return None
        deci = incline_deci(pct, incline)
        async with self._move_lock:
            self._check_not_latched()
            try:
                await self._reports.command(
                    "set_incline", self._cp.set_incline(deci), incline_pct=deci / 10
                )
            except ControlPointError:
                return None  # reported as a command event; a refused incline is not a hazard
        return deci / 10

    async def pause(self, source: str) -> StopAck:
        """Pause the belt (FTMS Stop/Pause with pause). If the pause fails, the belt is stopped
        instead: a pause request must make the belt safer, never leave it running."""
        latch = self._latch
        if latch.latched or not latch.started:
            return StopAck(True, self.belt_mph, "latched" if latch.latched else "not running")
        self._pause_count += 1  # any resume asked for before this pause yields to it
        self._last_pause_source = source
        if latch.state is BeltState.paused:
            self._pause_sources.add(source)
            return StopAck(True, self.belt_mph, "already paused")
        if latch.state is BeltState.running:
            latch.pause()
        # While resuming the state stays: the resume sees this pause by the count, and fails.
        self._pause_sources = {source}
        self._set_commanded(None)
        self._disarm_stale_timer()
        self._statuses.pause_written(self._loop.time())
        try:
            await self._reports.command("pause", self._cp.pause(), source=source)
        except LatchedError:  # a stop overtook the Pause before it left: safer still
            return StopAck(True, self.belt_mph, "latched")
        except ControlPointError as err:
            self._reports.safety("pause_failed", "stop", str(err))
            return await self.stop("estop", source)
        return StopAck(True, self.belt_mph, "paused")

    # -- stopping -----------------------------------------------------------------------------
    def request_stop(self, reason: StopReason, source: str) -> None:
        """Latch, and put FTMS Stop on the wire now. Synchronous; idempotent (the first reason
        stays); a new Stop is written only when none is in flight or the last one failed."""
        latch = self._latch
        first = not latch.latched
        if first:
            latch.latch(reason, source)
        started = latch.started
        if started:
            self._stop.write_stop(source)
        if first:
            self._disarm_stale_timer()
            self._spawn(self._stop.run(belt_may_run=started))

    async def stop(self, reason: StopReason, source: str) -> StopAck:
        """`request_stop`, then wait until the treadmill acknowledged the Stop (or the stop
        procedure ended without an acknowledgement)."""
        self.request_stop(reason, source)
        if not self._latch.started:
            return StopAck(True, self.belt_mph, "stopped before the belt started")
        return await self._stop.answer()

    async def wait_ended(self) -> StopReason:
        """Wait until the session's stop is complete (belt verified at 0, or given up)."""
        await self._stop.wait_ended()
        assert self._latch.reason is not None
        return self._latch.reason

    async def close(self) -> None:
        """Stop watching (the engine calls this once the session ended)."""
        self._disarm_stale_timer()
        self._remove_treadmill_listener()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def fault(self, reason: SafetyReason, detail: str | None = None) -> None:
        """A safety reason to end the session now: SafetyEvent(reason, stop), then a fault stop."""
        if self._latch.latched:
            return
        self.safety_reason = reason
        self.request_stop(_FAULT_STOP, "supervisor")
        self._reports.safety(reason, "stop", detail)

    # -- internals: moves ---------------------------------------------------------------------
    def _check_not_latched(self) -> None:
        if self._latch.latched:
            raise LatchedError(f"the belt is stopped ({self.stop_reason}); start a new session")

    def _check_movable(self) -> None:
        self._check_not_latched()
        if not self._latch.started:
            raise RuntimeError("start() the belt before setting a target")
        if self._latch.paused:
            raise BeltPaused("the belt is paused; the walker resumes it")

    def _effective_target(self, mph: float, direction: Direction) -> Setpoint:
        band = self.band(direction)
        if self._heart_rate.slowing or self._heart_rate_loss.lost:
            return band.floor
        chosen = band.for_request(mph)
        cap = self._struggle_cap
        if direction == "backward" and cap is not None and chosen.high_c > cap.high_c:
            return cap
        return chosen

    def _commanded_c(self) -> Fraction:
        """The fastest belt the commanded setpoint may give (0 when nothing is commanded)."""
        return self._commanded.high_c if self._commanded is not None else Fraction(0)

    def _step_delay(self, current: Setpoint | None, step: Setpoint) -> float:
        """Seconds until `step` may be written: at most max_step_mph per step_interval_s on
        average, so a step of several max_steps (one coarse grid increment) waits longer."""
        if self._last_change_at is None or current is None:
            return 0.0
        wait = step_wait_s(step.high_c - current.high_c, self._step_c, self._safety.step_interval_s)
        return self._last_change_at + wait - self._loop.time()

    async def _run_at_floor(self) -> None:
        """Start/Resume with the target at the floor (order by quirk: some devices ignore a
        target speed until the belt runs). A pause or a stop that arrives between the two
        writes wins: the second write is not sent, and a pause leaves the belt paused (start()
        then returns normally, `paused` tells; resume() raises BeltPaused)."""
        floor = self.band(self.direction).floor
        pauses = self._pause_count

        def still_wanted() -> bool:
            self._check_not_latched()
            return self._pause_count == pauses

        if self._treadmill.quirks.start_before_speed:
            await self._reports.command("start", self._cp.start())
            if still_wanted():
                await self._write_speed(floor)
        else:
            await self._write_speed(floor)
            if still_wanted():
                await self._reports.command("start", self._cp.start())

    async def _write_speed(self, setpoint: Setpoint) -> None:
        """Write `setpoint`'s parameter; the event reports what was written (in mph and km/h)."""
        self._set_commanded(setpoint)
        await self._reports.command(
            "set_speed",
            self._cp.set_speed(setpoint.param),
            mph=round(setpoint.mph, 4),
            kmh=round(setpoint.kmh, 4),
        )

    def _set_commanded(self, setpoint: Setpoint | None) -> None:
        now = self._loop.time()
        new_c = setpoint.high_c if setpoint is not None else Fraction(0)
        self._overspeed.commanded(self._commanded_c(), new_c, now)
        self._commanded = setpoint
        self._last_change_at = now

    def _refused(self, op: CommandOp, err: ControlPointError) -> None:
        if op in ("set_speed", "start") and not self._latch.latched:
            self.fault(_REFUSALS.get(err.result, "control_refused"), str(err))

    # -- internals: watching ------------------------------------------------------------------
    def _on_treadmill_event(self, event: TreadmillEvent) -> None:
        if isinstance(event, Telemetry):
            self._on_telemetry(event)
        elif isinstance(event, MachineStatus):
            self._on_machine_status(event)
        elif isinstance(event, Disconnected):
            self._on_disconnected()

    def _on_telemetry(self, tm: Telemetry) -> None:
        """A packet without the speed neither feeds the overspeed check nor keeps the stale
        watchdog quiet (that watchdog is about seeing the belt speed; a dropped link is caught
        by the disconnect event)."""
        report = self._stop.observe(tm)
        self.last_telemetry = report
        if not self._latch.latched and self._latch.started:
            if tm.speed_kmh is not None:
                if not self._latch.paused:
                    self._arm_stale_timer()
                self._check_overspeed(tm.received_at)
            self._check_heart_rate(tm.heart_rate_bpm, tm.received_at)
            self._check_heart_rate_loss(tm.heart_rate_bpm, tm.received_at)
            self._check_struggle(tm)
        self._reports.emit(report)

    def _check_overspeed(self, now: float) -> None:
        ceiling = self.band(self.direction).ceiling_c
        limit = self._overspeed.check(self._stop.belt_c, self._commanded_c(), ceiling, now)
        if limit is not None:
            self.fault(
                "overspeed",
                f"belt {self.belt_mph:.2f} mph above the allowed {centi_to_mph(limit):.2f} mph",
            )

    def _check_heart_rate(self, bpm: int | None, now: float) -> None:
        verdict = self._heart_rate.verdict(bpm, now)
        limit = self._safety.max_heart_rate_bpm
        if verdict is HeartRateVerdict.slow:
            self._reports.safety("heart_rate", "slow", f"{bpm} bpm above {limit} bpm")
            if not self._latch.paused:
                self._spawn(self._slow_to_floor())
        elif verdict is HeartRateVerdict.stop:
            self.fault("heart_rate", f"{bpm} bpm above {limit} bpm after slowing")

    def _check_heart_rate_loss(self, bpm: int | None, now: float) -> None:
        """No heart rate for heart_rate_timeout_s while a limit or a zone needs it: hold at
        the floor (not a stop); when it is back, take up the last target asked for again."""
        if bpm is not None:
            self._heart_rate_seen = True
        limit_needs = self._safety.max_heart_rate_bpm is not None and (
            self._limit_needs_a_reading or self._heart_rate_seen
        )
        needed = limit_needs or self.zone_needs_heart_rate
        verdict = self._heart_rate_loss.verdict(bpm, now, needed=needed)
        if verdict is HeartRateLossVerdict.lost:
            timeout = self._safety.heart_rate_timeout_s
            self._reports.safety("heart_rate_lost", "slow", f"no heart rate for {timeout:g} s")
            if not self._latch.paused:
                self._spawn(self._slow_to_floor())
        elif verdict is HeartRateLossVerdict.back and self._wanted is not None:
            log.info("heart rate back", bpm=bpm)
            if not self._latch.paused:
                self._spawn(self._take_up_wanted(*self._wanted))

    def _check_struggle(self, tm: Telemetry) -> None:
        """Shortening steps at a steady backward belt: one ramp step down (never below the
        floor), a safety event and a prompt. Judged only while walking backward under a
        commanded speed, the case the rule's baseline is about; anything else restarts it."""
        commanded = self._commanded
        judged = self.direction == "backward" and commanded is not None and not self._latch.paused
        steps = tm.step_count if judged else None
        verdict = self._struggle.verdict(steps, tm.speed_kmh, tm.received_at)
        if verdict is not StruggleVerdict.slow or commanded is None:
            return
        band = self.backward_band
        current = (
            commanded
            if self._struggle_cap is None
            else min(commanded, self._struggle_cap, key=lambda setpoint: setpoint.high_c)
        )
        lower = band.step_toward(current, band.floor, self._step_c)
        length, baseline = self._struggle.step_length_m, self._struggle.baseline_here_m
        if lower.high_c >= current.high_c:
            log.info("struggling at the floor already", step_m=length, baseline_m=baseline)
            return
        self._struggle_cap = lower
        detail = (
            f"step length {length or 0:.2f} m, baseline {baseline or 0:.2f} m: "
            f"slowing to {lower.mph:.2f} mph"
        )
        self._reports.safety("struggle", "slow", detail)
        self._reports.emit(
            PromptEvent(t=self._reports.now(), message="Shorter steps: slowing down a little")
        )
        self._spawn(self._take_up_wanted(*(self._wanted or (lower.mph, self.direction))))

    async def _take_up_wanted(self, mph: float, direction: Direction) -> None:
        with contextlib.suppress(LatchedError, BeltPaused, ControlPointError, DirectionChangeError):
            await self.set_target(mph, direction)

    async def _slow_to_floor(self) -> None:
        # While slowing every request becomes the floor, so asking for the walker's last target
        # ramps down to the floor and keeps that target to take up again afterwards.
        mph = self._wanted[0] if self._wanted is not None else 0.0
        with contextlib.suppress(LatchedError, BeltPaused, ControlPointError):
            await self.set_target(mph, self.direction)

    def _on_machine_status(self, status: MachineStatus) -> None:
        verdict = self._statuses.verdict(
            status.opcode, status.control, started=self._latch.started, now=status.received_at
        )
        if verdict is StatusVerdict.safety_key:
            self._machine_stop("safety_key", "safety key pulled")
        elif verdict is StatusVerdict.console_stop:
            self._machine_stop("console_stop", f"{status.control or 'stop'} at the console")
        elif verdict is StatusVerdict.control_lost:
            self.fault("control_lost", "the treadmill withdrew control")

    def _machine_stop(self, reason: Literal["safety_key", "console_stop"], detail: str) -> None:
        if self._latch.latched:
            return
        self.request_stop(reason, "treadmill")
        self._reports.safety(reason, "stop", detail)

    def _on_disconnected(self) -> None:
        self._stop.link_lost()
        if self._latch.latched:
            return
        if self._latch.started:
            self.fault("disconnected", "the link to the treadmill dropped")
        else:
            self._reports.safety("disconnected", "stop", "the link dropped before the start")
            self.request_stop(_FAULT_STOP, "supervisor")

    def _arm_stale_timer(self) -> None:
        self._disarm_stale_timer()
        self._stale_timer = self._loop.call_later(self._safety.telemetry_timeout_s, self._on_stale)

    def _disarm_stale_timer(self) -> None:
        if self._stale_timer is not None:
            self._stale_timer.cancel()
            self._stale_timer = None

    def _on_stale(self) -> None:
        self._stale_timer = None
        if not self._latch.paused:
            self.fault(
                "telemetry_stale", f"no treadmill data for {self._safety.telemetry_timeout_s:g} s"
            )

    # -- internals: plumbing ------------------------------------------------------------------
    def _spawn(self, coro: object) -> None:
        assert asyncio.iscoroutine(coro)
        task: asyncio.Task[object] = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
