"""The belt's state machine and the stop procedure: how a session's belt ends, and only ends.

`Latch` is the state machine (no asyncio, no I/O), one `BeltState` and named transitions:

    idle --start--> running --pause--> paused --resume--> resuming --resumed--> running
                                                          resuming --resume_failed--> paused
    idle | running | paused | resuming --latch--> latched --end--> ended

A transition from any other state raises `IllegalTransition`. `latched` is the stop latch: from
there the only way is `end`, once the stop procedure is over, and `ended` is final; a new belt
needs a new session. While latched, `gate()` lets out only Stop and Request Control, and the
control point asks it in the very step a write is handed to bleak, so a write decided a moment
before the stop still stays home (SPEC.md "Stop guarantees": the latch is atomic). `resuming` is
still paused: the resume's writes are in flight, and a pause arriving meanwhile makes it fail.

`StopProcedure` is the one stop procedure, for a session's belt and for a belt something else
started (`safety.foreign_belt`): write FTMS Stop, verify it (an acknowledged Stop, then the belt
seen at 0; a 0 before any acknowledgement is a belt that has not begun to move), retry,
reconnect and retake control as needed, then end the latch whatever went wrong on the way.

`Reports` is where both holders of the control point report: CommandEvent per write, SafetyEvent,
TelemetryEvent, the final StoppedEvent.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

import structlog

from retrotread.errors import ConnectError, ControlPointError, LatchedError
from retrotread.events import (
    CommandEvent,
    CommandOp,
    Event,
    SafetyAction,
    SafetyEvent,
    SafetyReason,
    SessionState,
    StopAck,
    StoppedEvent,
    StopReason,
    StopSource,
    TelemetryEvent,
)
from retrotread.safety.limits import centi_to_mph
from retrotread.treadmill import ControlPoint, Telemetry, Treadmill
from retrotread.units import kmh_to_mph

log = structlog.get_logger(__name__)

Listener = Callable[[Event], None]
# Stop attempts (each waits safety.stop_verify_timeout_s for belt == 0) before giving up.
MAX_STOP_ATTEMPTS = 6
RECONNECT_WINDOW_S = 15.0
RECONNECT_PAUSE_S = 1.0
# The only writes the stop latch lets out: the Stop itself, and Request Control to retry it.
WRITES_AFTER_LATCH: Final = frozenset({"stop", "request_control"})


class BeltState(enum.Enum):
    idle = "idle"  # nothing written that moves the belt yet
    running = "running"
    paused = "paused"
    resuming = "resuming"  # still paused: the resume's writes are in flight
    latched = "latched"  # a stop was asked for: the stop procedure runs, nothing moves the belt
    ended = "ended"  # the stop procedure is over (the belt verified at 0, or given up)


_S = BeltState
_PAUSED: Final = frozenset({_S.paused, _S.resuming})
# transition -> {from: to}; anything else raises.
_TRANSITIONS: Final[Mapping[str, Mapping[BeltState, BeltState]]] = {
    "start": {_S.idle: _S.running},
    "pause": {_S.running: _S.paused},
    "resume": {_S.paused: _S.resuming},
    "resumed": {_S.resuming: _S.running},
    "resume_failed": {_S.resuming: _S.paused},
    "latch": {state: _S.latched for state in (_S.idle, _S.running, _S.paused, _S.resuming)},
    "end": {_S.latched: _S.ended},
}
# What a session reports in each state; an ended one is `stopped`, or `fault` after a fault stop.
_SESSION_STATES: Final[Mapping[BeltState, SessionState]] = {
    _S.idle: SessionState.idle,
    _S.running: SessionState.running,
    _S.paused: SessionState.paused,
    _S.resuming: SessionState.paused,
    _S.latched: SessionState.stopping,
}


class IllegalTransition(RuntimeError):
    """A transition the belt's state does not allow: a programming error, never a hazard."""


