"""The session engine: the start protocol, the program, and the end of a session.

`Session` is the running session as the outside world sees it (it implements `SessionControl`
for the control socket, MQTT and the live view); `run_engine` drives one session from connecting
to the `summary` event. Every event, the supervisor's included, goes through `Session.emit`, so the
journal, `--json`, the live view and every listener see the same stream in the same order. None of
them can reach the belt's logic: one that fails is detached with one line on stderr (SPEC: a
closed stdout never affects the belt; nor does a closed stderr or a full disk).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog

from retrotread.config import SafetyConfig
from retrotread.errors import BeltPaused, ConnectError, RetrotreadError, SinkClosed
from retrotread.events import (
    ConnectedEvent,
    CueEvent,
    CueKind,
    Direction,
    Event,
    PromptEvent,
    PromptKind,
    SafetyEvent,
    SessionState,
    StopAck,
    StoppedEvent,
    StopReason,
    SummaryEvent,
    TelemetryEvent,
)
from retrotread.safety.latch import Latch
from retrotread.safety.supervisor import Supervisor
from retrotread.session.control import EventListener, SessionStatus
from retrotread.session.pacer import (
    MOVE_COUNTDOWN_S,
    RESUMING_TEXT,
    Pacer,
    segment_direction,
    stays_paused,
)
from retrotread.session.plan import Plan
from retrotread.treadmill import Treadmill

log = structlog.get_logger(__name__)

STOP_UNVERIFIED = "stop_unverified"
"""The supervisor's safety reason when the belt was never seen at 0 after a stop."""

INTERRUPT_SOURCES = frozenset({"sigint", "sigterm", "sighup"})
"""Stop sources that mean "the user interrupted the program" rather than an emergency stop."""


def stop_reason_for(source: str) -> StopReason:
    """Every outside stop is an emergency stop (exit 3) except the interrupt signals (130/143)."""
    return "interrupted" if source in INTERRUPT_SOURCES else "estop"


FINAL_STOP_TIMEOUT_S = 60.0
"""How long a session that failed unexpectedly waits for its belt to be seen stopped."""

Confirm = Callable[[str], Awaitable[bool]]
"""Asks the walker to confirm the start, showing the given text; False means do not start."""


