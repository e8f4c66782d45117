"""The safety supervisor: the only path from the session to the belt.

It claims the treadmill's control point, so whoever holds the Supervisor can move the belt only
through it, and every move passes the same gates: the stop latch, the band of the direction,
rounding onto the device's grid, and the ramp limit. It watches every notification for reasons to
stop (stale telemetry, overspeed, heart rate, the console, the safety key, lost control, a dropped
link) and, once stopped, it stays stopped: a stop latch can only be cleared by a new session.

The emergency path (`request_stop`) is synchronous: it latches and creates the task that writes
FTMS Stop before doing anything else, so no await and no listener delays the Stop.

A belt that something else started (another app, a session that died) is stopped by a Supervisor
built with `foreign_belt=True` and its `stop_foreign_belt()`: the same stop procedure, so even
`retrotread stop --device` reaches the control point only through this class.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from fractions import Fraction
from typing import Literal

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
    CommandEvent,
    CommandOp,
    Direction,
    Event,
    SafetyAction,
    SafetyEvent,
    SessionState,
    StopAck,
    StoppedEvent,
    StopReason,
    TelemetryEvent,
)
from retrotread.safety.limits import (
    MIN_SPEED_QUIRK_C,
    Band,
    Setpoint,
    SpeedGrid,
    backward_band,
    centi_to_mph,
    forward_band,
    mph_to_centi,
    ramp_step_c,
    step_wait_s,
)
from retrotread.treadmill import (
    DeviceInfo,
    Disconnected,
    MachineStatus,
    Telemetry,
    Treadmill,
    TreadmillEvent,
)
from retrotread.units import kmh_to_mph

log = structlog.get_logger(__name__)

Listener = Callable[[Event], None]
# After a decrease of the commanded speed the belt lags behind: the previous speed stays allowed
# until the belt is seen at the new one, but no longer than this.
OVERSPEED_GRACE_S = 15.0
# Stop attempts (each waits safety.stop_verify_timeout_s for belt == 0) before giving up.
MAX_STOP_ATTEMPTS = 6
RECONNECT_WINDOW_S = 15.0
RECONNECT_PAUSE_S = 1.0
# A "paused by user" Machine Status this soon after one of our Pause writes is its echo; the
# window only keeps a device that never echoes from turning a much later console Pause into one.
PAUSE_ECHO_WINDOW_S = 3.0
_FAULT_STOP: StopReason = "fault"
# The only writes the stop latch lets out: the Stop itself, and Request Control to retry it.
_WRITES_AFTER_LATCH = frozenset({"stop", "request_control"})


def device_grid(info: DeviceInfo, min_speed_1kmh: bool, speed_param_mph: bool = False) -> SpeedGrid:
    """The device's speed grid in its own unit: its Supported Speed Range as reported (in mph on
    a speed_param_mph device, which reads the parameter as mph); with min_speed_1kmh the belt
    never runs below 1.0 km/h whatever is written."""
    lo, hi, inc = info.speed_range_kmh
    return SpeedGrid.from_range(
        lo,
        hi,
        inc,
        unit_is_mph=speed_param_mph,
        min_belt_kmh=MIN_SPEED_QUIRK_C / 100 if min_speed_1kmh else 0.0,
    )


class Supervisor:
    """Gatekeeper of one session's belt. Build it from a connected Treadmill; it claims the
    control point, so it must be the only Supervisor of that Treadmill.

    With `foreign_belt=True` it is a stop-only Supervisor for a belt it did not start: latched
    from birth (reason "estop"), so it never moves the belt, and it needs no speed band (a device
    whose grid misses the walking band must still be stoppable); `stop_foreign_belt()` is its
    one job. `forward_segments=False`: the plan never faces forward, so no forward band (and no
    forward limit) is needed."""

    def __init__(
        self,
        treadmill: Treadmill,
        safety: SafetyConfig,
        *,
        max_speed_mph: float | None = None,
        t0: float | None = None,
        foreign_belt: bool = False,
        forward_segments: bool = True,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._treadmill = treadmill
        self._safety = safety
        self._t0 = self._loop.time() if t0 is None else t0
        self.device = treadmill.info
        quirks = treadmill.quirks
        self.grid = device_grid(treadmill.info, quirks.min_speed_1kmh, quirks.speed_param_mph)
        cap = (
            safety.max_backward_mph
            if max_speed_mph is None
            else min(max_speed_mph, safety.max_backward_mph)
        )
        if foreign_belt:
            # Latched from birth (below), so no band is ever used; the band check would refuse
            # a device no walker can use, which still needs stopping.
            nothing = Band(Fraction(0), Fraction(0), (self.grid.setpoint(self.grid.min_u),))
            self.backward_band = self.forward_band = nothing
        else:
            self.backward_band = backward_band(self.grid, cap, safety.min_backward_mph)
            # `--max-speed` is the walker's top speed whichever way they face.
            forward_cap = (
                safety.forward_max_mph
                if max_speed_mph is None
                else min(max_speed_mph, safety.forward_max_mph)
            )
            # Forward limits matter only to a plan with forward segments; without any, a forward
            # request (there should be none) gets the backward band, the stricter one.
            self.forward_band = (
                forward_band(self.grid, forward_cap, safety.min_backward_mph)
                if forward_segments
                else self.backward_band
            )
        self._step_c = ramp_step_c(safety.max_step_mph)
        # Claimed only once nothing above can refuse the device: a refused one stays claimable.
        self._cp = treadmill.claim_control_point(self._gate)
        self._tolerance_c = int(mph_to_centi(safety.overspeed_tolerance_mph))
        self._listeners: list[Listener] = []
        self._move_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[object]] = set()

        self.direction = Direction.backward
        self._started = False
        self._paused = False
        self._pause_sources: set[str] = set()  # everyone who asked for the current pause
        self._pause_count = 0  # pause requests so far: a start/resume asked before one yields
        self._resuming = False
        # Deadlines of the pause echoes still due, one per Pause written: each "paused" status
        # uses up one; any further one is someone at the console.
        self._pause_echoes_due: deque[float] = deque()
        self._commanded: Setpoint | None = None  # None: nothing commanded, or paused
        self._allowed_c = Fraction(0)  # the higher of the commanded speed and one just left
        self._allowed_until = 0.0
        self._last_change_at: float | None = None
        self._belt_c = 0
        self.last_telemetry: TelemetryEvent | None = None
        self._stale_timer: asyncio.TimerHandle | None = None
        self._hr_high_since: float | None = None

        self._foreign_belt = foreign_belt  # a belt we did not start may be running
        self._foreign_stop_begun = False
        self._latched = foreign_belt
        self.stop_reason: StopReason | None = "estop" if foreign_belt else None
        self.stop_source: str | None = None
        self.safety_reason: str | None = None
        self._stop_write: asyncio.Task[bool] | None = None
        self._stop_acked = asyncio.Event()
        self._belt_zero = asyncio.Event()
        self._link_lost = asyncio.Event()
        self._ended = asyncio.Event()
        self._remove_treadmill_listener = treadmill.add_listener(self._on_treadmill_event)

    # -- observation --------------------------------------------------------------------------
    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """`listener` gets every CommandEvent, SafetyEvent, TelemetryEvent and the StoppedEvent."""
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    @property
    def latched(self) -> bool:
        return self._latched

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def started(self) -> bool:
        return self._started

    @property
    def belt_mph(self) -> float:
        return centi_to_mph(self._belt_c)

    @property
    def commanded_mph(self) -> float | None:
        commanded = self._commanded
        if commanded is None or not self._started or self._paused:
            return None
        return commanded.mph

    @property
    def state(self) -> SessionState:
        if self._ended.is_set():
            return SessionState.fault if self.stop_reason == _FAULT_STOP else SessionState.stopped
        if self._latched:
            return SessionState.stopping
        if not self._started:
            return SessionState.idle
        return SessionState.paused if self._paused else SessionState.running

    def band(self, direction: Direction) -> Band:
        return self.backward_band if direction == "backward" else self.forward_band

    def now(self) -> float:
        """Seconds since the session started (the events' `t`)."""
        return self._loop.time() - self._t0

    # -- moving the belt ----------------------------------------------------------------------
    async def take_control(self) -> None:
        """Request Control. A refusal is a ConnectError (exit 4) unless the device is known to
        refuse and obey anyway (request_control_rejected)."""
        self._check_not_latched()
        try:
            await self._command("request_control", self._cp.request_control())
        except ControlPointError as err:
            if self._treadmill.quirks.request_control_rejected and err.result != "disconnected":
                log.info("request control refused; continuing (request_control_rejected quirk)")
                return
            self._emit_safety("control_refused", "stop", str(err))
            raise ConnectError(f"the treadmill refused control: {err.result}") from err

    async def start(self, direction: Direction = Direction.backward) -> None:
        """Start the belt at the floor speed. Only once per session: after a stop, never again.
        A pause that arrives meanwhile wins: the belt stays paused until the walker resumes."""
        async with self._move_lock:
            self._check_not_latched()
            if self._started:
                raise RuntimeError("the belt was already started in this session")
            self.direction = direction
            self._started = True
            self._arm_stale_timer()
            await self._run_at_floor()

    async def resume(self, source: str | None = None) -> None:
        """Resume after a pause, at the floor speed. For the local side only (the pacer's
        turn-around, the walker's key); SessionControl offers no way to call it remotely.

        With `source` (e.g. "turnaround"), resume only a pause that source alone asked for:
        if someone else (MQTT, the control socket) paused meanwhile, BeltPaused is raised and
        the belt stays paused until the walker resumes with `resume()`.

        The later request wins: a pause asked for after this call (while it waited for a ramp
        to yield, or while its own writes are in flight) is not overridden; BeltPaused."""
        pauses = self._pause_count
        async with self._move_lock:
            self._check_not_latched()
            if not self._paused:
                return
            if self._pause_count != pauses:
                raise BeltPaused("paused again after the resume was asked for")
            others = self._pause_sources - {source} if source is not None else set()
            if others:
                raise BeltPaused(f"paused by {', '.join(sorted(others))}; the walker resumes")
            # Still `paused` during the writes, but a pause arriving meanwhile is a new one:
            # written (with its own echo due), and it stops _run_at_floor before its Start.
            self._resuming = True
            try:
                await self._run_at_floor()
            finally:
                self._resuming = False
            if self._pause_count != pauses:
                raise BeltPaused("paused again while resuming")
            self._paused = False
            self._pause_sources.clear()
            self._arm_stale_timer()

    async def set_target(self, mph: float, direction: Direction) -> float:
        """Ramp to `mph` (capped to the direction's band, rounded onto the device grid), one step
        of at most safety.max_step_mph per safety.step_interval_s. Returns the mph commanded at
        the end. LatchedError when a stop latched before or during the ramp; BeltPaused when
        paused."""
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
        lo, hi, inc = incline
        step = max(round(inc * 10), 1)
        deci = round(min(max(pct, lo), hi) * 10 / step) * step
        deci = min(max(deci, round(lo * 10)), round(hi * 10))
        async with self._move_lock:
            self._check_not_latched()
            try:
                await self._command(
                    "set_incline", self._cp.set_incline(deci), incline_pct=deci / 10
                )
            except ControlPointError:
                return None  # reported as a command event; a refused incline is not a hazard
        return deci / 10

    async def pause(self, source: str) -> StopAck:
        """Pause the belt (FTMS Stop/Pause with pause). If the pause fails, the belt is stopped
        instead: a pause request must make the belt safer, never leave it running."""
        if self._latched or not self._started:
            return StopAck(True, self.belt_mph, "latched" if self._latched else "not running")
        self._pause_count += 1  # any resume asked for before this pause yields to it
        if self._paused and not self._resuming:
            self._pause_sources.add(source)
            return StopAck(True, self.belt_mph, "already paused")
        self._paused = True
        self._pause_sources = {source}
        self._set_commanded(None)
        self._disarm_stale_timer()
        self._pause_echoes_due.append(self._loop.time() + PAUSE_ECHO_WINDOW_S)
        try:
            await self._command("pause", self._cp.pause(), source=source)
        except LatchedError:  # a stop overtook the Pause before it left: safer still
            return StopAck(True, self.belt_mph, "latched")
        except ControlPointError as err:
            self._emit_safety("pause_failed", "stop", str(err))
            return await self.stop("estop", source)
        return StopAck(True, self.belt_mph, "paused")

    # -- stopping -----------------------------------------------------------------------------
    def request_stop(self, reason: StopReason, source: str) -> None:
        """Latch, and put FTMS Stop on the wire now. Synchronous; idempotent (the first reason
        stays); a new Stop is written only when none is in flight or the last one failed."""
        first = not self._latched
        self._latched = True
        idle = self._stop_write is None or (
            self._stop_write.done() and not self._stop_acked.is_set()
        )
        if idle and self._started:
            self._stop_write = self._loop.create_task(self._write_stop(source))
        if first:
            self.stop_reason = reason
            self.stop_source = source
            self._disarm_stale_timer()
            self._spawn(self._finish_stop())

    async def stop(self, reason: StopReason, source: str) -> StopAck:
        """`request_stop`, then wait until the treadmill acknowledged the Stop (or the stop
        procedure ended without an acknowledgement)."""
        self.request_stop(reason, source)
        if not self._started:
            return StopAck(True, self.belt_mph, "stopped before the belt started")
        late = self._stop_write
        if self._ended.is_set() and late is not None:
            # The stop procedure already gave up; request_stop wrote Stop once more: its answer.
            with contextlib.suppress(Exception):
                await asyncio.shield(late)
            return self._stop_ack()
        acked = asyncio.ensure_future(self._stop_acked.wait())
        ended = asyncio.ensure_future(self._ended.wait())
        try:
            await asyncio.wait({acked, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            acked.cancel()
            ended.cancel()
        return self._stop_ack()

    def _stop_ack(self) -> StopAck:
        ok = self._stop_acked.is_set()
        return StopAck(ok, self.belt_mph, "stop acknowledged" if ok else "stop not acknowledged")

    async def stop_foreign_belt(self, source: str, *, attempts: int = MAX_STOP_ATTEMPTS) -> StopAck:
        """Stop a belt that something else started; only on a `foreign_belt=True` Supervisor.

        The session's stop procedure with one difference: the belt may be running although this
        Supervisor never started it. Latched already (nothing here can move the belt), it writes
        Request Control (a refusal is tolerated: some devices refuse control yet obey Stop),
        then Stop, and retries until telemetry shows 0 (at most `attempts` times, each waiting
        safety.stop_verify_timeout_s). The same events as a session stop: a CommandEvent per
        write, SafetyEvent `stop_unverified` if 0 was never seen, one StoppedEvent("estop").
        Returns once that procedure ended: `acknowledged` if some Stop was answered success."""
        if not self._foreign_belt:
            raise RuntimeError("stop_foreign_belt() needs a Supervisor built with foreign_belt")
        if self._foreign_stop_begun:
            raise RuntimeError("this foreign belt's stop was already asked for")
        self._foreign_stop_begun = True
        self.stop_source = source
        await self._retake_control()
        self._spawn(self._finish_stop(attempts))
        await self._ended.wait()
        return self._stop_ack()

    async def wait_ended(self) -> StopReason:
        """Wait until the session's stop is complete (belt verified at 0, or given up)."""
        await self._ended.wait()
        assert self.stop_reason is not None
        return self.stop_reason

    async def close(self) -> None:
        """Stop watching (the engine calls this once the session ended)."""
        self._disarm_stale_timer()
        self._remove_treadmill_listener()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def fault(self, reason: str, detail: str | None = None) -> None:
        """A safety reason to end the session now: SafetyEvent(reason, stop), then a fault stop."""
        if self._latched:
            return
        self.safety_reason = reason
        self.request_stop(_FAULT_STOP, "supervisor")
        self._emit_safety(reason, "stop", detail)

    # -- internals: moves ---------------------------------------------------------------------
    def _check_not_latched(self) -> None:
        if self._latched:
            raise LatchedError(f"the belt is stopped ({self.stop_reason}); start a new session")

    def _check_movable(self) -> None:
        self._check_not_latched()
        if not self._started:
            raise RuntimeError("start() the belt before setting a target")
        if self._paused:
            raise BeltPaused("the belt is paused; the walker resumes it")

    def _effective_target(self, mph: float, direction: Direction) -> Setpoint:
        band = self.band(direction)
        if self._hr_high_since is not None:
            return band.floor
        return band.for_request(mph)

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

    def _gate(self, op: str) -> None:
        """Asked by the control point in the step that hands a write to bleak: after the latch
        only Stop and Request Control leave, whatever was decided before (SPEC.md: the latch
        is atomic)."""
        if self._latched and op not in _WRITES_AFTER_LATCH:
            raise LatchedError(f"the belt is stopped ({self.stop_reason}); {op} not sent")

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
            await self._command("start", self._cp.start())
            if still_wanted():
                await self._write_speed(floor)
        else:
            await self._write_speed(floor)
            if still_wanted():
                await self._command("start", self._cp.start())

    async def _write_speed(self, setpoint: Setpoint) -> None:
        """Write `setpoint`'s parameter; the event reports what was written (in mph and km/h)."""
        self._set_commanded(setpoint)
        await self._command(
            "set_speed",
            self._cp.set_speed(setpoint.param),
            mph=round(setpoint.mph, 4),
            kmh=round(setpoint.kmh, 4),
        )

    def _set_commanded(self, setpoint: Setpoint | None) -> None:
        now = self._loop.time()
        new_c = setpoint.high_c if setpoint is not None else Fraction(0)
        old_c = self._commanded_c()
        if new_c < old_c:
            still_lagging = now < self._allowed_until
            self._allowed_c = max(self._allowed_c if still_lagging else Fraction(0), old_c)
            self._allowed_until = now + OVERSPEED_GRACE_S
        self._commanded = setpoint
        self._last_change_at = now

    async def _command(
        self,
        op: CommandOp,
        write: Awaitable[None],
        *,
        mph: float | None = None,
        kmh: float | None = None,
        incline_pct: float | None = None,
        source: str | None = None,
    ) -> None:
        """Await one control-point write and report it as a CommandEvent either way.

        The write is shielded: a caller that gives up (the pacer cancels a ramp at its segment's
        deadline) must not abandon a command already on the wire. It still gets its own answer,
        so that answer is never taken for the next command's, and it is reported (and a refusal
        still faults) like any other."""
        task = asyncio.ensure_future(
            self._report_command(
                op, write, mph=mph, kmh=kmh, incline_pct=incline_pct, source=source
            )
        )
        task.add_done_callback(_retrieve_exception)
        await asyncio.shield(task)

    async def _report_command(
        self,
        op: CommandOp,
        write: Awaitable[None],
        *,
        mph: float | None,
        kmh: float | None,
        incline_pct: float | None,
        source: str | None,
    ) -> None:
        try:
            await write
        except ControlPointError as err:
            self._emit(
                CommandEvent(
                    t=self.now(),
                    op=op,
                    mph=mph,
                    kmh=kmh,
                    incline_pct=incline_pct,
                    result=err.result,
                    source=source,
                )
            )
            if op in ("set_speed", "start") and not self._latched:
                reason = {"timeout": "no_answer", "disconnected": "disconnected"}.get(
                    err.result, "control_refused"
                )
                self.fault(reason, str(err))
            raise
        self._emit(
            CommandEvent(
                t=self.now(),
                op=op,
                mph=mph,
                kmh=kmh,
                incline_pct=incline_pct,
                result="success",
                source=source,
            )
        )

    # -- internals: the stop procedure -------------------------------------------------------
    async def _write_stop(self, source: str | None) -> bool:
        try:
            await self._cp.stop()
        except ControlPointError as err:
            self._emit(CommandEvent(t=self.now(), op="stop", result=err.result, source=source))
            return False
        # Only a belt seen at 0 after this acknowledgement verifies the stop: a 0 before it may
        # be a belt that has not yet begun to move after a Start (SPEC.md "Stop guarantees").
        self._belt_zero.clear()
        self._stop_acked.set()
        self._emit(CommandEvent(t=self.now(), op="stop", result="success", source=source))
        return True

    async def _finish_stop(self, max_attempts: int = MAX_STOP_ATTEMPTS) -> None:
        """Verify the belt reaches 0; retry Stop (reconnecting and retaking control as needed)
        until it does, the link cannot be restored, or the attempts run out. Then end, whatever
        went wrong on the way: a session must never hang in `stopping`."""
        may_run = self._started or self._foreign_belt
        verified = not may_run
        try:
            verified = await self._verify_stop(max_attempts) if may_run else True
        except Exception:
            log.exception("the stop procedure failed")
        finally:
            if not verified:
                self._emit_safety("stop_unverified", "stop", "the belt was not seen at 0")
            self._end()

    async def _verify_stop(self, max_attempts: int) -> bool:
        attempts = 0
        while attempts < max_attempts:
            attempts += 1
            relinked = False
            if not self._treadmill.is_connected:
                if not await self._restore_link():
                    return False
                relinked = True  # and control retaken: write Stop on the new link
            if attempts > 1 or relinked or self._stop_write is None:
                self._stop_write = self._loop.create_task(self._write_stop(self.stop_source))
            acked = await self._stop_write
            if not acked and not relinked and self._treadmill.is_connected:
                await self._retake_control()
                self._stop_write = self._loop.create_task(self._write_stop(self.stop_source))
                await self._stop_write
            if await self._wait_belt_zero(self._safety.stop_verify_timeout_s):
                return True
        return False

    async def _wait_belt_zero(self, timeout_s: float) -> bool:
        # _belt_zero is only set by a 0 seen after an acknowledged Stop, and such a 0 seen before
        # this wait still counts.
        self._link_lost.clear()
        zero = asyncio.ensure_future(self._belt_zero.wait())
        lost = asyncio.ensure_future(self._link_lost.wait())
        try:
            await asyncio.wait({zero, lost}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            zero.cancel()
            lost.cancel()
        return self._belt_zero.is_set()

    async def _restore_link(self) -> bool:
        deadline = self._loop.time() + RECONNECT_WINDOW_S
        while self._loop.time() < deadline:
            try:
                await self._treadmill.reconnect()
            except ConnectError as err:
                log.info("reconnect failed", error=str(err))
                await asyncio.sleep(RECONNECT_PAUSE_S)
                continue
            await self._retake_control()
            return True
        return False

    async def _retake_control(self) -> None:
        with contextlib.suppress(ControlPointError):
            await self._command("request_control", self._cp.request_control())

    def _end(self) -> None:
        if self._ended.is_set():
            return
        self._ended.set()
        assert self.stop_reason is not None
        self._emit(
            StoppedEvent(
                t=self.now(),
                reason=self.stop_reason,
                belt_mph=round(self.belt_mph, 3),
                source=self.stop_source,
            )
        )

    # -- internals: watching ------------------------------------------------------------------
    def _on_treadmill_event(self, event: TreadmillEvent) -> None:
        if isinstance(event, Telemetry):
            self._on_telemetry(event)
        elif isinstance(event, MachineStatus):
            self._on_machine_status(event)
        elif isinstance(event, Disconnected):
            self._on_disconnected()

    def _on_telemetry(self, tm: Telemetry) -> None:
        """A packet without the speed (split Treadmill Data: flags bit 0 set, or "n/a") says
        nothing about the belt: its report carries the last known speed, and it neither feeds
        the overspeed check nor keeps the stale watchdog quiet (that watchdog is about seeing
        the belt speed; a dropped link is caught by the disconnect event)."""
        has_speed = tm.speed_kmh is not None
        if tm.speed_kmh is not None:
            self._belt_c = round(tm.speed_kmh * 100)
        speed_kmh = tm.speed_kmh if tm.speed_kmh is not None else self._belt_c / 100
        report = TelemetryEvent(
            t=self.now(),
            speed_mph=round(kmh_to_mph(speed_kmh), 3),
            speed_kmh=speed_kmh,
            distance_m=tm.distance_m,
            incline_pct=tm.incline_pct,
            heart_rate_bpm=tm.heart_rate_bpm,
            elapsed_s=tm.elapsed_s,
        )
        self.last_telemetry = report
        if self._latched:
            if tm.speed_kmh == 0 and self._stop_acked.is_set():
                self._belt_zero.set()
        elif self._started:
            if has_speed:
                if not self._paused:
                    self._arm_stale_timer()
                self._check_overspeed(tm.received_at)
            self._check_heart_rate(tm.heart_rate_bpm, tm.received_at)
        self._emit(report)

    def _check_overspeed(self, now: float) -> None:
        commanded_c = self._commanded_c()
        allowed = commanded_c
        if self._belt_c <= commanded_c + self._tolerance_c:
            self._allowed_until = 0.0  # the belt has caught up with the decrease
        elif now < self._allowed_until:
            allowed = max(allowed, self._allowed_c)
        ceiling = self.band(self.direction).ceiling_c
        # Never above the band's ceiling, whatever was commanded.
        limit = min(allowed, ceiling) + self._tolerance_c
        if self._belt_c > limit:
            self.fault(
                "overspeed",
                f"belt {self.belt_mph:.2f} mph above the allowed {centi_to_mph(limit):.2f} mph",
            )

    def _check_heart_rate(self, bpm: int | None, now: float) -> None:
        limit = self._safety.max_heart_rate_bpm
        if limit is None or bpm is None:
            return
        if bpm <= limit:
            self._hr_high_since = None
            return
        if self._hr_high_since is None:
            self._hr_high_since = now
            self._emit_safety("heart_rate", "slow", f"{bpm} bpm above {limit} bpm")
            if not self._paused:
                self._spawn(self._slow_to_floor())
        elif now - self._hr_high_since >= self._safety.heart_rate_slow_s:
            self.fault("heart_rate", f"{bpm} bpm above {limit} bpm after slowing")

    async def _slow_to_floor(self) -> None:
        with contextlib.suppress(LatchedError, BeltPaused, ControlPointError):
            await self.set_target(0.0, self.direction)

    def _on_machine_status(self, status: MachineStatus) -> None:
        kind = status.kind
        if kind == "stopped_by_safety_key":
            self._machine_stop("safety_key", "safety key pulled")
        elif kind == "stopped_or_paused_by_user" and self._started:
            # One "paused" status per Pause we wrote is its echo. Any other one (a "stopped"
            # status, or a Pause pressed at the console, even while we hold the belt paused) is
            # someone at the console, and that ends the session, as it does while running: the
            # pacer's resume("turnaround") must never restart a belt the walker paused there.
            if not (status.control == "pause" and self._take_pause_echo(status.received_at)):
                self._machine_stop("console_stop", f"{status.control or 'stop'} at the console")
        elif kind == "control_permission_lost" and self._started:
            self.fault("control_lost", "the treadmill withdrew control")

    def _take_pause_echo(self, now: float) -> bool:
        """Use up the oldest pause echo still due; False when none is (the console's pause)."""
        while self._pause_echoes_due and self._pause_echoes_due[0] < now:
            self._pause_echoes_due.popleft()  # that Pause was never echoed
        if not self._pause_echoes_due:
            return False
        self._pause_echoes_due.popleft()
        return True

    def _machine_stop(self, reason: Literal["safety_key", "console_stop"], detail: str) -> None:
        if self._latched:
            return
        self.request_stop(reason, "treadmill")
        self._emit_safety(reason, "stop", detail)

    def _on_disconnected(self) -> None:
        self._link_lost.set()
        if not self._latched and self._started:
            self.fault("disconnected", "the link to the treadmill dropped")
        elif not self._started and not self._latched:
            self._emit_safety("disconnected", "stop", "the link dropped before the start")
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
        if not self._paused:
            self.fault(
                "telemetry_stale", f"no treadmill data for {self._safety.telemetry_timeout_s:g} s"
            )

    # -- internals: plumbing ------------------------------------------------------------------
    def _spawn(self, coro: object) -> None:
        assert asyncio.iscoroutine(coro)
        task: asyncio.Task[object] = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _emit_safety(self, reason: str, action: SafetyAction, detail: str | None = None) -> None:
        self._emit(SafetyEvent(t=self.now(), reason=reason, action=action, detail=detail))

    def _emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must never break the safety path
                log.exception("event listener failed", event_name=event.event)


def _retrieve_exception(task: asyncio.Future[None]) -> None:
    """A shielded command whose caller left: its error was already reported as an event."""
    if not task.cancelled():
        task.exception()
