"""Event sinks: where a session's events go besides the journal.

A sink is a plain synchronous callable taking one event. `--json` writes every event as one line on
stdout; without it and without a terminal, a person still gets readable lines on stderr (the live
view in `retrotread.cli.live` replaces them on a terminal).

A sink whose destination is gone for good (a reader that went away, a full disk) raises
`SinkClosed` once; the session then detaches it and says why in one line. Nothing a sink does may
reach the belt: the session goes on either way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from retrotread.errors import SinkClosed
from retrotread.events import (
    CommandEvent,
    ConnectedEvent,
    Event,
    PromptEvent,
    SafetyEvent,
    SegmentEvent,
    StoppedEvent,
    SummaryEvent,
    TelemetryEvent,
)
from retrotread.logs import give_up_stream

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


class PlainTextSink:
    """Readable lines for a log or a non-terminal stderr; telemetry only every `telemetry_every_s`
    session seconds, because one line per second would drown what matters."""

    def __init__(
        self, stream: TextIO | None, telemetry_every_s: float = 30.0, *, name: str = "stderr"
    ) -> None:
        self._stream = stream
        self._telemetry_every_s = telemetry_every_s
        self._next_telemetry_t = 0.0
        self._closed_note = f"{name} closed: no more human lines; the session goes on"

    def __call__(self, event: Event) -> None:
        if isinstance(event, TelemetryEvent):
            if event.t < self._next_telemetry_t:
                return
            self._next_telemetry_t = event.t + self._telemetry_every_s
        text = describe(event)
        if text is not None:
            write_line(self._stream, f"[{format_clock(event.t)}] {text}\n", self._closed_note)


def format_clock(seconds: float) -> str:
    whole = max(0, int(seconds))
    return f"{whole // 60:02d}:{whole % 60:02d}"


def describe(event: Event) -> str | None:
    """One human line for an event, or None for events a person need not see (routine commands)."""
    match event:
        case ConnectedEvent():
            lo, hi, inc = event.speed_range_kmh
            return f"connected to {event.device} (speed {lo:g}-{hi:g} km/h, step {inc:g})"
        case SegmentEvent():
            return (
                f"segment {event.index + 1}: {event.name}, {event.direction} "
                f"at {event.target_mph:.1f} mph for {format_clock(event.duration_s)}"
            )
        case CommandEvent() if event.result != "success":
            return f"command {event.op} failed: {event.result}"
        case CommandEvent():
            return None
        case TelemetryEvent():
            parts = [f"belt {event.speed_mph:.2f} mph"]
            if event.distance_m is not None:
                parts.append(f"{event.distance_m:.0f} m")
            if event.heart_rate_bpm is not None:
                source = f" ({event.heart_rate_source})" if event.heart_rate_source else ""
                parts.append(f"{event.heart_rate_bpm} bpm{source}")
            return ", ".join(parts)
        case SafetyEvent():
            detail = f" ({event.detail})" if event.detail else ""
            return f"SAFETY: {event.reason} -> {event.action}{detail}"
        case PromptEvent():
            return f">>> {event.message}"
        case StoppedEvent():
            line = f"stopped: {event.reason} (belt {event.belt_mph:.2f} mph)"
            if event.belt_mph > 0:
                line += "; the belt was last seen moving: check it, stop it at the console"
            return line
        case SummaryEvent():
            return (
                f"{event.outcome}: {format_clock(event.duration_s)}, {event.distance_m:.0f} m, "
                f"max {event.max_speed_mph:.2f} mph; session {event.session}"
            )
    return None
