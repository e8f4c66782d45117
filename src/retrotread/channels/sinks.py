"""Event sinks: where a session's events go besides the journal.

A sink is a plain synchronous callable taking one event. `--json` writes every event as one line on
stdout; plain text for people (`PlainTextSink`) goes to stdout without `--json` and to stderr with
it, whether or not the live view (`retrotread.cli.live`) is drawn on the terminal too.

A sink whose destination is gone for good (a reader that went away, a full disk) raises
`SinkClosed` once; the session then detaches it and says why in one line. Nothing a sink does may
reach the belt: the session goes on either way.

Nor may a sink wait. The session's loop runs the supervisor, its watchdogs and every remote stop,
and a plain write blocks for as long as the reader does not read (`run --json | less`, a terminal
paused with Ctrl-S, a reader that went to sleep). So a stream with a file descriptor gets one
writer thread per destination (`StreamWriter`; stdout and stderr on the same pipe or terminal
share one, so their lines stay in order): the loop only queues a line. A queue that reaches
QUEUE_LIMIT_CHARS drops lines, with one warning (the journal, a file written apart from these,
keeps every event). `drain_outputs` waits, boundedly, for what is queued once the session is
over; `queued_std_streams` sends everything else written to `sys.stdout` and `sys.stderr`
meanwhile (logs, the bell) the same way.

Lines are in the `[display] units` and in the words of `retrotread.wording` (who or what stopped
the session, never a bare `estop`; who paused the belt; what the supervisor saw), which the live
view, the end-of-session summary, the plot and `history` share.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import select
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TextIO

import structlog

from retrotread.errors import SinkClosed
from retrotread.events import (
    CommandEvent,
    ConnectedEvent,
    CueEvent,
    Event,
    PromptEvent,
    SafetyEvent,
    SegmentEvent,
    StoppedEvent,
    SummaryEvent,
    TelemetryEvent,
)
from retrotread.logs import give_up_stream
from retrotread.units import IMPERIAL, format_distance, format_speed, kmh_to_mph
from retrotread.wording import (
    by_whom,
    clock,
    heart_rate_text,
    safety_words,
    stop_cause,
    turnaround_phases,
)

EventSink = Callable[[Event], None]

log = structlog.get_logger(__name__)

QUEUE_LIMIT_CHARS = 4 * 1024 * 1024
"""Text one destination may hold queued while its reader does not read: hours of a session's
events at real time, so a reader that pauses (`less`, Ctrl-S) loses nothing; past it lines are
dropped until the reader takes some."""
CHUNK_CHARS = 16 * 1024
"""At most this much text per write: progress stays visible to `drain_outputs`."""
DRAIN_STALL_S = 2.0
"""After the session, a destination that took nothing for this long is given up."""
DRAIN_LIMIT_S = 30.0
"""After the session, the longest wait for all queued text (a reader that reads very slowly)."""


class StreamWriter:
    """One thread writing queued text to one destination (a file descriptor), so that the writer
    never waits for its reader.

    `put` never blocks: it appends to a queue of at most `limit_chars` characters and drops the
    line when the queue is full (one warning, the first time). The thread writes with `os.write`
    on the descriptor, not through the Python stream: a thread stuck in a write must not hold the
    stream's buffer lock, which the interpreter takes at exit to flush `sys.stdout`. A write that
    fails (the reader went away) ends the thread and gives the destination up (`give_up_stream`);
    the next `put` raises `SinkClosed`."""

    def __init__(
        self,
        stream: TextIO,
        fd: int,
        name: str,
        *,
        limit_chars: int = QUEUE_LIMIT_CHARS,
    ) -> None:
        self.name = name
        self._fd = fd
        self._encoding = getattr(stream, "encoding", None) or "utf-8"
        self._streams: list[TextIO] = [stream]
        self._limit = limit_chars
        self._queue: deque[tuple[str, str]] = deque()
        self._queued = 0
        self._busy = 0  # the lines of the batch being written
        self._progress_t = time.monotonic()
        self._failure: BaseException | None = None
        self._failed_note = ""
        self._abandoned = False  # given up after the session: said already, lines dropped
        self.reported = False  # a sink or `drain_outputs` has said that the destination is gone
        self.dropped = 0
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"retrotread-{name}", daemon=True)
        self._thread.start()

    def serve(self, stream: TextIO) -> None:
        """Another stream object for the same destination: given up with it."""
        if all(stream is not known for known in self._streams):
            self._streams.append(stream)

    @property
    def usable(self) -> bool:
        return self._failure is None and self._thread.is_alive()

    @property
    def writing(self) -> bool:
        """A batch is being written (perhaps waiting for its reader to make room)."""
        with self._cond:
            return self._busy > 0

    @property
    def idle(self) -> bool:
        return not self._queue and not self._busy

    def put(self, text: str, closed_note: str = "") -> None:
        """Queue `text`; `SinkClosed(closed_note)` once the destination is gone."""
        warn = False
        with self._cond:
            if self._abandoned:
                return
            if self._failure is not None:
                self.reported = True
                raise SinkClosed(closed_note) from self._failure
            if self._queued + len(text) > self._limit:
                self.dropped += 1
                warn = self.dropped == 1
            else:
                self._queue.append((text, closed_note))
                self._queued += len(text)
                self._cond.notify()
        if warn:  # outside the lock: the warning may come back here (stderr's own writer)
            with contextlib.suppress(Exception):
                log.warning(
                    f"{self.name} is not being read: lines are dropped while it is full "
                    "(the journal keeps every event)"
                )

    def drain(self, until: float, stall_s: float) -> bool:
        """Wait until all queued text is written; False when the reader took nothing for
        `stall_s` seconds, the monotonic clock passed `until`, or the destination is gone."""
        started = time.monotonic()
        with self._cond:
            while not self.idle and self._failure is None:
                now = time.monotonic()
                quiet = now - max(started, self._progress_t)
                if now >= until or quiet >= stall_s:
                    return False
                self._cond.wait(min(until - now, stall_s - quiet))
            return self._failure is None

    def abandon(self) -> int:
        """Give the destination up (its reader stalled): how many queued lines are lost."""
        with self._cond:
            lost = len(self._queue) + self._busy
            self._queue.clear()
            self._queued = 0
            if self._failure is None:
                self._failure = TimeoutError(f"{self.name} is not being read")
                self._abandoned = self.reported = True
            self._cond.notify_all()
        self._give_up()
        return lost

    def close(self, timeout_s: float = 1.0) -> bool:
        """Write nothing more, queued or not, and wait up to `timeout_s` for the thread to end:
        True when it did (it no longer touches the descriptor, which may then be closed)."""
        with self._cond:
            self._queue.clear()
            self._queued = 0
            if self._failure is None:
                self._failure = ValueError(f"{self.name} writer closed")
                self.reported = True
            self._cond.notify_all()
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def unreported_failure(self) -> str | None:
        """The closed note of a failure no sink has said yet (it happened after the last line
        its sinks were given), once."""
        with self._cond:
            if self._failure is None or self.reported:
                return None
            self.reported = True
            return self._failed_note or f"{self.name} closed: its lines are no longer written"

    def _give_up(self) -> None:
        for stream in self._streams:
            give_up_stream(stream)

    def _run(self) -> None:
        """The thread: write batches until the destination fails or is given up. Anything
        unexpected ends it as a failure, so `put` stops queueing for a thread that is gone."""
        try:
            self._write_batches()
        except BaseException as err:
            with self._cond:
                first = self._failure is None
                if first:
                    self._failure = OSError(f"the writer stopped: {err!r}")
                self._queue.clear()
                self._queued = 0
                self._busy = 0
                self._cond.notify_all()
            if first:
                self._give_up()

    def _write_batches(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    if self._failure is not None:
                        return
                    self._cond.wait()
                batch: list[str] = []
                size = 0
                note = self._queue[0][1]
                while self._queue and size < CHUNK_CHARS:
                    text, _ = self._queue.popleft()
                    batch.append(text)
                    size += len(text)
                self._queued -= size
                self._busy = len(batch)
            try:
                self._write_all("".join(batch).encode(self._encoding, errors="replace"))
            except OSError as err:
                with self._cond:
                    first = self._failure is None  # not abandoned (and given up) meanwhile
                    if first:
                        self._failure = err
                        self._failed_note = note
                    self._queue.clear()
                    self._queued = 0
                    self._busy = 0
                    self._cond.notify_all()
                if first:
                    self._give_up()
                return
            with self._cond:
                self._busy = 0
                self._progress_t = time.monotonic()
                self._cond.notify_all()

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._fd, view)
            except BlockingIOError:  # a descriptor someone made non-blocking: wait for room
                if self._failure is not None:  # abandoned meanwhile: stop trying
                    raise OSError("the destination was given up") from None
                select.select([], [self._fd], [], 1.0)
                continue
            view = view[written:]
            self._progress_t = time.monotonic()  # the drain's wait sees a slow reader move


_writers: dict[tuple[int, ...], StreamWriter] = {}
_writers_lock = threading.Lock()
_drain_at_exit = False


def _destination(stream: object) -> tuple[int, tuple[int, ...]] | None:
    """The stream's descriptor and what identifies where it writes, or None for a stream
    without one (in memory: a write there cannot wait for a reader). A pipe, socket or
    terminal is the same destination whichever descriptor reaches it (`2>&1`)."""
    stream = getattr(stream, "queued_stream", stream)
    fileno = getattr(stream, "fileno", None)
    if fileno is None:
        return None
    try:
        fd = fileno()
        info = os.fstat(fd)
    except (OSError, ValueError):  # io.UnsupportedOperation is both
        return None
    # One writer per file, pipe or terminal, whichever descriptor reaches it: `> log 2>&1`
    # keeps stdout's and stderr's lines in the order they were written.
    return fd, (info.st_dev, info.st_ino)


def _stream_name(stream: object, fd: int) -> str:
    """`stdout`, `stderr`, a file's name, or `descriptor N`."""
    name = getattr(stream, "name", None)
    if fd in (1, 2) or not isinstance(name, str) or name.startswith("<"):
        return {1: "stdout", 2: "stderr"}.get(fd, f"descriptor {fd}")
    return name