class Latch:
    """One belt's state, and the stop latch with the first stop's reason and source."""

    def __init__(self) -> None:
        self._state = BeltState.idle
        self._latched_from: BeltState | None = None
        self.reason: StopReason | None = None  # the first stop's, once latched
        self.source: StopSource | None = None

    @property
    def state(self) -> BeltState:
        return self._state

    @property
    def latched(self) -> bool:
        """A stop was asked for (the stop procedure may be over)."""
        # Identity, not set membership: the emergency path and the gate ask this on every call.
        return self._state is _S.latched or self._state is _S.ended

    @property
    def ended(self) -> bool:
        return self._state is BeltState.ended

    @property
    def latched_from(self) -> BeltState | None:
        """The state the latch closed over; None before the latch."""
        return self._latched_from

    @property
    def started(self) -> bool:
        """The belt was started (before the latch, if latched): it may be running."""
        before = self._latched_from
        return (self._state if before is None else before) is not _S.idle

    @property
    def paused(self) -> bool:
        """Paused or resuming (before the latch, if latched)."""
        before = self._latched_from
        return (self._state if before is None else before) in _PAUSED

    @property
    def session_state(self) -> SessionState:
        """The belt's state as a session reports it: an ended fault stop is `fault`."""
        if self._state is BeltState.ended:
            return SessionState.fault if self.reason == "fault" else SessionState.stopped
        return _SESSION_STATES[self._state]

    # -- transitions --------------------------------------------------------------------------
    def start(self) -> None:
        self._move("start")

    def pause(self) -> None:
        self._move("pause")

    def resume(self) -> None:
        self._move("resume")

    def resumed(self) -> None:
        self._move("resumed")

    def resume_failed(self) -> None:
        self._move("resume_failed")

    def latch(self, reason: StopReason, source: StopSource) -> None:
        """Close the latch: from here on only Stop and Request Control leave (see `gate`)."""
        before = self._state
        self._move("latch")
        self._latched_from = before
        self.reason = reason
        self.source = source

    def end(self) -> None:
        """The stop procedure is over: the only way out of the latch."""
        self._move("end")

    def _move(self, transition: str) -> None:
        to = _TRANSITIONS[transition].get(self._state)
        if to is None:
            raise IllegalTransition(f"cannot {transition} the belt when {self._state.value}")
        self._state = to

    def gate(self, op: str) -> None:
        """Asked by the control point in the step that hands a write to bleak: after the latch
        only Stop and Request Control leave, whatever was decided before."""
        state = self._state
        if (state is _S.latched or state is _S.ended) and op not in WRITES_AFTER_LATCH:
            raise LatchedError(f"the belt is stopped ({self.reason}); {op} not sent")


