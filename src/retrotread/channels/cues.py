"""What the walker hears: cues from a session's events, spoken or rung (SPEC.md "Walker cues").

The walker faces away from the console and from every screen, so what they must know (a stop,
a turn-around, a speed change, the time left) is also said aloud. `CueChannel` is a session
listener: it turns events into `cue` events (emitted through the session, so the journal and
`--json` carry them) and hands each cue's text to a `Voice`.

Cues never delay a safety action. The listener only schedules work with `call_soon` /
`call_later`. The exceptions are the closing `stopped` / `completed` cue, emitted in place so
that it lands before `summary` (the belt is at 0 by then, nothing is left to protect), and
`belt_moving` once the stop procedure has given up. Speech
runs in its own process, one at a time; a process's end is noticed by a waiting thread, never
by the event loop. A newer cue of a kind replaces a queued one of that kind, so cues never pile
up; a stop's cues go before the others queued, and a `stopping` or `belt_moving` cue cuts off
whatever else is being said. An engine that is missing, fails or hangs (a blocked audio device)
degrades to the terminal bell with one warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Protocol, TextIO

import structlog

from retrotread.config import CueMode, CuesConfig
from retrotread.events import (
    CommandEvent,
    CueEvent,
    CueKind,
    Direction,
    Event,
    PromptEvent,
    SafetyEvent,
    SegmentEvent,
    StoppedEvent,
    SummaryEvent,
    TelemetryEvent,
)
from retrotread.session.control import EventListener
from retrotread.units import IMPERIAL, spoken_speed

log = structlog.get_logger(__name__)

# A ramp this far from the current speed is worth saying; smaller steps are a zone's nudges.
RAMP_CUE_MIN_MPH = 0.2
BELT_MOVING_REPEAT_S = 10.0
# (seconds before the program's end, what is said)
TIME_LEFT_MARKS: tuple[tuple[float, str], ...] = (
    (60.0, "One minute left"),
    (10.0, "Ten seconds left"),
)
# Below this the belt counts as stopped (telemetry rounds to 0.001 mph).
STOPPED_MPH = 0.05
# At the end of a session the last cue still deserves to be heard, but never for long.
CLOSE_WAIT_S = 3.0


class Voice(Protocol):
    """Says a cue's text; `say` must return at once (it runs on the event loop)."""

    def say(self, kind: CueKind, text: str) -> None: ...

    def close(self) -> None: ...