def writer_for(stream: TextIO | None) -> StreamWriter | None:
    """The writer thread for `stream`'s destination, started on first use; None for a stream
    without a descriptor (written in place) or None."""
    global _drain_at_exit
    if stream is None:
        return None
    stream = getattr(stream, "queued_stream", stream)
    found = _destination(stream)
    if found is None:
        return None
    fd, key = found
    with _writers_lock:
        writer = _writers.get(key)
        if writer is not None and writer.usable:
            writer.serve(stream)
            return writer
        with contextlib.suppress(OSError, ValueError):
            stream.flush()  # before the thread writes past the stream's own buffer
        writer = StreamWriter(stream, fd, _stream_name(stream, fd))
        _writers[key] = writer
        if not _drain_at_exit:
            _drain_at_exit = True
            atexit.register(drain_outputs)
    return writer


def drain_outputs(stall_s: float = DRAIN_STALL_S, limit_s: float = DRAIN_LIMIT_S) -> None:
    """Wait for the queued text of every destination, boundedly: one whose reader takes nothing
    for `stall_s` seconds is given up, and nothing waits past `limit_s` in all (nor past a
    Ctrl-C: the session is over). Says once what was lost and why. Never raises."""
    until = time.monotonic() + limit_s
    notes: list[str] = []
    try:
        for writer in list(_writers.values()):
            if not writer.drain(until, stall_s) and writer.usable:
                lost = writer.abandon()
                notes.append(
                    f"{writer.name} is not being read: {lost} lines were not written "
                    "(the journal keeps every event)"
                )
    except KeyboardInterrupt:  # the session is over: a Ctrl-C ends the wait
        for writer in list(_writers.values()):
            if not writer.idle:
                writer.abandon()
        return
    for writer in list(_writers.values()):
        note = writer.unreported_failure()
        if note is not None:
            notes.append(note)
    with contextlib.suppress(Exception, KeyboardInterrupt):
        for note in notes:
            log.warning(note)
    with contextlib.suppress(KeyboardInterrupt):
        for writer in list(_writers.values()):  # the warnings themselves, when queued
            if not writer.drain(until, stall_s) and writer.usable:
                writer.abandon()