class Reports:
    """Where the holder of the control point reports: every listener gets every event, `t` in
    seconds since `t0`. A listener that fails is logged and never breaks the safety path.
    `on_refused` hears of every refused command, after its event and before it is raised."""

    def __init__(
        self, t0: float, *, on_refused: Callable[[CommandOp, ControlPointError], None] | None = None
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._t0 = t0
        self._on_refused = on_refused
        self._listeners: list[Listener] = []

    def now(self) -> float:
        return self._loop.time() - self._t0

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    def emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must never break the safety path
                log.exception("event listener failed", event_name=event.event)

    def safety(self, reason: SafetyReason, action: SafetyAction, detail: str | None = None) -> None:
        self.emit(SafetyEvent(t=self.now(), reason=reason, action=action, detail=detail))

    async def command(
        self,
        op: CommandOp,
        write: Awaitable[None],
        *,
        mph: float | None = None,
        kmh: float | None = None,
        incline_pct: float | None = None,
        source: str | None = None,
    ) -> None:
        """Await one control-point write and report it as a CommandEvent either way; a refusal
        is reported, handed to `on_refused`, then raised.

        The write is shielded: a caller that gives up (the pacer cancels a ramp at its segment's
        deadline) must not abandon a command already on the wire. It still gets its own answer,
        so that answer is never taken for the next command's, and it is reported (and a refusal
        still reaches `on_refused`) like any other."""
        task = asyncio.ensure_future(
            self._report(op, write, mph=mph, kmh=kmh, incline_pct=incline_pct, source=source)
        )
        task.add_done_callback(_retrieve_exception)
        await asyncio.shield(task)

    async def _report(
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
            self.emit(
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
            if self._on_refused is not None:
                self._on_refused(op, err)
            raise
        self.emit(
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


def _retrieve_exception(task: asyncio.Future[None]) -> None:
    """A shielded command whose caller left: its error was already reported as an event."""
    if not task.cancelled():
        task.exception()


class StopProcedure:
    """Stop the belt behind `latch` and verify it, then end the latch.

    `write_stop()` puts a Stop on the wire at once (the emergency path: no await before it);
    `run()`, awaited once after the latch, does the rest: verify, retry, reconnect, give up,
    end. It watches the belt through `observe()` (every Treadmill Data packet) and
    `link_lost()`."""

    def __init__(
        self,
        latch: Latch,
        treadmill: Treadmill,
        control_point: ControlPoint,
        reports: Reports,
        verify_timeout_s: float,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._latch = latch
        self._treadmill = treadmill
        self._cp = control_point
        self._reports = reports
        self._verify_timeout_s = verify_timeout_s
        self.belt_c = 0  # the last belt speed seen, centi-km/h
        self._stop_write: asyncio.Task[bool] | None = None
        self._stop_acked = asyncio.Event()
        self._belt_zero = asyncio.Event()
        self._link_lost = asyncio.Event()
        self._ended = asyncio.Event()

    @property
    def belt_mph(self) -> float:
        return centi_to_mph(self.belt_c)

    @property
    def acknowledged(self) -> bool:
        """Some Stop was answered success."""
        return self._stop_acked.is_set()

    # -- watching the belt --------------------------------------------------------------------
    def observe(self, tm: Telemetry) -> TelemetryEvent:
        """Take the belt speed from a Treadmill Data packet and return its report (to emit).

        A packet without the speed (split Treadmill Data: flags bit 0 set, or "n/a") says
        nothing about the belt: its report carries the last known speed, and it never verifies
        a stop."""
        if tm.speed_kmh is not None:
            self.belt_c = round(tm.speed_kmh * 100)
        speed_kmh = tm.speed_kmh if tm.speed_kmh is not None else self.belt_c / 100
        if self._latch.latched and tm.speed_kmh == 0 and self._stop_acked.is_set():
            self._belt_zero.set()
        return TelemetryEvent(
            t=self._reports.now(),
            speed_mph=round(kmh_to_mph(speed_kmh), 3),
            speed_kmh=speed_kmh,
            distance_m=tm.distance_m,
            incline_pct=tm.incline_pct,
            heart_rate_bpm=tm.heart_rate_bpm,
            heart_rate_source=tm.heart_rate_source,
            elapsed_s=tm.elapsed_s,
        )

    def link_lost(self) -> None:
        self._link_lost.set()

    # -- stopping -----------------------------------------------------------------------------
    def write_stop(self, source: StopSource) -> None:
        """Put FTMS Stop on the wire now, unless one is in flight or one was acknowledged."""
        write = self._stop_write
        if write is None or (write.done() and not self._stop_acked.is_set()):
            self._stop_write = self._loop.create_task(self._write_stop(source))

    async def run(self, max_attempts: int = MAX_STOP_ATTEMPTS, *, belt_may_run: bool) -> None:
        """The rest of the procedure, awaited once after the latch: verify that the belt reaches
        0; retry Stop (reconnecting and retaking control as needed) until it does, the link
        cannot be restored, or the attempts run out. Then end the latch, whatever went wrong on
        the way: a session must never hang in `stopping`. A belt that never started cannot run:
        nothing to verify."""
        verified = not belt_may_run
        try:
            verified = await self._verify(max_attempts) if belt_may_run else True
        except Exception:
            log.exception("the stop procedure failed")
        finally:
            if not verified:
                self._reports.safety("stop_unverified", "stop", "the belt was not seen at 0")
            self._end()

    async def retake_control(self) -> None:
        """Request Control, reported; a refusal is tolerated (some devices obey Stop anyway)."""
        with contextlib.suppress(ControlPointError):
            await self._reports.command("request_control", self._cp.request_control())

    async def answer(self) -> StopAck:
        """Wait until a Stop was acknowledged or the procedure ended without one."""
        late = self._stop_write
        if self._ended.is_set() and late is not None:
            # The procedure already gave up; a later stop wrote Stop once more: its answer.
            with contextlib.suppress(Exception):
                await asyncio.shield(late)
            return self.ack()
        acked = asyncio.ensure_future(self._stop_acked.wait())
        ended = asyncio.ensure_future(self._ended.wait())
        try:
            await asyncio.wait({acked, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            acked.cancel()
            ended.cancel()
        return self.ack()

    def ack(self) -> StopAck:
        ok = self._stop_acked.is_set()
        return StopAck(ok, self.belt_mph, "stop acknowledged" if ok else "stop not acknowledged")

    async def wait_ended(self) -> None:
        await self._ended.wait()

    # -- the procedure ------------------------------------------------------------------------
    async def _write_stop(self, source: StopSource | None) -> bool:
        try:
            await self._cp.stop()
        except ControlPointError as err:
            self._reports.emit(
                CommandEvent(t=self._reports.now(), op="stop", result=err.result, source=source)
            )
            return False
        # Only a belt seen at 0 after this acknowledgement verifies the stop: a 0 before it may
        # be a belt that has not yet begun to move after a Start (SPEC.md "Stop guarantees").
        self._belt_zero.clear()
        self._stop_acked.set()
        self._reports.emit(
            CommandEvent(t=self._reports.now(), op="stop", result="success", source=source)
        )
        return True

    async def _verify(self, max_attempts: int) -> bool:
        attempts = 0
        while attempts < max_attempts:
            attempts += 1
            relinked = False
            if not self._treadmill.is_connected:
                if not await self._restore_link():
                    return False
                relinked = True  # and control retaken: write Stop on the new link
            if attempts > 1 or relinked or self._stop_write is None:
                self._stop_write = self._loop.create_task(self._write_stop(self._latch.source))
            acked = await self._stop_write
            if not acked and not relinked and self._treadmill.is_connected:
                await self.retake_control()
                self._stop_write = self._loop.create_task(self._write_stop(self._latch.source))
                await self._stop_write
            if await self._wait_belt_zero(self._verify_timeout_s):
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
            await self.retake_control()
            return True
        return False

    def _end(self) -> None:
        if self._ended.is_set():
            return
        self._ended.set()
        self._latch.end()
        assert self._latch.reason is not None
        self._reports.emit(
            StoppedEvent(
                t=self._reports.now(),
                reason=self._latch.reason,
                belt_mph=round(self.belt_mph, 3),
                source=self._latch.source,
            )
        )
