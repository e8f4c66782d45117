"""`retrotread run` as a library call: validate everything, then run one session.

`prepare` checks every input (flags, config, plan, simulator profile and faults) before anything
connects, so bad input exits 2 with nothing moved. `run_session` then opens the treadmill (or the
simulator), attaches the outside controls (control socket, MQTT, live view) and drives the engine;
`run_to_result` does all of it on the right event loop (the virtual clock for `--sim`); its
`exit_code` is the one of SPEC.md. The simulator package is imported only for `--sim`; choosing
the target (device or simulator) and its loop is `retrotread.target`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import structlog
from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner

from retrotread import exit_codes
from retrotread.channels.sinks import (
    EventSink,
    JsonLinesSink,
    first_safety_stop,
    queued_std_streams,
)
from retrotread.config import CueMode, Settings, check_time_scale, load_settings
from retrotread.errors import ConnectError, InputError
from retrotread.events import Event, RpeEvent, StopReason, SummaryEvent
from retrotread.history.coach import suggest_for
from retrotread.history.record import SessionLog
from retrotread.inputs import ensure_writable_dir
from retrotread.session.control import SessionControl
from retrotread.session.engine import Confirm, EngineResult, Session, run_engine
from retrotread.session.journal import JournalWriter, append_event, new_session_id, sessions_dir
from retrotread.session.plan import Plan, load_plan, validate_max_speed
from retrotread.session.programs import DEFAULT_PROGRAM, load_program
from retrotread.target import (
    check_strap_faults,
    check_target,
    parse_sim_faults,
    run_on_target,
    sim_profile_for,
    simulated_treadmill,
)
from retrotread.treadmill import HeartRateStrap, Quirks, Treadmill
from retrotread.units import IMPERIAL, format_distance, format_speed
from retrotread.validation import check_rpe
from retrotread.wording import duration, stop_cause

if TYPE_CHECKING:
    from simulators.faults import FaultSpec
    from simulators.harness import Simulator
    from simulators.profiles import Profile

log = structlog.get_logger(__name__)

SessionAttachment = Callable[[SessionControl], AbstractAsyncContextManager[object]]
"""Something that lives alongside a running session (control socket, MQTT bridge, live view):
entered before connecting, left after the `summary` event."""

SimulatorHook = Callable[["Simulator"], None]


@dataclass(frozen=True)
class RunOptions:
    """The flags of `retrotread run`, plus hooks for the CLI and tests."""

    device: str | None = None
    sim: bool = False
    program: str | None = None
    plan_file: Path | None = None
    coach: bool = False  # --coach: the plan `retrotread coach` suggests now
    max_speed_mph: float | None = None
    yes: bool = False
    dry_run: bool = False  # check everything, connect to nothing (`prepare` only)
    json: bool = False
    mqtt: bool = False
    cues: CueMode | None = None  # --cues; None = config [cues] mode
    time_scale: float | None = None  # --sim only; None = the default below
    configured_time_scale: bool = False  # no --time-scale: True = config [sim] time_scale (CLI),
    # False = as fast as possible (tests)
    sim_profile: str | None = None
    sim_faults: tuple[str, ...] = ()
    sim_wire_log: Path | None = None  # --sim only: one JSON line per control-point write
    sim_hr_strap: bool = False  # --sim only: the simulator serves a heart-rate strap too
    hr_device: str | None = None  # a heart-rate strap; None = config [heart_rate] device
    hr_optional: bool = False  # a strap that cannot be reached: warn and run without it
    rpe: int | None = None  # --rpe: how hard it felt (Borg 6-20), recorded at the end unasked
    config_file: Path | None = None
    data_dir: Path | None = None  # overrides the configured one (tests)
    interactive: bool | None = None  # stdin is a terminal; None = ask sys.stdin
    confirm: Confirm | None = None  # how to ask the walker; None = read a line from stdin
    sinks: tuple[EventSink, ...] = ()
    # Sinks built once the settings are loaded: the plain lines for people need [display] units.
    settings_sinks: tuple[Callable[[Settings], EventSink], ...] = ()
    attachments: tuple[SessionAttachment, ...] = ()
    control_socket: bool = True
    handle_signals: bool = False  # SIGINT/SIGTERM/SIGHUP stop the belt (the CLI turns this on)
    on_simulator: SimulatorHook | None = None  # tests: inspect the simulated machine


@dataclass(frozen=True)
class PreparedRun:
    """Everything validated, nothing connected."""

    options: RunOptions
    settings: Settings
    plan: Plan
    profile: Profile | None
    faults: tuple[FaultSpec, ...]
    quirks: Quirks
    needs_confirmation: bool
    time_scale: float | None  # for --sim: the virtual clock's speed; None = as fast as possible
    cap_notice: str | None = None  # targets lowered to the user's cap: said once, at the start
    coach_reason: str | None = None  # --coach: why this plan, for people before it starts


@dataclass(frozen=True)
class SessionResult:
    session_id: str
    exit_code: int
    reason: StopReason
    summary: SummaryEvent
    journal: Path
    # The belt moved, was seen at 0 at the end, and no signal ended the session: worth asking
    # how hard it was (unless --rpe already said). Never after an unverified stop: the belt may
    # still be moving, and the walker must deal with it, not with a question.
    rpe_wanted: bool = False
    summary_text: str = ""  # the session in words, for people (`session_summary`)


def prepare(options: RunOptions) -> PreparedRun:
    """Validate every input; InputError (exit 2) with one line naming the field and its source.

    Everything that can be refused is refused here, before anything connects: the caps and the
    band width (the supervisor would refuse a too-narrow band only after connecting), the time
    scale, the plan, the simulator profile, and the journal's directory (checked last, since it
    is created if missing)."""
    check_target(options.device, options.sim)
    check_rpe(options.rpe)
    if not options.sim:
        for flag, given in (
            ("--time-scale", options.time_scale is not None),
            ("--sim-profile", options.sim_profile is not None),
            ("--sim-fault", bool(options.sim_faults)),
            ("--sim-wire-log", options.sim_wire_log is not None),
            ("--sim-hr-strap", options.sim_hr_strap),
        ):
            if given:
                raise InputError(f"{flag} works only with --sim")
    if options.sim and options.hr_device is not None:
        raise InputError(
            "--hr-device names a real strap, which the simulator cannot reach: "
            "use --sim-hr-strap for a simulated one"
        )
    if options.time_scale is not None:
        check_time_scale(options.time_scale)
    if options.program is not None and options.plan_file is not None:
        raise InputError("--program and --plan exclude each other: pick one")
    if options.coach and (options.program is not None or options.plan_file is not None):
        flag = "--program" if options.program is not None else "--plan"
        raise InputError(f"--coach and {flag} exclude each other: pick one")
    validate_max_speed(options.max_speed_mph)
    settings = load_settings(options.config_file)
    coach_reason: str | None = None
    if options.coach:
        suggestion = suggest_for(settings, options.data_dir or settings.data_dir())
        plan, coach_reason = suggestion.plan, suggestion.reason
    else:
        plan = (
            load_plan(options.plan_file)
            if options.plan_file is not None
            else load_program(options.program or DEFAULT_PROGRAM)
        )
    settings.check_speed_caps(options.max_speed_mph, forward=plan.has_forward())
    checked = plan.check_against(
        settings.session_safety(),
        options.max_speed_mph,
        heart_rate_limit_name=settings.max_heart_rate_name(),
    )
    cap_notice = _cap_notice(plan, checked, settings.display.units)
    plan = checked
    profile: Profile | None = None
    faults: tuple[FaultSpec, ...] = ()
    quirks = Quirks.from_names(settings.device.quirks)
    if options.sim:
        profile, faults = _load_simulation(options, settings)
        quirks = quirks.merged(Quirks.from_names(str(q) for q in profile.quirks))
    interactive = sys.stdin.isatty() if options.interactive is None else options.interactive
    needs_confirmation = not options.sim and not options.yes and not options.dry_run
    if needs_confirmation and not interactive:
        raise InputError(
            "refusing to start a real treadmill without confirmation: no terminal to press "
            "Enter on; pass --yes to start without asking"
        )
    time_scale = options.time_scale
    if time_scale is None and options.configured_time_scale:
        time_scale = settings.sim.time_scale
    if options.data_dir is not None:
        ensure_writable_dir(sessions_dir(options.data_dir), "data directory")
    else:
        ensure_writable_dir(sessions_dir(settings.data_dir()), settings.data_dir_source())
    return PreparedRun(
        options,
        settings,
        plan,
        profile,
        faults,
        quirks,
        needs_confirmation,
        time_scale,
        cap_notice,
        coach_reason=coach_reason,
    )


def _cap_notice(plan: Plan, checked: Plan, units: str = IMPERIAL) -> str | None:
    """One line for the walker when the user's caps lowered some of the plan's speeds (a
    built-in program cannot be edited, so its targets are lowered rather than refused)."""
    lowered = [
        (before, after)
        for before, after in zip(plan.segments, checked.segments, strict=True)
        if (after.target_mph or 0) < (before.target_mph or 0)
        or (after.max_mph or 0) < (before.max_mph or 0)
    ]
    if not lowered:
        return None
    top = max((after.target_mph or after.max_mph or 0.0) for _before, after in lowered)
    count = len(lowered)
    return (
        f"{count} segment{'s' if count > 1 else ''} of {plan.name} lowered to your cap "
        f"of {format_speed(top, units)}"
    )


def _load_simulation(
    options: RunOptions, settings: Settings
) -> tuple[Profile, tuple[FaultSpec, ...]]:
    faults = parse_sim_faults(options.sim_faults)
    check_strap_faults(options.sim_faults, options.sim_hr_strap)
    return sim_profile_for(options.sim_profile, settings), faults


async def run_session(options: RunOptions) -> SessionResult:
    """Validate, then run one session on the running loop; ConnectError (exit 4) and InputError
    (exit 2) propagate, every other end is a SessionResult."""
    return await run_prepared(prepare(options))


async def run_prepared(prepared: PreparedRun) -> SessionResult:
    options = prepared.options
    session_id = new_session_id()
    data_dir = options.data_dir or prepared.settings.data_dir()
    journal = JournalWriter.create(data_dir, session_id)
    sinks: list[EventSink] = [journal]
    if options.json:
        # A reader that goes away (`| head -2`) detaches this sink; the journal keeps every event.
        sinks.append(JsonLinesSink(sys.stdout, journal=journal.path))
    sinks.extend(options.sinks)
    sinks.extend(make(prepared.settings) for make in options.settings_sinks)
    # Kept for the summary in words: the same events as the journal, whatever the disk did.
    seen: list[Event] = []
    sinks.append(seen.append)
    label = "simulator" if options.sim else (options.device or "")
    session = Session(session_id, prepared.plan, label, sinks)
    session.notice = prepared.cap_notice
    interrupted_by: list[int] = []
    try:
        async with AsyncExitStack() as stack:
            # No write to stdout or stderr (a log line, the bell) may wait for its reader.
            stack.enter_context(queued_std_streams())
            if options.handle_signals:
                stack.enter_context(_stop_on_signals(session, interrupted_by))
            await stack.enter_async_context(_cues(prepared, session))
            for attach in _attachments(prepared, session_id):
                await stack.enter_async_context(attach(session))
            connect = await _connector(prepared, stack)
            confirm = _confirmation(options) if prepared.needs_confirmation else None
            result = await run_engine(
                session,
                connect,
                # The heart-rate limit resolved from [safety] and [user], not [safety] alone.
                prepared.settings.session_safety(),
                max_speed_mph=options.max_speed_mph,
                confirm=confirm,
                derived_heart_rate_limit=prepared.settings.heart_rate_limit_is_derived(),
            )
        if options.rpe is not None:
            # After `summary`, where an answer to the question would go: journal and --json.
            session.emit(RpeEvent(t=session.session_time(), rpe=options.rpe, source="flag"))
    finally:
        journal.discard_if_empty()
    return SessionResult(
        session_id=session_id,
        exit_code=exit_code_for(result, interrupted_by),
        reason=result.reason,
        summary=result.summary,
        journal=journal.path,
        rpe_wanted=(
            options.rpe is None
            and session.belt_started
            and result.belt_stopped
            and not interrupted_by
        ),
        summary_text=session_summary(
            SessionLog.from_events(session_id, seen, path=journal.path),
            prepared.settings.display.units,
        ),
    )


def record_rpe(
    result: SessionResult, rpe: int, source: Literal["prompt", "flag"] = "prompt"
) -> bool:
    """Append how hard the session felt to its journal, after `summary` (the answer to the
    question asked once the session was over). False, with a warning, when the journal cannot
    be written: the session itself is already on record."""
    event = RpeEvent(t=result.summary.t, rpe=rpe, source=source)
    try:
        # Never creates a journal: one that is gone (discarded) is not made anew.
        append_event(result.journal, event)
    except OSError as err:
        log.warning("the rating could not be recorded", journal=str(result.journal), error=str(err))
        return False
    return True


def exit_code_for(result: EngineResult, signals: Sequence[int] = ()) -> int:
    """0 needs both: the program completed AND the belt was seen stopped."""
    if result.reason == "completed" and result.belt_stopped:
        return exit_codes.SUCCESS
    if result.reason == "interrupted" and result.belt_stopped:
        if signal.SIGTERM in signals:
            return exit_codes.TERMINATED
        return exit_codes.HANGUP if signal.SIGHUP in signals else exit_codes.INTERRUPTED
    return exit_codes.STOPPED


_SIGNAL_SOURCES: dict[int, str] = {
    signal.SIGINT: "sigint",
    signal.SIGTERM: "sigterm",
    signal.SIGHUP: "sighup",
}


@contextlib.contextmanager
def _stop_on_signals(session: Session, received: list[int]) -> Any:
    """SIGINT / SIGTERM / SIGHUP stop the belt first (the hot path); the exit code comes
    afterwards. A terminal that hangs up must not leave the belt running."""
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        received.append(signum)
        session.request_stop(_SIGNAL_SOURCES[signum])

    for signum in _SIGNAL_SOURCES:
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        yield
    finally:
        for signum in _SIGNAL_SOURCES:
            loop.remove_signal_handler(signum)


def _cues(prepared: PreparedRun, session: Session) -> AbstractAsyncContextManager[object]:
    """What the walker hears (SPEC.md "Walker cues"); entered first, so it is left last and its
    closing cue can still be heard after the other channels have gone."""
    from retrotread.channels.cues import cue_channel

    durations = [segment.duration_s for segment in prepared.plan.segments]
    return cue_channel(
        session,
        prepared.settings.cues,
        durations,
        mode=prepared.options.cues,
        units=prepared.settings.display.units,
    )


def _attachments(prepared: PreparedRun, session_id: str) -> list[SessionAttachment]:
    options = prepared.options
    found: list[SessionAttachment] = []
    if options.control_socket:
        found.append(lambda control: _control_socket(control, session_id))
    if options.mqtt or prepared.settings.mqtt.enabled:
        mqtt, weight_kg = prepared.settings.mqtt, prepared.settings.user.weight_kg
        found.append(lambda control: _mqtt_bridge(control, mqtt, weight_kg))
    found.extend(options.attachments)
    return found


@contextlib.asynccontextmanager
async def _control_socket(control: SessionControl, session_id: str) -> AsyncIterator[None]:
    """The local stop channel. A session that `retrotread stop` could not reach must not start
    the belt, so any failure to serve it (a refused directory, a path that cannot be bound)
    raises ControlSocketError (exit 4, one line naming the directory and the fix) before the
    treadmill is connected."""
    from retrotread.channels.socket.server import serve_control_socket

    async with serve_control_socket(control, session_id) as path:
        log.debug("control socket ready", path=str(path))
        yield


@contextlib.asynccontextmanager
async def _mqtt_bridge(
    control: SessionControl, config: Any, weight_kg: float | None
) -> AsyncIterator[None]:
    from retrotread.channels.mqtt import bridge_session

    async with bridge_session(control, config, weight_kg=weight_kg):
        yield


async def _connector(prepared: PreparedRun, stack: AsyncExitStack) -> Any:
    """A coroutine function that connects to the treadmill (opening the simulator for --sim)."""
    options = prepared.options
    settings = prepared.settings
    command_timeout = settings.safety.command_timeout_s
    if options.sim:
        assert prepared.profile is not None
        try:
            simulator = await stack.enter_async_context(
                simulated_treadmill(
                    prepared.profile,
                    prepared.faults,
                    wire_log=options.sim_wire_log,
                    hr_strap=options.sim_hr_strap,
                )
            )
        except ValueError as err:  # profile and faults are checked already: the wire log file
            raise InputError(f"--sim-wire-log: {err}") from None
        if options.on_simulator is not None:
            options.on_simulator(simulator)

        async def connect_simulator() -> Treadmill:
            treadmill = await Treadmill.connect(
                simulator.address,
                quirks=prepared.quirks,
                scanner_backend=simulator.scanner_backend,
                client_backend=simulator.client_backend,
                command_timeout=command_timeout,
            )
            if simulator.strap_address is not None:
                await _attach_strap(
                    treadmill,
                    simulator.strap_address,
                    options.hr_optional,
                    stack,
                    scanner_backend=simulator.scanner_backend,
                    client_backend=simulator.client_backend,
                )
            return treadmill

        return connect_simulator
    assert options.device is not None
    target = options.device

    strap_target = options.hr_device or settings.heart_rate.device

    async def connect_device() -> Treadmill:
        treadmill = await Treadmill.connect(
            target,
            quirks=prepared.quirks,
            scan_timeout=settings.device.connect_timeout_s,
            command_timeout=command_timeout,
        )
        if strap_target is not None:
            await _attach_strap(
                treadmill,
                strap_target,
                options.hr_optional,
                stack,
                scan_timeout=settings.device.connect_timeout_s,
            )
        return treadmill

    return connect_device


async def _attach_strap(
    treadmill: Treadmill,
    target: str,
    optional: bool,
    stack: AsyncExitStack,
    *,
    scan_timeout: float = 10.0,
    scanner_backend: type[BaseBleakScanner] | None = None,
    client_backend: type[BaseBleakClient] | None = None,
) -> None:
    """Connect the heart-rate strap once the treadmill's link is up (never both at once: the
    strap waits on the treadmill's connect lock) and feed its heart rate into Telemetry.

    A strap that cannot be reached is a ConnectError (exit 4, the treadmill let go first, the
    belt never started); with `--hr-optional` a warning, and the session runs without it."""
    try:
        strap = await HeartRateStrap.connect(
            target,
            connect_lock=treadmill.connect_lock,
            scanner_backend=scanner_backend,
            client_backend=client_backend,
            scan_timeout=scan_timeout,
        )
    except ConnectError as err:
        if optional:
            log.warning("running without the heart-rate strap", reason=str(err))
            return
        await treadmill.disconnect()
        raise
    stack.push_async_callback(strap.close)
    treadmill.use_heart_rate(strap)


def _confirmation(options: RunOptions) -> Confirm:
    if options.confirm is None:
        raise InputError(
            "refusing to start a real treadmill without confirmation: nothing can ask the "
            "walker; pass --yes to start without asking"
        )
    return options.confirm


def run_to_result(options: RunOptions) -> SessionResult:
    """Validate, then run the session on the right loop: the virtual clock for --sim."""
    return run_prepared_to_result(prepare(options))


def run_prepared_to_result(prepared: PreparedRun) -> SessionResult:
    """Run a prepared session on the right loop (the CLI says the coach's reason in between)."""
    return run_on_target(
        run_prepared(prepared), sim=prepared.options.sim, time_scale=prepared.time_scale
    )


def session_summary(log: SessionLog, units: str = IMPERIAL) -> str:
    """The end of a session in words, for the person beside the treadmill: who or what stopped
    it, backward and forward time, average backward speed, heart rate, distance, the journal.

    Read from the session's events as `SessionLog` reads a journal, so these figures are the
    ones `retrotread show` gives for the same session."""
    stopped = log.stopped
    cause = (
        stop_cause(stopped.reason, stopped.source, first_safety_stop(log.events))
        if stopped is not None
        else "The session ended without a stop on record"
    )
    lines = [f"{cause}."]
    if stopped is not None and stopped.belt_mph > 0:
        lines.append(
            f"The belt was last seen moving at {format_speed(stopped.belt_mph, units)}: "
            "check it, stop it at the console."
        )
    average = log.avg_backward_mph
    lines += [
        f"  time        {duration(log.duration_s)} in all: "
        f"{duration(log.backward_s)} backward, {duration(log.forward_s)} forward",
        "  backward    "
        + (f"{format_speed(average, units)} on average" if average is not None else "none"),
        f"  distance    {format_distance(log.distance_m, units)}",
        f"  heart rate  {_heart_rate(log)}",
    ]
    if log.path is not None:
        lines.append(f"  journal     {log.path}")
    lines.append("`retrotread show last` to see more.")
    return "\n".join(lines)


def _heart_rate(log: SessionLog) -> str:
    average, top = log.avg_heart_rate_bpm, log.max_heart_rate_bpm
    if average is None or top is None:
        return "none reported"
    sources = log.heart_rate_sources
    source = f" ({' and '.join(sources)})" if sources else ""
    return f"{average:.0f} bpm on average, {top} bpm at most{source}"