def write_line(stream: TextIO | None, line: str, closed_note: str) -> None:
    """Write one line without waiting for the reader; `SinkClosed(closed_note)` if the stream
    cannot take it.

    A stream with a descriptor gets it queued for its destination's `StreamWriter` (a failure
    shows on a later line). One without (in memory) is written and flushed in place. A stream
    that failed is pointed at /dev/null (`give_up_stream`), so that the interpreter's last flush
    at exit cannot fail on the text left in its buffer. `stream` is None when Python started
    with that descriptor closed (`retrotread run --json >&-`)."""
    _write(stream, writer_for(stream), line, closed_note)


def _write(stream: TextIO | None, writer: StreamWriter | None, line: str, note: str) -> None:
    if stream is None:
        raise SinkClosed(note)
    if writer is not None:
        writer.put(line, note)
        return
    try:
        stream.write(line)
        stream.flush()
    except (OSError, ValueError) as err:  # ValueError: a file object closed under us
        give_up_stream(stream)
        raise SinkClosed(note) from err


def write_text(stream: TextIO | None, text: str) -> bool:
    """Write text for a person after the session (its summary) and say whether it got there;
    then wait for every output's queued lines, boundedly (`drain_outputs`).

    A stream that is gone is not an error here: the sink that wrote to it during the session
    has said so once already, and the belt is stopped either way."""
    writer = writer_for(stream)
    try:
        _write(stream, writer, text if text.endswith("\n") else text + "\n", "")
    except SinkClosed:
        return False
    finally:
        drain_outputs()
    return writer is None or writer.usable


