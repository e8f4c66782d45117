"""Event sinks: where a session's events go besides the journal.

A sink is a plain synchronous callable taking one event. `--json` writes every event as one line on
stdout; plain text for people (`PlainTextSink`) goes to stdout without `--json` and to stderr with
it, whether or not the live view (`retrotread.cli.live`) is drawn on the terminal too.

A sink whose destination is gone for good (a reader that went away, a full disk) raises
`SinkClosed` once; the session then detaches it and says why in one line. Nothing a sink does may
reach the belt: the session goes on either way.

The words people read about a session live here too, in the `[display] units`: who or what
stopped it (`stop_cause`, never a bare `estop`), who paused the belt, what the supervisor saw.
The live view and the end-of-session summary use the same words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from retrotread.errors import SinkClosed
from retrotread.events import (
    CommandEvent,
    ConnectedEvent,
    CueEvent,
    Event,
    PromptEvent,
    SafetyEvent,
    SafetyReason,
    SegmentEvent,
    StoppedEvent,
    StopReason,
    SummaryEvent,
    TelemetryEvent,
)
from retrotread.logs import give_up_stream
from retrotread.units import IMPERIAL, format_distance, format_speed, kmh_to_mph

EventSink = Callable[[Event], None]


def write_line(stream: TextIO | None, line: str, closed_note: str) -> None:
    """Write and flush one line; `SinkClosed(closed_note)` if the stream cannot take it.

    Flushed per line so that a pipe reader sees each line at once. A stream that failed is
    pointed at /dev/null (`give_up_stream`), so that the interpreter's last flush at exit cannot
    fail on the text left in its buffer. `stream` is None when Python started with that
    descriptor closed (`retrotread run --json >&-`)."""
    if stream is None:
        raise SinkClosed(closed_note)
    try:
        stream.write(line)
        stream.flush()
    except (OSError, ValueError) as err:  # ValueError: a file object closed under us
        give_up_stream(stream)
        raise SinkClosed(closed_note) from err


def write_text(stream: TextIO | None, text: str) -> bool:
    """Write text for a person after the session (its summary) and say whether it got there.

    A stream that is gone is not an error here: the sink that wrote to it during the session
    has said so once already, and the belt is stopped either way."""
    try:
        write_line(stream, text if text.endswith("\n") else text + "\n", "")
    except SinkClosed:
        return False
    return True


class JsonLinesSink:
    """One JSON object per line, flushed per event so a pipe reader sees it at once.

    `journal` names where the events still go once this stream is closed, for the one line that
    says so."""

    def __init__(
        self, stream: TextIO | None, *, name: str = "stdout", journal: Path | None = None
    ) -> None:
        self._stream = stream
        self._closed_note = (
            f"{name} closed: events go on in the journal {journal}"
            if journal is not None
            else f"{name} closed: its events are no longer written"
        )

    def __call__(self, event: Event) -> None:
        write_line(self._stream, event.to_json() + "\n", self._closed_note)


# -- words ----------------------------------------------------------------------------------------

SAFETY_WORDS: dict[SafetyReason, str] = {
    "overspeed": "belt overspeed",
    "telemetry_stale": "no data from the treadmill",
    "disconnected": "the link to the treadmill dropped",
    "heart_rate": "heart rate above the limit",
    "estop": "emergency stop",
    "safety_key": "safety key pulled",
    "console_stop": "stopped at the console",
    "control_refused": "the treadmill refused a command",
    "control_lost": "the treadmill withdrew control",
    "no_answer": "the treadmill stopped answering",
    "pause_failed": "the pause failed",
    "start_failed": "the belt could not be started",
    "pacer_error": "an internal error in the pacing",
    "stop_unverified": "the belt was not seen to stop",
    "heart_rate_lost": "no heart rate",
    "struggle": "shorter steps",
}
"""What the supervisor saw (`safety.reason`), in words."""

SOURCE_WORDS: dict[str, str] = {
    "sigint": "by you (Ctrl-C)",
    "sigterm": "by a termination signal (SIGTERM)",
    "sighup": "because the terminal closed (SIGHUP)",
    "keyboard": "by you (a key in the live view)",
    "walker": "by the walker",
    "control-socket": "from another terminal (the control socket)",
    "mqtt": "remotely (MQTT)",
    "treadmill": "at the treadmill",
    "supervisor": "by the supervisor",
    "program": "by the program",
    "engine": "by an internal error",
    "connect": "because the treadmill could not be reached",
}
"""Who asked for a stop or a pause (`StopSource`), as "Stopped ..." / "Paused ..." goes on."""


def by_whom(source: str | None) -> str:
    """`by you (Ctrl-C)`, `remotely (MQTT)`, ...: who asked, for a line about a stop or pause."""
    if source is None:
        return ""
    return SOURCE_WORDS.get(source, f"by {source}")


def stop_cause(
    reason: StopReason, source: str | None = None, safety: SafetyEvent | None = None
) -> str:
    """Who or what ended a session, as a person says it: "Program complete", "Stopped by you
    (Ctrl-C)", "Safety key pulled", "Stopped by the supervisor: belt overspeed".

    `safety` is the session's first safety event with action `stop` (when there was one): it
    says what the supervisor saw for a `fault` stop, and that a failed pause became the stop."""
    match reason:
        case "completed":
            return "Program complete"
        case "safety_key":
            return "Safety key pulled"
        case "console_stop":
            return "Stopped from the console"
        case "estop" if safety is not None and safety.reason == "pause_failed":
            return "Stopped: the pause failed, so the belt was stopped instead"
        case "estop" if source == "control-socket":
            return "Stopped by `retrotread stop` from another terminal"
        case "estop" if source == "walker":
            return "Not started: the start was not confirmed"
        case "fault" if safety is not None:
            return f"Stopped by the supervisor: {SAFETY_WORDS.get(safety.reason, safety.reason)}"
        case "fault" if source in ("engine", "connect"):
            return f"Stopped {by_whom(source)}"
        case "fault":
            return "Stopped by the supervisor"
        case "estop" | "interrupted" if source is not None:
            return f"Stopped {by_whom(source)}"
    return "Emergency stop" if reason == "estop" else "Interrupted"


def first_safety_stop(events: Iterable[Event]) -> SafetyEvent | None:
    """The safety event that ended a session (the first with action `stop`), if any."""
    return next(
        (e for e in events if isinstance(e, SafetyEvent) and e.action == "stop"),
        None,
    )


def format_clock(seconds: float) -> str:
    whole = max(0, int(seconds))
    return f"{whole // 60:02d}:{whole % 60:02d}"


def _incline(pct: float | None) -> str:
    return f", incline {pct:g} %" if pct else ""


def describe(event: Event, units: str = IMPERIAL, *, segments: int | None = None) -> str | None:
    """One human line for an event, or None for events a person need not see (routine commands,
    cues: what the walker hears is said, and its prompts are shown).

    Without the session's context: a `fault` stop is "Stopped by the supervisor" without what it
    saw (`PlainLines` remembers the safety event), and a segment is not "n of N" unless
    `segments` says how many there are."""
    match event:
        case ConnectedEvent():
            lo, hi, _ = event.speed_range_kmh
            lowest = format_speed(kmh_to_mph(lo), units, unit=False)
            highest = format_speed(kmh_to_mph(hi), units)
            return f"connected to {event.device} (belt {lowest} to {highest})"
        case SegmentEvent():
            of = f" of {segments}" if segments else ""
            length = format_clock(event.duration_s)
            if event.remaining_s is not None and event.remaining_s < event.duration_s - 0.5:
                length = f"{format_clock(event.remaining_s)} (of {length})"
            return (
                f"segment {event.index + 1}{of}: {event.name}, {event.direction} at "
                f"{format_speed(event.target_mph, units)} for {length}{_incline(event.incline_pct)}"
            )
        case CommandEvent(op="pause", result="success", source="turnaround"):
            return "belt paused for the turn-around"
        case CommandEvent(op="pause", result="success"):
            return (
                f"PAUSED {by_whom(event.source) or 'by request'}: the belt stops and waits; "
                "Ctrl-C or `retrotread stop` ends the session"
            )
        case CommandEvent() if event.result != "success":
            return f"command {event.op} failed: {event.result}"
        case CommandEvent() | CueEvent():
            return None
        case TelemetryEvent():
            parts = [f"belt {format_speed(event.speed_mph, units)}"]
            if event.distance_m is not None:
                parts.append(format_distance(event.distance_m, units))
            if event.incline_pct:
                parts.append(f"incline {event.incline_pct:g} %")
            if event.heart_rate_bpm is not None:
                source = f" ({event.heart_rate_source})" if event.heart_rate_source else ""
                parts.append(f"{event.heart_rate_bpm} bpm{source}")
            return ", ".join(parts)
        case SafetyEvent(reason="safety_key" | "console_stop", detail=str() as detail):
            return f"SAFETY: {detail} -> {event.action}"  # the detail says it in full
        case SafetyEvent():
            detail = f" ({event.detail})" if event.detail else ""
            words = SAFETY_WORDS.get(event.reason, event.reason)
            return f"SAFETY: {words} -> {event.action}{detail}"
        case PromptEvent():
            return _prompt_line(event)
        case StoppedEvent():
            return stopped_line(event, None, units)
        case SummaryEvent():
            outcome = "complete" if event.outcome == "completed" else "stopped"
            return (
                f"session {outcome}: {format_clock(event.duration_s)}, "
                f"{format_distance(event.distance_m, units)}, "
                f"top speed {format_speed(event.max_speed_mph, units)}; `retrotread show last`"
            )
    return None


def _prompt_line(event: PromptEvent) -> str | None:
    if event.message:
        return f">>> {event.message}"
    spent = [
        f"{what} {format_clock(seconds)}"
        for what, seconds in (
            ("slowing", event.slowing_s),
            ("turning", event.holding_s),
            ("ramping", event.ramping_s),
        )
        if seconds is not None
    ]
    if event.phase == "done" and spent:
        return f"turn-around done: {', '.join(spent)}"
    return None  # an empty prompt clears the screen's; nothing to say in a log


def stopped_line(event: StoppedEvent, safety: SafetyEvent | None, units: str = IMPERIAL) -> str:
    """The line for the `stopped` event: why, and whether the belt was seen at 0."""
    cause = stop_cause(event.reason, event.source, safety)
    if event.belt_mph > 0:
        return (
            f"{cause}; the belt was last seen moving at {format_speed(event.belt_mph, units)}: "
            "check it, stop it at the console"
        )
    return f"{cause}; the belt is stopped"


class PlainLines:
    """`describe` with the session's context, folded from the events it is shown: how many
    segments the plan has, the safety event behind a `fault` stop, whether the belt was paused
    (its restart is said), and whether a stop has begun (after which no segment or turn-around
    is announced: the belt will never walk it)."""

    def __init__(self, units: str = IMPERIAL) -> None:
        self.units = units
        self._segments: int | None = None
        self._stop_safety: SafetyEvent | None = None
        self._stopping = False
        self._paused = False  # paused by a person or channel (not for a turn-around)

    def line(self, event: Event) -> str | None:
        match event:
            case ConnectedEvent(plan=dict() as plan):
                segments = plan.get("segments")
                self._segments = len(segments) if isinstance(segments, list) else None
            case SafetyEvent(action="stop"):
                self._stopping = True
                if self._stop_safety is None:
                    self._stop_safety = event
            case CommandEvent(op="stop") | StoppedEvent() | SummaryEvent():
                self._stopping = True
            case CueEvent(kind="stopping" | "stopped" | "belt_moving"):
                self._stopping = True
            case SegmentEvent() if self._stopping:
                return None
            case PromptEvent(kind="start" | "resume" | "turnaround") if self._stopping:
                return None  # nothing will start, resume or turn any more
            case CommandEvent(op="pause", result="success", source=source):
                self._paused = source != "turnaround"
            case CommandEvent(op="start", result="success") if self._paused:
                self._paused = False
                return "belt moving again after the pause"
            case _:
                pass
        if isinstance(event, StoppedEvent):
            return stopped_line(event, self._stop_safety, self.units)
        return describe(event, self.units, segments=self._segments)


class PlainTextSink:
    """Readable lines for people without the live view: a log, a file, a pipe, or the terminal
    beside the JSON stream. Telemetry only every `telemetry_every_s` session seconds, because one
    line per second would drown what matters; `units` is `[display] units`.

    The `summary` event is not repeated here: the session's summary in words follows the session
    (`retrotread.run.SessionResult.summary_text`)."""

    def __init__(
        self,
        stream: TextIO | None,
        telemetry_every_s: float = 30.0,
        *,
        name: str = "stderr",
        units: str = IMPERIAL,
    ) -> None:
        self._stream = stream
        self._telemetry_every_s = telemetry_every_s
        self._next_telemetry_t = 0.0
        self._lines = PlainLines(units)
        self._closed_note = f"{name} closed: no more human lines; the session goes on"

    def __call__(self, event: Event) -> None:
        if isinstance(event, TelemetryEvent):
            if event.t < self._next_telemetry_t:
                return
            self._next_telemetry_t = event.t + self._telemetry_every_s
        text = self._lines.line(event)
        if text is not None and not isinstance(event, SummaryEvent):
            write_line(self._stream, f"[{format_clock(event.t)}] {text}\n", self._closed_note)