class Bell:
    """The terminal bell on `stream` (stderr), when it is a terminal: a walker who cannot read
    the screen still hears that something happened."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def say(self, kind: CueKind, text: str) -> None:
        stream = self._stream if self._stream is not None else sys.stderr
        if stream is None:  # descriptor 2 closed at start
            return
        with contextlib.suppress(Exception):
            if stream.isatty():
                stream.write("\a")
                stream.flush()

    def close(self) -> None:
        return None


SPEAK_AFTER_S = 0.05
# The cues about a stop: said before any other queued cue (in the order they came).
STOP_KINDS: frozenset[CueKind] = frozenset({"stopping", "stopped", "belt_moving"})
# Said before the rest too, after the stop's: the heart-rate slow-downs.
SAFETY_KINDS: frozenset[CueKind] = STOP_KINDS | {"heart_rate"}
# These cut off the engine saying anything but a stop's cue: the walker must hear them now.
CUTTING_KINDS: frozenset[CueKind] = frozenset({"stopping", "belt_moving"})
# An engine gets this long for a cue at the least (its start, the audio device opening) ...
SPEECH_TIMEOUT_MIN_S = 10.0
# ... and this many times the cue's length at the configured rate: past that it is hung.
SPEECH_TIMEOUT_PER_WORD = 4.0
DEFAULT_RATE_WPM = 150


class Speech:
    """A speech engine command, one process per cue and one at a time, started and waited on
    by a worker thread of its own.

    `argv` + [text] is run with no terminal I/O (an engine's complaints about a missing sound
    card must not reach the walker's screen). Cues waiting for the engine are kept one per kind,
    a newer one replacing the older text in its place; the worker takes a stop's cues first,
    then a heart-rate one, then the oldest. A `stopping` or `belt_moving` cue terminates the
    engine saying any other kind (what it said is out of date once the belt is stopping). A
    spawn error, a non-zero exit, or an engine still running after its time (`timeout_for`:
    `min_timeout_s`, or a generous allowance per word at `rate_wpm`, whichever is longer; an
    engine blocked on an audio device would otherwise silence every later cue, the stop's
    included) switches to `fallback` for good, with one warning."""

    def __init__(
        self,
        argv: Sequence[str],
        fallback: Voice,
        loop: asyncio.AbstractEventLoop | None = None,
        *,
        rate_wpm: int = DEFAULT_RATE_WPM,
        min_timeout_s: float = SPEECH_TIMEOUT_MIN_S,
    ) -> None:
        self._argv = list(argv)
        self._fallback = fallback
        self._loop = loop or asyncio.get_running_loop()
        self._rate_wpm = rate_wpm
        self._min_timeout_s = min_timeout_s
        # Shared with the worker thread, under `_lock`: the queue (one text per kind, in the
        # order the kinds were first queued), the kind being said and its process, whether
        # that process was cut off, and whether an engine is running or we are closing.
        self._lock = threading.Lock()
        self._pending: dict[CueKind, str] = {}
        self._speaking = False
        self._saying: CueKind | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._cut = False
        self._closing = False
        self._wake = threading.Event()  # set: the worker has something to look at
        self._failed = False
        self.spoken = 0  # processes started, for tests and diagnostics
        self._idle = asyncio.Event()  # nothing queued and no engine running
        self._idle.set()
        # Starting a process costs a few milliseconds (fork, exec, a thread to wait on it): all
        # of that happens in this one worker thread, so a cue costs the loop a dict update.
        self._worker = threading.Thread(target=self._work, name="retrotread-speech", daemon=True)
        self._worker.start()

    @property
    def failed(self) -> bool:
        return self._failed

    @property
    def pending(self) -> dict[CueKind, str]:
        with self._lock:
            return dict(self._pending)

    def say(self, kind: CueKind, text: str) -> None:
        if self._failed:
            self._fallback.say(kind, text)
            return
        with self._lock:
            if self._closing:
                return
            self._pending[kind] = text
        self._idle.clear()
        # Handed over a moment later, not in this loop pass: a stop's acknowledgements (to
        # `retrotread stop`, MQTT) go out before anything else competes for the interpreter.
        self._loop.call_later(SPEAK_AFTER_S, self._hand_over, kind)

    def _hand_over(self, kind: CueKind) -> None:
        """On the loop, SPEAK_AFTER_S after `say`: wake the worker; for a cue that must be
        heard now, end the engine saying a cue of another sort (a signal, which never blocks)."""
        process = None
        if kind in CUTTING_KINDS:
            with self._lock:
                saying = self._saying
                if saying is not None and saying not in STOP_KINDS and kind in self._pending:
                    self._cut = True
                    process = self._process  # None until started: the worker ends it then
        if process is not None:
            with contextlib.suppress(OSError):
                process.terminate()
        self._wake.set()

    def timeout_for(self, text: str) -> float:
        """How long the engine may take to say `text` before it counts as hung."""
        words = max(1, len(text.split()))
        return max(self._min_timeout_s, words * 60.0 / self._rate_wpm * SPEECH_TIMEOUT_PER_WORD)

    def _next_kind(self) -> CueKind:
        """Under `_lock`, with something queued: a stop's cue, else a heart-rate one, else
        the oldest."""
        for first in (STOP_KINDS, SAFETY_KINDS):
            for kind in self._pending:
                if kind in first:
                    return kind
        return next(iter(self._pending))

    def _work(self) -> None:
        """The worker thread: speak queued cues one at a time until closed or failed."""
        while True:
            self._wake.wait()
            with self._lock:
                if not self._pending:
                    self._speaking = False
                    self._wake.clear()
                    if self._closing:
                        return
                    self._to_loop(self._set_idle_if_quiet)
                    continue
                kind = self._next_kind()
                text = self._pending.pop(kind)
                self._speaking = True
                self._saying = kind
                self._cut = False
            try:
                process = subprocess.Popen(
                    [*self._argv, text],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    close_fds=True,
                )
            except (OSError, ValueError) as err:
                why = f"the speech engine could not be started ({err})"
                self._to_loop(self._fail, why, (kind, text))
                return
            with self._lock:
                self._process = process
                if self._cut:  # cut off while it was being started
                    with contextlib.suppress(OSError):
                        process.terminate()
            self.spoken += 1
            timeout = self.timeout_for(text)
            try:
                code: int | None = process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    process.kill()
                # A process stuck in the kernel (a hung audio driver) may not die at once:
                # fall back to the bell now rather than wait for it.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(1.0)
                code = None
            with self._lock:
                self._process = None
                self._saying = None
                cut = self._cut
            if cut:
                continue  # ended on purpose: a stop's cue is next
            if code is None:
                why = f"the speech engine did not finish a cue within {timeout:g} s"
                self._to_loop(self._fail, why, (kind, text))
                return
            if code != 0:
                self._to_loop(self._fail, f"the speech engine exited with status {code}", None)
                return

    def _to_loop(self, callback: Callable[..., None], *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nothing is left to say
            self._loop.call_soon_threadsafe(callback, *args)

    def _set_idle_if_quiet(self) -> None:
        with self._lock:
            quiet = not self._pending and not self._speaking
        if quiet:
            self._idle.set()

    async def wait_idle(self) -> None:
        """Until every queued cue was said and the engine has ended."""
        await self._idle.wait()

    def _fail(self, why: str, unsaid: tuple[CueKind, str] | None) -> None:
        """On the loop: the engine is unusable; say what it did not, and the rest, by bell."""
        if not self._failed:
            self._failed = True
            log.warning(f"{why}: cues fall back to the terminal bell", engine=self._argv[0])
        with self._lock:
            pending, self._pending = self._pending, {}
            self._speaking = False
        self._idle.set()
        if unsaid is not None:
            self._fallback.say(*unsaid)
        for kind, text in pending.items():
            self._fallback.say(kind, text)

    def close(self) -> None:
        """Let the last cue be heard: the one being said and the newest queued one, waiting at
        most a little for each. Runs after the session's summary."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            newest = list(self._pending.items())[-1:] if not self._failed else []
            self._pending = dict(newest)
        self._wake.set()
        self._worker.join(CLOSE_WAIT_S * (1 + len(newest)))


def engine_argv(config: CuesConfig) -> list[str]:
    """The engine's command line without the text: espeak's own flags for rate, volume (its
    amplitude) and voice."""
    argv = shlex.split(config.engine)
    if os.path.basename(argv[0]).startswith("espeak"):
        argv[1:1] = ["-s", str(config.rate_wpm), "-a", str(config.volume)]
        if config.voice is not None:
            argv[1:1] = ["-v", config.voice]
    return argv


def voice_for(
    config: CuesConfig,
    mode: CueMode | None = None,
    stream: TextIO | None = None,
    loop: asyncio.AbstractEventLoop | None = None,
) -> Voice | None:
    """The voice a mode asks for; None = cues are only events. `auto`: speech where the engine
    is installed, else the bell on a terminal, else nothing. `speech` with no engine: the bell,
    with one warning."""
    mode = mode or config.mode
    if mode == "off":
        return None
    bell = Bell(stream)
    if mode == "bell":
        return bell
    argv = engine_argv(config)
    installed = shutil.which(argv[0]) is not None
    if installed:
        return Speech(argv, bell, loop, rate_wpm=config.rate_wpm)
    if mode == "speech":
        log.warning(
            "the speech engine is not installed: cues fall back to the terminal bell",
            engine=argv[0],
        )
        return bell
    terminal = stream if stream is not None else sys.stderr
    with contextlib.suppress(Exception):
        if terminal is not None and terminal.isatty():
            return bell
    return None


class CueTarget(Protocol):
    """What the cue channel needs of a session: its events, its clock, and a way to add its own
    `cue` events to the stream (a `Session` is one)."""

    def add_listener(self, listener: EventListener) -> Callable[[], None]: ...

    def emit(self, event: Event) -> None: ...

    def session_time(self) -> float: ...


class CueChannel:
    """Turns a session's events into cues (see the module's docstring for the timing rules)."""

    def __init__(
        self,
        target: CueTarget,
        voice: Voice | None,
        segment_durations_s: Sequence[float],
        loop: asyncio.AbstractEventLoop | None = None,
        *,
        units: str = IMPERIAL,
    ) -> None:
        self._target = target
        self._voice = voice
        self._durations = tuple(segment_durations_s)
        self._loop = loop or asyncio.get_running_loop()
        self._units = units
        self._stopping = False
        self._ended = False
        self._commanded_mph: float | None = None
        self._ramp_target: float | None = None
        self._slowing_for_turn = False
        self._struggle_slowing = False  # the struggle governor slowed: say so at its write
        self._direction: Direction | None = None
        self._time_left: list[asyncio.TimerHandle] = []
        self._belt_moving: asyncio.Handle | None = None
        self._own = False  # a cue of ours is being emitted (not one of the engine's to say)

    # -- saying -------------------------------------------------------------------------------
    def _cue(self, kind: CueKind, text: str, in_s: float | None = None) -> None:
        """Emit the `cue` event and hand the text to the voice, now."""
        self._own = True
        try:
            self._target.emit(
                CueEvent(t=self._target.session_time(), kind=kind, text=text, in_s=in_s)
            )
        finally:
            self._own = False
        self._say(kind, text)

    def _say(self, kind: CueKind, text: str) -> None:
        if self._voice is not None:
            try:
                self._voice.say(kind, text)
            except Exception:  # a voice problem must never reach the session
                log.warning("a cue could not be said", kind=kind, exc_info=True)

    def _later(self, kind: CueKind, text: str, in_s: float | None = None) -> None:
        """Schedule a cue after the current event's consumers: the event that caused it (a
        Stop command) reaches the journal and the wire's logic first."""
        self._loop.call_soon(self._cue_unless_ended, kind, text, in_s)

    def _cue_unless_ended(self, kind: CueKind, text: str, in_s: float | None) -> None:
        if not self._ended:
            self._cue(kind, text, in_s)

    # -- listening ----------------------------------------------------------------------------
    def __call__(self, event: Event) -> None:
        match event:
            case CommandEvent():
                self._on_command(event)
            case SegmentEvent():
                self._on_segment(event)
            case PromptEvent():
                self._on_prompt(event)
            case SafetyEvent():
                self._on_safety(event)
            case StoppedEvent():
                self._on_stopped(event)
            case TelemetryEvent() if event.speed_mph < STOPPED_MPH:
                self._cancel_belt_moving()
            case CueEvent() if not self._own:
                # The engine's own countdowns ("Belt starting", "Resuming"): said, not re-emitted.
                self._say(event.kind, event.text)
            case SummaryEvent():
                # Nothing may follow the summary: cues still scheduled are dropped.
                self._ended = True
                self._cancel_time_left()

    def _on_command(self, event: CommandEvent) -> None:
        if event.op == "stop":
            if not self._stopping:
                self._stopping = True
                self._cancel_time_left()
                self._later("stopping", "Stopping the belt")
                if event.result == "success":
                    return
            # A refused Stop, or a retry (the belt was not seen at 0 in time): the stop is
            # unverified, and the walker must know to use the console.
            if self._belt_moving is None:
                self._belt_moving = self._loop.call_soon(self._repeat_moving)
            return
        if self._stopping:
            return
        if event.op == "pause" and event.result == "success" and event.source != "turnaround":
            who = f" by {event.source}" if event.source else ""
            self._later("paused", f"Belt paused{who}")
        elif event.op == "set_speed" and event.mph is not None:
            self._on_speed(event.mph)

    def _speed(self, mph: float) -> str:
        return spoken_speed(mph, self._units)

    def _on_speed(self, mph: float) -> None:
        """The first step of a ramp towards a new segment's speed names that speed, when it is
        far enough from where the belt was; the slow-down for a turn-around was said with its
        prompt. The struggle governor's step down is said at its write, naming the new speed."""
        before, self._commanded_mph = self._commanded_mph, mph
        if self._struggle_slowing and before is not None:
            self._struggle_slowing = False
            if mph < before:
                self._later("slow_down", f"Shorter steps: slowing down to {self._speed(mph)}")
                return
        target = self._ramp_target
        if target is None or self._slowing_for_turn or before is None:
            return
        self._ramp_target = None
        if abs(target - before) < RAMP_CUE_MIN_MPH:
            return
        if target > before:
            self._later("speed_up", f"Speeding up to {self._speed(target)}")
        else:
            self._later("slow_down", f"Slowing down to {self._speed(target)}")

    def _on_segment(self, event: SegmentEvent) -> None:
        self._ramp_target = event.target_mph
        self._direction = event.direction
        if self._stopping or not 0 <= event.index < len(self._durations):
            return
        # After a turn-around the segment has less than its duration left (`remaining_s`).
        this = self._durations[event.index] if event.remaining_s is None else event.remaining_s
        end = event.t + this + sum(self._durations[event.index + 1 :])
        self._cancel_time_left()
        now = self._target.session_time()
        for before_end, text in TIME_LEFT_MARKS:
            delay = end - before_end - now
            if delay >= 0:
                self._time_left.append(
                    self._loop.call_later(
                        delay, self._cue_unless_ended, "time_left", text, before_end
                    )
                )

    def _on_prompt(self, event: PromptEvent) -> None:
        """A turn-around's prompts: the slow-down (a ramp to the floor, naming it and which way
        to keep facing) and the turn itself, once the belt is seen at the floor or stopped."""
        if self._stopping or event.kind != "turnaround":
            return
        if event.phase == "slowing":
            self._slowing_for_turn = True
            keep = f"; keep walking {event.direction}" if event.direction is not None else ""
            to = f" to {self._speed(event.target_mph)}" if event.target_mph is not None else ""
            self._later("slow_down", f"Slowing down{to} to turn around{keep}")
        elif event.phase == "turn":
            self._slowing_for_turn = False
            facing = event.direction or self._direction
            face = f": walk {facing} next" if facing is not None else ""
            self._later("turnaround", f"Turn around now{face}")

    def _on_safety(self, event: SafetyEvent) -> None:
        if event.reason == "stop_unverified":
            # In place: the stop procedure has given up and the session ends right after, so a
            # scheduled cue could come too late for the walker and after `summary`. Already
            # repeating (the Stop was refused or retried): the repeats go on.
            if self._belt_moving is None:
                self._repeat_moving()
        elif self._stopping or event.action != "slow":
            return
        elif event.reason == "heart_rate":
            self._later("heart_rate", "Heart rate high: slowing down")
        elif event.reason == "heart_rate_lost":
            self._later("heart_rate", "Heart rate lost: holding slow until it is back")
        elif event.reason == "struggle":
            # Said at the governor's write, which names the speed (SPEC's `slow_down`).
            self._struggle_slowing = True

    def _repeat_moving(self) -> None:
        if self._ended:
            return
        self._cue("belt_moving", "Belt still moving: stop it at the console")
        self._belt_moving = self._loop.call_later(BELT_MOVING_REPEAT_S, self._repeat_moving)

    def _on_stopped(self, event: StoppedEvent) -> None:
        """Said in place, so that it comes before `summary`: the belt is already at 0."""
        self._cancel_time_left()
        if event.belt_mph >= STOPPED_MPH:
            return  # still moving: `belt_moving` says what to do
        self._cancel_belt_moving()
        if event.reason == "completed":
            self._cue("completed", "Program complete. Belt stopped")
        else:
            self._cue("stopped", "Belt stopped")

    # -- ending -------------------------------------------------------------------------------
    def _cancel_time_left(self) -> None:
        for handle in self._time_left:
            handle.cancel()
        self._time_left.clear()

    def _cancel_belt_moving(self) -> None:
        if self._belt_moving is not None:
            self._belt_moving.cancel()
            self._belt_moving = None

    def close(self) -> None:
        self._ended = True
        self._cancel_time_left()
        self._cancel_belt_moving()
        if self._voice is not None:
            self._voice.close()


@contextlib.asynccontextmanager
async def cue_channel(
    target: CueTarget,
    config: CuesConfig,
    segment_durations_s: Sequence[float],
    *,
    mode: CueMode | None = None,
    voice: Voice | None = None,
    units: str = IMPERIAL,
) -> AsyncIterator[CueChannel]:
    """A session attachment: cues for the whole session, the voice closed after `summary`.
    `voice` replaces the one `mode` (or config) would choose (tests); `units` are the
    `[display] units` speeds are said in."""
    loop = asyncio.get_running_loop()
    chosen = voice if voice is not None else voice_for(config, mode, loop=loop)
    channel = CueChannel(target, chosen, segment_durations_s, loop, units=units)
    remove = target.add_listener(channel)
    try:
        yield channel
    finally:
        remove()
        channel.close()