class QueuedStream(io.TextIOBase):
    """A text stream that queues what is written for the destination of `stream`
    (`writer_for`) instead of waiting for its reader: for `sys.stdout` and `sys.stderr` while a
    session runs (logs, the live view, the bell). Text written after the destination is gone is
    dropped, as a given-up stream's is."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.queued_stream = stream
        self._writer = writer_for(stream)

    def write(self, text: str) -> int:
        writer = self._writer
        if writer is None:
            written = self.queued_stream.write(text)
            return written if isinstance(written, int) else len(text)
        with contextlib.suppress(SinkClosed):
            writer.put(text)
        return len(text)

    def flush(self) -> None:
        if self._writer is None and not self.queued_stream.closed:
            self.queued_stream.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.queued_stream.isatty()

    def fileno(self) -> int:
        return self.queued_stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.queued_stream, "encoding", None) or "utf-8"

    @property
    def name(self) -> str:
        return str(getattr(self.queued_stream, "name", ""))


@contextlib.contextmanager
def queued_std_streams() -> Iterator[None]:
    """While inside, `sys.stdout` and `sys.stderr` queue for their writer threads (a log line
    never waits for a reader either); leaving drains them (`drain_outputs`) and puts the streams
    back. A stream that is None (its descriptor closed at start) stays None."""
    saved = sys.stdout, sys.stderr
    if sys.stdout is not None:
        sys.stdout = QueuedStream(sys.stdout)
    if sys.stderr is not None:
        sys.stderr = QueuedStream(sys.stderr)
    try:
        yield
    finally:
        try:
            drain_outputs()
        finally:  # even on a second Ctrl-C during the drain
            sys.stdout, sys.stderr = saved


class JsonLinesSink:
    """One JSON object per line, flushed per event so a pipe reader sees it at once.

    `journal` names where the events still go once this stream is closed, for the one line that
    says so."""

    def __init__(
        self, stream: TextIO | None, *, name: str = "stdout", journal: Path | None = None
    ) -> None:
        self._stream = stream
        self._writer = writer_for(stream)
        self._closed_note = (
            f"{name} closed: events go on in the journal {journal}"
            if journal is not None
            else f"{name} closed: its events are no longer written"
        )

    def __call__(self, event: Event) -> None:
        _write(self._stream, self._writer, event.to_json() + "\n", self._closed_note)


def first_safety_stop(events: Iterable[Event]) -> SafetyEvent | None:
    """The safety event that ended a session (the first with action `stop`), if any."""
    return next(
        (e for e in events if isinstance(e, SafetyEvent) and e.action == "stop"),
        None,
    )


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
            length = clock(event.duration_s)
            if event.remaining_s is not None and event.remaining_s < event.duration_s - 0.5:
                length = f"{clock(event.remaining_s)} (of {length})"
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
                parts.append(heart_rate_text(event.heart_rate_bpm, event.heart_rate_source))
            return ", ".join(parts)
        case SafetyEvent(reason="safety_key" | "console_stop", detail=str() as detail):
            return f"SAFETY: {detail} -> {event.action}"  # the detail says it in full
        case SafetyEvent():
            detail = f" ({event.detail})" if event.detail else ""
            return f"SAFETY: {safety_words(event.reason)} -> {event.action}{detail}"
        case PromptEvent():
            return _prompt_line(event)
        case StoppedEvent():
            return stopped_line(event, None, units)
        case SummaryEvent():
            outcome = "complete" if event.outcome == "completed" else "stopped"
            return (
                f"session {outcome}: {clock(event.duration_s)}, "
                f"{format_distance(event.distance_m, units)}, "
                f"top speed {format_speed(event.max_speed_mph, units)}; `retrotread show last`"
            )
    return None


def _prompt_line(event: PromptEvent) -> str | None:
    if event.message:
        return f">>> {event.message}"
    spent = turnaround_phases(event)
    if event.phase == "done" and spent:
        return f"turn-around done: {spent}"
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
        self._writer = writer_for(stream)
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
            line = f"[{clock(event.t)}] {text}\n"
            _write(self._stream, self._writer, line, self._closed_note)