class Session:
    """One session's identity, event stream and outside controls (a `SessionControl`).

    `device_label` starts as what the user asked for (`--device`, or "simulator") and becomes the
    connected treadmill's address once connected, so `status().device` equals the address exactly
    and `retrotread stop --device ADDR` can match a running session by equality. Humans keep the
    advertised name: the `connected` event names the device by it (its address when unnamed).
    """

    def __init__(
        self,
        session_id: str,
        plan: Plan,
        device_label: str,
        sinks: Sequence[Callable[[Event], None]],
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self.id = session_id
        self.plan = plan
        self.device_label = device_label
        self.t0 = self._loop.time()
        self._sinks = list(sinks)
        self._listeners: list[EventListener] = []
        self.supervisor: Supervisor | None = None
        self.pacer: Pacer | None = None
        self.state = SessionState.idle
        # A stop requested before the supervisor exists: the belt never starts.
        # The belt's one latch, from the start: a stop asked for before the supervisor exists
        # closes it, and the supervisor is built on it (so the belt never starts).
        self.latch = Latch()
        self.notice: str | None = None  # said once after connecting (speeds lowered to a cap)
        self.stop_requested = asyncio.Event()
        self.stopped_event: StoppedEvent | None = None
        self.stop_unverified = False
        self.max_speed_mph = 0.0
        self.distance_m = 0.0
        self.last_telemetry: TelemetryEvent | None = None

    def session_time(self) -> float:
        return self._loop.time() - self.t0

    def facing(self) -> Direction:
        """The way the walker faces now: the current segment's (after a turn-around's turn, the
        new one's), not the supervisor's ceiling, which changes only once the belt moves on."""
        progress = self.pacer.progress if self.pacer is not None else None
        if progress is not None:
            return segment_direction(progress.segment)
        if self.supervisor is not None:
            return self.supervisor.direction
        return segment_direction(self.plan.segments[0])

    @property
    def belt_started(self) -> bool:
        """The belt was started in this session (it may have stopped since)."""
        return self.supervisor is not None and self.supervisor.started

    # -- events -------------------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        if isinstance(event, TelemetryEvent):
            self.last_telemetry = event
            self.max_speed_mph = max(self.max_speed_mph, event.speed_mph)
            if event.distance_m is not None:
                self.distance_m = max(self.distance_m, event.distance_m)
        elif isinstance(event, StoppedEvent):
            self.stopped_event = event
        elif isinstance(event, SafetyEvent) and event.reason == STOP_UNVERIFIED:
            self.stop_unverified = True
        for consumer in [*self._sinks, *self._listeners]:
            try:
                consumer(event)
            except Exception as err:  # an output problem must never reach the belt's logic
                self._detach(consumer, err)

    def _detach(self, consumer: Callable[[Event], None], error: Exception) -> None:
        """Drop a sink or listener that failed, for good, and say so once.

        `emit` is called from inside the supervisor's stop procedure (the CommandEvent of an
        acknowledged Stop, the final StoppedEvent): anything raised here would end that procedure
        half-way and leave the session waiting in `stopping` for an end that never comes. So this
        guard must not fail itself: the report is a plain log call (no `event=` keyword, which
        structlog reserves for the message) inside a suppress. A consumer that failed once is
        dropped rather than retried: a closed pipe fails on every event, and a line of traceback
        per telemetry packet buried the one line that mattered."""
        with contextlib.suppress(ValueError):
            self._sinks.remove(consumer)
        with contextlib.suppress(ValueError):
            self._listeners.remove(consumer)
        with contextlib.suppress(Exception):
            if isinstance(error, SinkClosed):
                log.warning(str(error))
                log.debug("sink closed", cause=repr(error.__cause__))
            else:
                log.warning(
                    "an event listener failed and was detached; the session goes on",
                    listener=repr(consumer)[:200],
                    error=repr(error),
                )
                log.debug("event listener failure", exc_info=error)

    def add_listener(self, listener: EventListener) -> Callable[[], None]:
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    # -- SessionControl -----------------------------------------------------------------------
    def status(self) -> SessionStatus:
        supervisor = self.supervisor
        progress = self.pacer.progress if self.pacer is not None else None
        # The supervisor's own view of the belt: a telemetry packet without a speed is not 0.
        if supervisor is not None:
            belt = supervisor.belt_mph
        else:
            belt = self.last_telemetry.speed_mph if self.last_telemetry is not None else 0.0
        return SessionStatus(
            session=self.id,
            state=self.current_state(),
            program=self.plan.name,
            segment=progress.segment.name if progress is not None else None,
            segment_index=progress.index if progress is not None else None,
            belt_mph=belt,
            target_mph=supervisor.commanded_mph if supervisor is not None else None,
            elapsed_s=round(self.session_time(), 3),
            device=self.device_label,
        )

    def current_state(self) -> SessionState:
        if self.state in (SessionState.stopped, SessionState.fault):
            return self.state
        if self.supervisor is not None and self.supervisor.started:
            return self.supervisor.state
        if self.stop_requested.is_set():
            return SessionState.stopping
        return self.state

    def request_stop(self, source: str) -> None:
        """Hot path: latch and write FTMS Stop now (through the supervisor once it exists)."""
        reason = stop_reason_for(source)
        if self.supervisor is not None:
            self.supervisor.request_stop(reason, source)
        elif not self.latch.latched:
            self.latch.latch(reason, source)
        self.stop_requested.set()

    async def stop(self, source: str) -> StopAck:
        self.request_stop(source)
        if self.supervisor is None:
            return StopAck(True, 0.0, "stopped before the belt started")
        return await self.supervisor.stop(stop_reason_for(source), source)

    async def resume_local(self) -> None:
        """Resume after a pause, at the floor speed. Deliberately not part of SessionControl:
        only the walker at the treadmill (the live view's keys) may start the belt again.

        The resume is asked for when the countdown begins: a pause from any channel that
        arrives during the countdown wins, the belt stays paused and the walker is told so."""
        supervisor = self.supervisor
        if supervisor is None:
            return
        pauses = supervisor.pause_count
        try:
            await _countdown(self, supervisor, "resuming", RESUMING_TEXT, "resume", self.facing())
            await supervisor.resume(pauses_seen=pauses)
        except BeltPaused as err:
            log.info("stays paused", reason=str(err))
            if not supervisor.latched:
                for event in stays_paused(
                    self.session_time(), supervisor.last_pause_source, self.facing()
                ):
                    self.emit(event)
        except RetrotreadError as err:  # latched meanwhile: the session can only end
            log.warning("cannot resume", error=str(err))
        else:
            _clear_prompt(self, supervisor, "resume")

    async def pause(self, source: str) -> StopAck:
        if self.supervisor is None or not self.supervisor.started:
            # Nothing moves yet: the safest reading of "pause" is not to start at all.
            return await self.stop(source)
        return await self.supervisor.pause(source)


@dataclass(frozen=True)
class EngineResult:
    reason: StopReason
    summary: SummaryEvent
    belt_stopped: bool  # False when the belt was never seen at 0 after the stop


async def run_engine(
    session: Session,
    connect: Callable[[], Awaitable[Treadmill]],
    safety: SafetyConfig,
    *,
    max_speed_mph: float | None,
    confirm: Confirm | None,
    derived_heart_rate_limit: bool = False,
) -> EngineResult:
    """Connect, confirm, take control, start at the floor, run the plan, stop; always ends with
    `stopped` and `summary`. ConnectError (exit 4) propagates after those two events."""
    session.state = SessionState.starting
    treadmill: Treadmill | None = None
    supervisor: Supervisor | None = None
    try:
        treadmill = await connect()
        session.device_label = treadmill.info.address
        session.emit(_connected_event(session, treadmill))
        if session.notice is not None:
            session.emit(
                PromptEvent(t=session.session_time(), message=session.notice, kind="notice")
            )
        if confirm is not None and not session.stop_requested.is_set():
            confirmed = await _confirm_or_stop(session, confirm)
            if not confirmed and not session.latch.latched:
                session.latch.latch("estop", "walker")
        if session.latch.latched:
            reason, source = session.latch.reason, session.latch.source
            assert reason is not None
            return _close(session, reason, source or "engine")
        forward = any(segment_direction(s) == "forward" for s in session.plan.segments)
        supervisor = Supervisor(
            treadmill,
            safety,
            max_speed_mph=max_speed_mph,
            t0=session.t0,
            forward_segments=forward,
            latch=session.latch,
            derived_heart_rate_limit=derived_heart_rate_limit,
        )
        supervisor.add_listener(session.emit)
        session.supervisor = supervisor
        await _drive(session, supervisor, safety)
        return _close(session, "fault", "engine")
    except ConnectError:
        _close(session, "fault", "connect")
        raise
    except RetrotreadError:  # foreseeable (e.g. no device speed in the band): one line, no trace
        await _stop_for_good(supervisor)
        _close(session, "fault", "engine")
        raise
    except Exception:
        log.exception("session failed")
        await _stop_for_good(supervisor)
        _close(session, "fault", "engine")
        raise
    finally:
        if supervisor is not None:
            await _stop_for_good(supervisor)
            await supervisor.close()
        if treadmill is not None:
            with contextlib.suppress(Exception):
                await treadmill.disconnect()


async def _stop_for_good(supervisor: Supervisor | None) -> None:
    """Whatever went wrong (a bug, a cancellation), never leave the belt running."""
    if supervisor is None or supervisor.ended:
        return
    supervisor.request_stop("fault", "engine")
    with contextlib.suppress(Exception):
        await asyncio.wait_for(supervisor.wait_ended(), FINAL_STOP_TIMEOUT_S)


async def _drive(session: Session, supervisor: Supervisor, safety: SafetyConfig) -> StopReason:
    """Take control, start, run the program; whatever happens, wait for the verified stop."""
    plan = session.plan
    try:
        await supervisor.take_control()
        first_direction = segment_direction(plan.segments[0])
        await _countdown(
            session, supervisor, "starting", "Belt starting in 3, 2, 1", "start", first_direction
        )
        # Latched during the countdown: `start` refuses (LatchedError, below) and nothing moves.
        await supervisor.start(first_direction)
        _clear_prompt(session, supervisor, "start")
    except ConnectError:
        if not supervisor.latched:
            supervisor.request_stop("fault", "engine")
        await supervisor.wait_ended()
        raise
    except Exception as err:  # LatchedError, a start answered with a failure, a dropped link
        if not supervisor.latched:
            supervisor.fault("start_failed", str(err))
        return await supervisor.wait_ended()
    session.state = SessionState.running
    pacer = Pacer(
        supervisor,
        session.emit,
        session.session_time,
        floor_mph=safety.min_backward_mph,
        turnaround_mode=plan.turnaround_mode or safety.turnaround_mode,
        turnaround_hold_s=plan.turnaround_hold_s or safety.turnaround_hold_s,
    )
    session.pacer = pacer
    program = asyncio.ensure_future(pacer.run(plan, first_direction))
    ended = asyncio.ensure_future(supervisor.wait_ended())
    try:
        await asyncio.wait({program, ended}, return_when=asyncio.FIRST_COMPLETED)
        if program.done() and not supervisor.latched:
            error = program.exception()
            if error is None:
                await supervisor.stop("completed", "program")
            else:
                log.error("the pacer failed; stopping the belt", error=str(error))
                supervisor.fault("pacer_error", str(error))
        return await ended
    finally:
        program.cancel()
        with contextlib.suppress(asyncio.CancelledError, RetrotreadError):
            await program


async def _countdown(
    session: Session,
    supervisor: Supervisor,
    kind: CueKind,
    text: str,
    prompt: PromptKind,
    direction: Direction,
) -> None:
    """Tell the walker (a cue, and a prompt for whoever watches the screen), then wait
    MOVE_COUNTDOWN_S before the belt moves; a stop (from any channel, or the supervisor's own
    latch) ends the wait at once. The wait holds nothing the stop path needs: Stop is written
    by `request_stop`, never behind this."""
    if supervisor.latched:
        return
    now = session.session_time()
    moves = "starting" if prompt == "start" else "moving again"
    session.emit(
        PromptEvent(
            t=now,
            message=f"Belt {moves} in {MOVE_COUNTDOWN_S:g} s: walk {direction.upper()}",
            kind=prompt,
            direction=direction,
            in_s=MOVE_COUNTDOWN_S,
        )
    )
    session.emit(CueEvent(t=now, kind=kind, text=text, in_s=MOVE_COUNTDOWN_S))
    stopping = asyncio.ensure_future(session.stop_requested.wait())
    ended = asyncio.ensure_future(supervisor.wait_ended())
    try:
        await asyncio.wait({stopping, ended}, timeout=MOVE_COUNTDOWN_S)
    finally:
        stopping.cancel()
        ended.cancel()


def _clear_prompt(session: Session, supervisor: Supervisor, kind: PromptKind) -> None:
    """The countdown is over and the belt moves: nothing is left to show (unless a stop came
    first, whose own events tell what happens)."""
    if not supervisor.latched:
        session.emit(PromptEvent(t=session.session_time(), message="", kind=kind))


async def _confirm_or_stop(session: Session, confirm: Confirm) -> bool:
    """Ask for confirmation, but let a stop request (Ctrl-C, the socket) end the wait."""
    text = _plan_text(session.plan)
    session.emit(
        PromptEvent(
            t=session.session_time(), message="Press Enter to start the belt", kind="confirm"
        )
    )
    asking = asyncio.ensure_future(confirm(text))
    stopping = asyncio.ensure_future(session.stop_requested.wait())
    try:
        await asyncio.wait({asking, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        asking.cancel()
    return asking.done() and not asking.cancelled() and asking.result()


def _plan_text(plan: Plan) -> str:
    lines = [f"program {plan.name}: {plan.title}".rstrip(": ")]
    for segment in plan.segments:
        speed = (
            f"{segment.target_mph:.1f} mph"
            if segment.target_mph is not None
            else f"{segment.min_mph:.1f}-{segment.max_mph:.1f} mph"
        )
        lines.append(
            f"  {segment.name}: {segment.direction.value} {speed} for {segment.duration_s:g} s"
        )
    return "\n".join(lines)


def _connected_event(session: Session, treadmill: Treadmill) -> ConnectedEvent:
    info = treadmill.info
    return ConnectedEvent(
        t=session.session_time(),
        device=info.name or info.address,
        speed_range_kmh=info.speed_range_kmh,
        incline_range_pct=info.incline_range_pct,
        features=list(info.features),
        target_settings=list(info.target_settings),
        program=session.plan.name,
        plan=session.plan.model_dump(mode="json", exclude_none=True),
    )


def _close(session: Session, reason: StopReason, source: str) -> EngineResult:
    """Emit the closing events: `stopped` (the supervisor's, or ours with `reason` when the belt
    never started) and `summary`."""
    if session.stopped_event is None:
        session.emit(
            StoppedEvent(t=session.session_time(), reason=reason, belt_mph=0.0, source=source)
        )
    assert session.stopped_event is not None
    final = session.stopped_event.reason
    session.state = SessionState.fault if final == "fault" else SessionState.stopped
    summary = SummaryEvent(
        t=session.session_time(),
        # "completed" promises what exit 0 promises: the program ran out AND the belt was seen
        # at 0. A program whose Stop was never confirmed did not complete safely.
        outcome="completed" if final == "completed" and not session.stop_unverified else "stopped",
        duration_s=round(session.session_time(), 3),
        distance_m=round(session.distance_m, 1),
        max_speed_mph=round(session.max_speed_mph, 3),
        session=session.id,
        program=session.plan.name,
    )
    session.emit(summary)
    return EngineResult(reason=final, summary=summary, belt_stopped=not session.stop_unverified)
