"""The live terminal view of a running session, and the keys that stop or pause the belt.

The walker faces away from the screen; the view is for whoever stands beside the treadmill (a
coach, a therapist), so it must tell the whole truth at a glance: the belt speed as observed
(large) beside what was asked for, where the program is and what comes next, who paused the belt
and how to resume it, and, in red, a stop that the treadmill has not confirmed.

It is a session attachment: a fold over the event stream (`LiveState.fold`; it never polls the
belt), redrawn as a rich panel. Times come from the events' own session clock, never the wall
clock: a segment's clock stands still from the Pause to the Start that resumes it, as the
program's schedule does (the pacer moves its deadlines back by the time spent paused, as it sees
it once a second; a turn-around's own pause is part of its segment and the clock runs on).

Keys, read in cbreak mode and only when stdin is a terminal (the terminal is restored on exit
whatever happens); anything else is ignored:
- space, `s`, `q`, or Esc: stop the belt (the same hot path as `retrotread stop`); so do Ctrl-S,
  Ctrl-Z and Ctrl-\\, which would otherwise freeze the terminal's output (and with it the
  session's loop), suspend the process or kill it with the belt running;
- `p`: pause the belt, once it has started (before, the stop keys are the way not to start); also
  while it is paused: it cancels a "Resuming in 3, 2, 1" and keeps a turn-around's own pause
  from ending by itself;
- `r`: resume after a pause, whoever paused (the belt restarts at the floor after "Resuming in
  3, 2, 1"); only this keyboard can: remote channels can only make the belt safer;
- Enter: start the belt when the session asks for confirmation.
Arrow and function keys send escape sequences that begin with Esc: they are read whole (a short
read-ahead after a lone Esc, on a timer, tells the two apart) and ignored. When in doubt the
decoder takes Esc for Esc, so Esc and then another stop key in a hurry stop the belt.
Ctrl-C stops the belt in every case (the run's signal handler); without keys that is what the
view offers. On a dumb terminal (`TERM=dumb`), which cannot redraw, the view prints lines instead.

The view writes to the terminal through a queue (`retrotread.channels.sinks.QueuedStream`): a
terminal that does not take its output (a stalled connection) never holds up the session.
"""

import asyncio
import codecs
import contextlib
import os
import sys
import termios
import time
import tty
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO, cast, runtime_checkable

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from retrotread import events as ev
from retrotread.channels.sinks import QueuedStream
from retrotread.session.control import SessionControl
from retrotread.units import IMPERIAL, format_distance, format_speed, speed_unit
from retrotread.wording import (
    by_whom,
    clock,
    heart_rate_text,
    safety_words,
    stop_cause,
    turnaround_phases,
)

KEY_SOURCE = "keyboard"
ESC = "\x1b"
ESC_KEY = "esc"  # the key name `KeyDecoder` gives a lone Esc
CTRL_S, CTRL_Z, CTRL_BACKSLASH = "\x13", "\x1a", "\x1c"
STOP_KEYS = frozenset({" ", "s", "S", "q", "Q", ESC_KEY, CTRL_S, CTRL_Z, CTRL_BACKSLASH})
PAUSE_KEYS = frozenset({"p", "P"})
RESUME_KEYS = frozenset({"r", "R"})
ENTER_KEYS = frozenset({"\r", "\n"})
ESC_READ_AHEAD_S = 0.03
"""How long (real seconds) a lone Esc waits for the rest of an escape sequence, on a timer of the
loop. A terminal sends an arrow key's bytes in one write, so this is only ever spent after a
real Esc press."""

REDRAW_HZ = 10
URGENT_EVENTS = (
    ev.PromptEvent,
    ev.SafetyEvent,
    ev.StoppedEvent,
    ev.SummaryEvent,
    ev.SegmentEvent,
    ev.CommandEvent,
    ev.CueEvent,
    ev.ConnectedEvent,
)
FULL_MIN_HEIGHT = 14
"""Terminals with fewer rows get the compact layout: belt speed and the stop hint first."""
DUMB_STATUS_EVERY_S = 15.0
"""On a dumb terminal, a routine status line at most every this many session seconds."""
WARNING_SHOWN_S = 30.0
"""A safety slow-down or a refused command stays on screen this many session seconds."""
CUE_SHOWN_S = 20.0
"""What the walker was last told stays on screen this many session seconds."""
HEART_RATE_SHOWN_S = 10.0
"""A heart rate older than this (session seconds; the supervisor's default timeout) is shown
as missing, not as if it were current."""
STOPPED_MPH = 0.05
"""Below this the belt counts as still (as for the cues)."""
TURNAROUND_SOURCE = "turnaround"

STOP_KEYS_TEXT = "space / s / q / Esc: STOP THE BELT"
CTRL_C_TEXT = "Ctrl-C stops the belt"
MOVING_BANNER = "BELT STILL MOVING – stop it at the console"
UNCONFIRMED_BANNER = "STOP NOT CONFIRMED by the treadmill – check the belt, stop it at the console"


@dataclass(frozen=True)
class PlanStep:
    """One segment of the plan as run (from the `connected` event), for "next" and time left."""

    name: str
    direction: str
    duration_s: float
    mph: float | None  # the target, or the low end of a range
    top_mph: float | None  # the top of a range (None for a fixed target)

    @classmethod
    def from_plan(cls, plan: Mapping[str, Any] | None) -> list["PlanStep"]:
        steps: list[PlanStep] = []
        segments = plan.get("segments") if plan is not None else None
        if not isinstance(segments, list):
            return steps
        for raw in segments:
            if not isinstance(raw, Mapping):
                continue
            low = raw.get("target_mph", raw.get("min_mph"))
            top = raw.get("max_mph") if raw.get("target_mph") is None else None
            steps.append(
                cls(
                    name=str(raw.get("name", "")),
                    direction=str(raw.get("direction", "backward")),
                    duration_s=float(raw.get("duration_s", 0.0)),
                    mph=float(low) if isinstance(low, int | float) else None,
                    top_mph=float(top) if isinstance(top, int | float) else None,
                )
            )
        return steps


@dataclass
class LiveState:
    """What the panel shows, folded from the events; `units`, `keys` and `can_resume` are the
    view's (display units; whether keys are read; whether `r` can resume)."""

    units: str = IMPERIAL
    keys: bool = False
    can_resume: bool = False
    confirming: bool = False
    belt_started: bool = False  # a Start was acknowledged: from then on `p` pauses
    device: str = ""
    program: str | None = None
    plan: list[PlanStep] = field(default_factory=list)
    segment: ev.SegmentEvent | None = None
    segment_t: float = 0.0
    segment_left_s: float = 0.0  # what was left of the segment when it began
    frozen_s: float = 0.0  # paused time of this segment, pauses that ended
    commanded_mph: float | None = None
    telemetry: ev.TelemetryEvent | None = None
    distance_m: float | None = None
    incline_pct: float | None = None
    heart_rate: tuple[int, str | None, float] | None = None  # bpm, source, when
    now: float = 0.0
    prompt: ev.PromptEvent | None = None
    turn: ev.PromptEvent | None = None  # the latest turn-around prompt, for its phase times
    cue: ev.CueEvent | None = None
    warning: str | None = None  # the latest safety slow-down or refused command
    warning_t: float = 0.0
    paused_by: str | None = None  # who paused the belt; None while it is not paused
    paused_at: float = 0.0
    resuming: bool = False  # the countdown before a paused belt moves again
    stop_t: float | None = None  # when the first stop was written (the program ended there)
    stop_source: str | None = None
    stop_refused: bool = False
    unverified: bool = False  # the treadmill has not confirmed the stop (and may still move)
    safety_stop: ev.SafetyEvent | None = None  # the first safety event that stopped the belt
    stopped: ev.StoppedEvent | None = None
    summary: ev.SummaryEvent | None = None

    def fold(self, event: ev.Event) -> None:
        self.now = max(self.now, event.t)
        match event:
            case ev.ConnectedEvent():
                self.device = event.device
                self.program = event.program
                self.plan = PlanStep.from_plan(event.plan)
            case ev.SegmentEvent():
                self._on_segment(event)
            case ev.CommandEvent():
                self._on_command(event)
            case ev.TelemetryEvent():
                self._on_telemetry(event)
            case ev.SafetyEvent():
                self._on_safety(event)
            case ev.PromptEvent() if self.stop_t is None:
                self.prompt = event if event.message else None
                if event.kind == "turnaround":
                    self.turn = event
            case ev.CueEvent():
                self.cue = event
                if event.kind == "belt_moving":
                    self.unverified = True
                elif event.kind == "resuming" and self.paused_by is not None:
                    self.resuming = True
                elif event.kind == "paused":  # a pause won over any countdown: `r` resumes
                    self.resuming = False
            case ev.StoppedEvent():
                self.stopped = event
                self._program_ended(event.t, event.source)
                if event.belt_mph >= STOPPED_MPH:
                    self.unverified = True
            case ev.SummaryEvent():
                self.summary = event

    def _on_telemetry(self, event: ev.TelemetryEvent) -> None:
        # A packet may carry only some fields (devices split them): each shows its latest value.
        self.telemetry = event
        if event.distance_m is not None:
            self.distance_m = max(self.distance_m or 0.0, event.distance_m)
        if event.incline_pct is not None:
            self.incline_pct = event.incline_pct
        if event.heart_rate_bpm is not None:
            self.heart_rate = (event.heart_rate_bpm, event.heart_rate_source, event.t)

    def _on_segment(self, event: ev.SegmentEvent) -> None:
        self.segment = event
        self.segment_t = event.t
        self.segment_left_s = (
            event.remaining_s if event.remaining_s is not None else event.duration_s
        )
        self.frozen_s = 0.0
        if self.paused_at < event.t:
            self.paused_at = event.t  # a pause carried over counts from this segment's start

    def _on_command(self, event: ev.CommandEvent) -> None:
        ok = event.result == "success"
        if event.op == "stop":
            self._program_ended(event.t, event.source)
            if not ok:
                self.stop_refused = True
            return
        if not ok:
            self.warn(
                event.t, f"the treadmill refused {event.op.replace('_', ' ')}: {event.result}"
            )
            return
        if event.op == "set_speed" and event.mph is not None:
            self.commanded_mph = event.mph
        elif event.op == "pause":
            if self.paused_by is None:
                self.paused_at = event.t
            self.paused_by = event.source or "someone"
            self.commanded_mph = None
            self.resuming = False  # a pause during "Resuming in 3, 2, 1" ends the countdown
        elif event.op == "start":
            self.belt_started = True
            if self.paused_by is not None:
                if self.clock_frozen:
                    self.frozen_s += event.t - self.paused_at
                self.paused_by = None
                self.resuming = False
            if self.prompt is not None and _answered_by_start(self.prompt):
                self.prompt = None

    def _on_safety(self, event: ev.SafetyEvent) -> None:
        if event.reason == "stop_unverified":
            self.unverified = True
        elif event.action == "stop":
            if self.safety_stop is None:
                self.safety_stop = event
        else:
            words = safety_words(event.reason)
            detail = f" ({event.detail})" if event.detail else ""
            action = "holding slow" if event.action == "slow" else "pausing"
            self.warn(event.t, f"{words}: {action}{detail}")

    def warn(self, t: float, text: str) -> None:
        self.warning, self.warning_t = text, t

    def _program_ended(self, t: float, source: str | None) -> None:
        if self.stop_t is None:
            if self.clock_frozen:
                self.frozen_s += t - self.paused_at
            self.stop_t = t
            self.stop_source = source
            self.prompt = None  # no turn-around or countdown after a stop
        self.paused_by = None
        self.resuming = False
        self.commanded_mph = None

    # -- derived ------------------------------------------------------------------------------
    @property
    def clock_frozen(self) -> bool:
        """The program's clock stands still: paused by anyone but the turn-around itself (whose
        pause is time of its segment)."""
        return self.paused_by is not None and self.paused_by != TURNAROUND_SOURCE

    @property
    def paused(self) -> bool:
        """Paused by someone who must resume it (not the turn-around's own pause): PAUSED."""
        return self.clock_frozen

    @property
    def belt_paused(self) -> bool:
        """Paused by anyone, the turn-around included: `r` resumes it."""
        return self.paused_by is not None and self.stop_t is None

    def _schedule_left(self) -> float | None:
        """Seconds to the segment's deadline, negative past it (the slow-down before a
        turn-around runs over, and the next segment is that much shorter)."""
        if self.segment is None:
            return None
        end = self.stop_t if self.stop_t is not None else self.now
        frozen = self.frozen_s + (end - self.paused_at if self.clock_frozen else 0.0)
        ran = max(0.0, end - self.segment_t - frozen)
        return min(self.segment_left_s - ran, self.segment.duration_s)

    def segment_left(self) -> float | None:
        """Seconds left of the segment by the program's schedule: it stands still while paused
        and once a stop was written."""
        left = self._schedule_left()
        return None if left is None else max(left, 0.0)

    def total_left(self) -> float | None:
        """Seconds left of the program: this segment's and every later one's."""
        if not self.plan:
            return None
        left = self._schedule_left()
        if left is None or self.segment is None:
            return sum(step.duration_s for step in self.plan)
        later = self.plan[self.segment.index + 1 :]
        return max(0.0, left + sum(step.duration_s for step in later))

    def next_step(self) -> tuple[int, PlanStep] | None:
        index = self.segment.index + 1 if self.segment is not None else 0
        return (index, self.plan[index]) if index < len(self.plan) else None

    @property
    def belt_moving(self) -> bool:
        tm = self.telemetry
        if tm is not None and tm.speed_mph >= STOPPED_MPH:
            return True
        return self.stopped is not None and self.stopped.belt_mph >= STOPPED_MPH

    @property
    def stop_trouble(self) -> bool:
        """The stop is not confirmed: the red banner."""
        return self.unverified or self.stop_refused


def _answered_by_start(prompt: ev.PromptEvent) -> bool:
    """A prompt that the belt starting (or moving again) answers: the confirmation, a
    countdown."""
    if prompt.kind is None:
        return "Enter" in prompt.message
    return prompt.kind in ("confirm", "start", "resume")


# -- words ----------------------------------------------------------------------------------


def speed(mph: float | None, units: str) -> str:
    return "-" if mph is None else format_speed(mph, units)


def stop_words(state: LiveState) -> str:
    """Why the session stopped, in words: "Program complete", "Stopped by you (a key in the live
    view)"; "Stopping ..." until the `stopped` event says why."""
    stopped = state.stopped
    if stopped is None:
        return f"Stopping {by_whom(state.stop_source)}".rstrip()
    return stop_cause(stopped.reason, stopped.source or state.stop_source, state.safety_stop)


def pause_lines(state: LiveState) -> tuple[str, str]:
    """The PAUSED banner: who paused, and how to resume (or that it can't be resumed here)."""
    head = f"PAUSED {by_whom(state.paused_by)}".rstrip()
    if state.resuming:
        return head, "Resuming in 3, 2, 1: the belt restarts at the floor speed"
    if state.can_resume:
        return head, "press r to resume (the belt restarts slowly after a 3 s countdown)"
    return head, "this terminal cannot resume it (no keyboard: stdin is not a terminal)"


def keys_text(state: LiveState) -> str:
    """The keys that work now, and nothing else; without keys, Ctrl-C."""
    if not state.keys:
        return CTRL_C_TEXT
    if state.confirming:
        return f"Enter: start the belt   {STOP_KEYS_TEXT.split(':')[0]}: do not start"
    parts = [STOP_KEYS_TEXT]
    if state.stop_t is None and state.belt_started:
        if not state.belt_paused:
            parts.append("p: pause")
        elif state.resuming or not state.paused:  # a countdown, or a turn-around's own pause
            parts.append("p: stay paused")
        if state.belt_paused and state.can_resume and not state.resuming:
            parts.append("r: resume")
    return "   ".join(parts)


def banner(state: LiveState) -> Text | None:
    """The one line that matters most now, styled by how much it matters."""
    if state.stop_trouble:
        text = MOVING_BANNER if state.belt_moving or state.stop_refused else UNCONFIRMED_BANNER
        return Text(f" {text} ", style="bold white on red")
    if state.stop_t is not None and state.summary is None:
        if state.stopped is not None:
            return Text(f" Belt stopped: {stop_words(state)} ", style="bold black on green")
        if state.stop_source == "program":
            why = ": the program is over"
        else:
            why = f" {by_whom(state.stop_source)}".rstrip()
        return Text(f" STOPPING THE BELT{why} ", style="bold black on yellow")
    if state.paused:
        head, how = pause_lines(state)
        return Text(f" {head}: {how} ", style="bold black on yellow")
    return None


def final_line(state: LiveState) -> Text | None:
    summary = state.summary
    if summary is None:
        return None
    done = (
        f"{clock(summary.duration_s)}, {format_distance(summary.distance_m, state.units)}, "
        f"max {format_speed(summary.max_speed_mph, state.units)}; session {summary.session}"
    )
    if state.stop_trouble:
        return Text(f"{stop_words(state)}; {done}", style="bold red")
    style = "bold green" if summary.outcome == "completed" else "bold"
    return Text(f"{stop_words(state)}. Belt stopped. {done}", style=style)


def clock_note(state: LiveState) -> str:
    """Why the segment clock shows what it shows, when it is not simply counting down."""
    if state.clock_frozen or state.stop_t is not None:
        return " (clock stopped)"
    if state.prompt is not None and state.prompt.phase == "slowing":
        return " (slowing down to turn around)"
    return ""


def target_text(state: LiveState) -> str:
    if state.stop_t is not None:
        return "-"
    if state.paused_by is not None:
        return "paused"
    return speed(state.commanded_mph, state.units)


def segment_text(state: LiveState) -> str:
    """ "1. warm-up · backward · 1.0 mph" (the segment's own goal, not the ramp's step)."""
    segment = state.segment
    if segment is None:
        return "starting"
    goal = format_speed(segment.target_mph, state.units)
    return f"{segment.index + 1}. {segment.name} · {segment.direction.value} · {goal}"


def segment_count(state: LiveState) -> str:
    if state.segment is None:
        return f"{len(state.plan)} segments" if state.plan else ""
    total = f" of {len(state.plan)}" if state.plan else ""
    return f"segment {state.segment.index + 1}{total}"


def next_text(state: LiveState) -> str:
    upcoming = state.next_step()
    if upcoming is None:
        return "end of the program" if state.segment is not None else "-"
    index, step = upcoming
    goal = "-" if step.mph is None else format_speed(step.mph, state.units, unit=False)
    if step.top_mph is not None:
        goal += f"-{format_speed(step.top_mph, state.units, unit=False)}"
    goal += f" {speed_unit(state.units)}"
    return f"{index + 1}. {step.name} · {step.direction} · {goal} for {clock(step.duration_s)}"


def heart_text(state: LiveState) -> str | None:
    if state.heart_rate is None:
        return None
    bpm, source, seen_t = state.heart_rate
    if state.now - seen_t > HEART_RATE_SHOWN_S:
        return f"none for {clock(state.now - seen_t)} (last {bpm} bpm)"
    return heart_rate_text(bpm, source)


def incline_text(state: LiveState) -> str | None:
    observed = state.incline_pct
    wanted = state.segment.incline_pct if state.segment is not None else None
    if observed is None and wanted is None:
        return None
    if observed is None:
        return f"set to {wanted:.1f} %"
    if wanted is not None and abs(wanted - observed) >= 0.05:
        return f"{observed:.1f} % (going to {wanted:.1f} %)"
    return f"{observed:.1f} %"


def turnaround_text(prompt: ev.PromptEvent | None) -> str | None:
    """The time a turn-around spent so far in each phase, once its prompts carry it; after it,
    how long the last one took."""
    if prompt is None or not (phases := turnaround_phases(prompt)):
        return None
    head = "last turn-around" if prompt.phase == "done" else "turn-around"
    return f"{head}: {phases}"


# -- big digits ------------------------------------------------------------------------------
# A 3x5 pixel font drawn with half blocks: three text rows per digit.
_FONT: Mapping[str, tuple[str, str, str, str, str]] = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "011", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "001", "001", "001"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
    ".": ("0", "0", "0", "0", "1"),
    "-": ("000", "000", "111", "000", "000"),
}
_HALF = {("1", "1"): "█", ("1", "0"): "▀", ("0", "1"): "▄", ("0", "0"): " "}


def big_digits(number: str) -> list[str]:
    """`number` ("1.0") three text rows high; characters outside the font are left out."""
    rows = ["", "", ""]
    for char in number:
        glyph = _FONT.get(char)
        if glyph is None:
            continue
        pixels = [*glyph, "0" * len(glyph[0])]
        for row in range(3):
            top, bottom = pixels[2 * row], pixels[2 * row + 1]
            rows[row] += "".join(_HALF[pair] for pair in zip(top, bottom, strict=True)) + " "
    return [row.rstrip() for row in rows]


def big_speed(state: LiveState, ascii_only: bool) -> RenderableType:
    tm = state.telemetry
    number = "-" if tm is None else format_speed(tm.speed_mph, state.units, unit=False)
    unit = speed_unit(state.units)
    if ascii_only:
        return Text(f"{number} {unit}", style="bold")
    rows = big_digits(number)
    text = Text()
    for i, row in enumerate(rows):
        text.append(row, style="bold cyan")
        if i == len(rows) - 1:
            text.append(f" {unit}", style="bold")
        if i < len(rows) - 1:
            text.append("\n")
    return text


# -- layouts ---------------------------------------------------------------------------------


class LivePanel:
    """The panel for one state; the layout follows the terminal: full with room to spare,
    compact (belt speed, segment, banner, keys: four lines) on a short or dumb terminal."""

    def __init__(self, state: LiveState) -> None:
        self.state = state

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        compact = options.size.height < FULL_MIN_HEIGHT or console.is_dumb_terminal
        yield compact_layout(self.state) if compact else full_layout(self.state, options)


def render(state: LiveState) -> RenderableType:
    return LivePanel(state)


def full_layout(state: LiveState, options: ConsoleOptions) -> Group:
    header = Table.grid(expand=True)
    header.add_column(style="bold")
    header.add_column(justify="right")
    title = f"retrotread · {state.program}" if state.program else "retrotread"
    if state.device:
        title += f" · {state.device}"
    total = state.total_left()
    header.add_row(title, f"total left {clock(total)}" if total is not None else "")

    side = Table.grid(padding=(0, 2))
    side.add_column(style="bold")
    side.add_column()
    side.add_row("target", target_text(state))
    incline = incline_text(state)
    if incline is not None:
        side.add_row("incline", incline)
    heart = heart_text(state)
    if heart is not None:
        side.add_row("heart rate", heart)
    if state.distance_m is not None:
        side.add_row("distance", format_distance(state.distance_m, state.units))
    side.add_row("elapsed", clock(state.now))

    top = Table.grid(padding=(0, 4))
    top.add_column()
    top.add_column()
    top.add_row(big_speed(state, options.ascii_only), side)

    program = Table.grid(padding=(0, 2))
    program.add_column(style="bold")
    program.add_column()
    left = state.segment_left()
    segment = state.segment
    count = segment_count(state) or "segment"
    program.add_row(count, Text(segment_text(state), style="bold"))
    if segment is not None and left is not None:
        # In the grid, not the group: a bare ProgressBar ends without a line break.
        program.add_row(
            "progress",
            ProgressBar(total=segment.duration_s, completed=segment.duration_s - left, width=40),
        )
        program.add_row("segment left", f"{clock(left)}{clock_note(state)}")
    program.add_row("next", next_text(state))
    if state.cue is not None and state.now - state.cue.t <= CUE_SHOWN_S:
        program.add_row("said", Text(state.cue.text, style="dim"))

    parts: list[RenderableType] = [header, top, program]
    if state.prompt is not None:
        parts.append(Text(f">>> {state.prompt.message}", style="bold yellow"))
    phases = turnaround_text(state.turn)
    if phases is not None:
        parts.append(Text(phases, style="yellow"))
    if (
        state.warning is not None
        and state.stop_t is None
        and state.now - state.warning_t <= WARNING_SHOWN_S
    ):
        parts.append(Text(f"! {state.warning}", style="yellow"))
    flag = banner(state)
    if flag is not None:
        parts.append(flag)
    final = final_line(state)
    if final is not None:
        parts.append(final)
    else:
        parts.append(Text(keys_text(state), style="reverse red" if state.keys else "bold red"))
    return Group(*parts)


def status_line(state: LiveState) -> str:
    """Belt speed, target and where the program is, in one line."""
    tm = state.telemetry
    belt = speed(tm.speed_mph if tm is not None else None, state.units)
    parts = [f"BELT {belt}", f"target {target_text(state)}"]
    left = state.segment_left()
    if state.segment is not None and left is not None:
        count = f"/{len(state.plan)}" if state.plan else ""
        parts.append(f"{state.segment.index + 1}{count} {state.segment.name} {clock(left)}")
    total = state.total_left()
    if total is not None:
        parts.append(f"total {clock(total)}")
    return " · ".join(parts)


def compact_layout(state: LiveState) -> Group:
    """For short terminals: what must never scroll away comes first and last."""
    parts: list[RenderableType] = [Text(status_line(state), style="bold", overflow="ellipsis")]
    flag = banner(state)
    if flag is not None:
        parts.append(flag)
    elif state.prompt is not None:
        parts.append(Text(f">>> {state.prompt.message}", style="bold yellow"))
    final = final_line(state)
    if final is not None:
        parts.append(final)
    else:
        parts.append(Text(keys_text(state), style="reverse red" if state.keys else "bold red"))
    return Group(*parts)


class LineLog:
    """The view for a terminal that cannot redraw (`TERM=dumb`): lines, printed as things
    change, and a status line (belt speed, where the program is, the stop hint) when the
    segment or state changes and at most every DUMB_STATUS_EVERY_S session seconds besides."""

    def __init__(self, state: LiveState) -> None:
        self._state = state
        self._said: set[str] = set()
        self._last_notice: str | None = None
        self._status_t: float | None = None
        self._status_key: tuple[object, ...] | None = None

    def lines(self) -> list[str]:
        """The lines to print after the latest fold."""
        state = self._state
        out: list[str] = []
        notice = self._notice()
        if notice is not None and notice != self._last_notice:
            out.append(notice)
        self._last_notice = notice
        key = (
            state.segment.index if state.segment is not None else None,
            state.paused_by,
            state.stop_t is None,
        )
        due = self._status_t is None or state.now - self._status_t >= DUMB_STATUS_EVERY_S
        if state.summary is None and (key != self._status_key or due):
            out.append(f"{status_line(state)} · {keys_text(state)}")
            self._status_t = state.now
            self._status_key = key
        final = final_line(state)
        if final is not None and final.plain not in self._said:
            self._said.add(final.plain)
            out.append(final.plain)
        return out

    def _notice(self) -> str | None:
        flag = banner(self._state)
        if flag is not None:
            return flag.plain.strip()
        prompt = self._state.prompt
        return f">>> {prompt.message}" if prompt is not None else None


# -- keys ------------------------------------------------------------------------------------


class KeyDecoder:
    """Key presses from a cbreak terminal's input: one name per key (the character itself, or
    `ESC_KEY` for Esc). Arrow and function keys (CSI: ESC [ parameters final; SS3: ESC O final)
    are swallowed whole.

    When in doubt, Esc is Esc: a stop key. Esc followed by anything but `[` or `O` (another
    stop key pressed in a hurry, an Alt chord) is Esc, and what follows is decoded again as keys
    of its own; so is an `ESC [` or `ESC O` that goes on with a byte no key's sequence has (a
    space among them: a space is a stop key, never part of a sequence). A sequence cut off at
    the end of a read is kept (`waiting`) until more input comes or `timed_out` says that
    nothing did: then it was Esc, and the rest are keys."""

    def __init__(self) -> None:
        self._pending = ""

    @property
    def waiting(self) -> bool:
        return bool(self._pending)

    def feed(self, text: str) -> list[str]:
        data, self._pending = self._pending + text, ""
        keys: list[str] = []
        i = 0
        while i < len(data):
            if data[i] != ESC:
                keys.append(data[i])
                i += 1
                continue
            end = _sequence_end(data, i)
            if end is None:  # incomplete: wait for the rest (or the read-ahead to run out)
                self._pending = data[i:]
                break
            if end == i + 1:  # not a sequence: Esc, and the next byte is a key of its own
                keys.append(ESC_KEY)
            i = end
        return keys

    def timed_out(self) -> list[str]:
        """Nothing more came: what waited was Esc, and whatever followed it keys of their own."""
        pending, self._pending = self._pending, ""
        if not pending:
            return []
        return [ESC_KEY, *self.feed(pending[1:]), *self.timed_out()]


def _csi_parameter(char: str) -> bool:
    """A CSI parameter (0x30-0x3F) or intermediate byte (0x21-0x2F; not the space, 0x20)."""
    return 0x21 <= ord(char) <= 0x3F


def _final(char: str) -> bool:
    return 0x40 <= ord(char) <= 0x7E


def _sequence_end(data: str, start: int) -> int | None:
    """Where the escape sequence at `start` ends (exclusive); start + 1 when the Esc there
    begins none (it is Esc, a key); None when the input ends inside it."""
    after = start + 1
    if after == len(data):
        return None
    lead = data[after]
    if lead == "[":  # CSI: parameter and intermediate bytes, then one final byte
        i = after + 1
        while i < len(data) and _csi_parameter(data[i]):
            i += 1
        if i == len(data):
            return None
        return i + 1 if _final(data[i]) else after
    if lead == "O":  # SS3: one final byte (F1-F4, arrows in application mode)
        if after + 1 == len(data):
            return None
        return after + 2 if _final(data[after + 1]) else after
    return after


@runtime_checkable
class LocalResume(Protocol):
    """The running session of this process can resume a pause; remote channels cannot."""

    async def resume_local(self) -> None: ...


class LiveView:
    """The panel plus the keyboard. `attach` is the session attachment; `confirm` asks for Enter
    through the same key reader (a second reader on stdin would steal the keys)."""

    def __init__(
        self,
        console: Console | None = None,
        *,
        units: str = IMPERIAL,
        stdin: TextIO | None = None,
    ) -> None:
        # A stream in all but its class: rich writes, flushes and asks isatty and encoding.
        self._console = console or Console(file=cast(TextIO, QueuedStream(sys.stderr)))
        self._stdin = stdin
        self._state = LiveState(units=units)
        self._dumb = self._console.is_dumb_terminal
        self._lines = LineLog(self._state)
        self._live = Live(
            render(self._state),
            console=self._console,
            auto_refresh=False,
            vertical_overflow="crop",
        )
        self._enter: asyncio.Future[bool] | None = None
        self._drawn_at = 0.0
        self._tasks: set[asyncio.Future[None]] = set()

    @property
    def state(self) -> LiveState:
        return self._state

    async def confirm(self, plan_text: str) -> bool:
        self._console.print(plan_text)
        self._enter = asyncio.get_running_loop().create_future()
        self._state.confirming = True
        self._draw()
        try:
            return await self._enter
        finally:
            self._enter = None
            self._state.confirming = False

    def _draw(self) -> None:
        if self._dumb:
            for line in self._lines.lines():
                self._console.print(line, markup=False, highlight=False)
        else:
            self._live.update(render(self._state), refresh=True)

    @contextlib.asynccontextmanager
    async def attach(self, control: SessionControl) -> AsyncIterator[None]:
        state = self._state

        def on_event(event: ev.Event) -> None:
            # Called on the session's loop for every event: fold always, but redraw at most
            # REDRAW_HZ times a (real) second unless the walker must see it now. At
            # --time-scale 1000 a redraw per event would be a thousand a second.
            state.fold(event)
            now = time.monotonic()
            if isinstance(event, URGENT_EVENTS) or now - self._drawn_at >= 1.0 / REDRAW_HZ:
                self._drawn_at = now
                self._draw()

        def on_keys(keys: Sequence[str]) -> None:
            pressed = set(keys)
            stop = bool(pressed & STOP_KEYS)
            waiting = self._enter is not None and not self._enter.done()
            running = state.belt_started and state.stop_t is None and not waiting
            if stop:
                control.request_stop(KEY_SOURCE)
            # `p` once the belt has started, paused or not: while paused it adds the walker's
            # own pause (no countdown or turn-around resumes then). Never a resume, nor after
            # a stop.
            elif pressed & PAUSE_KEYS and running:
                self._spawn(self._pause(control))
            elif pressed & RESUME_KEYS and state.can_resume and self._may_resume():
                self._spawn(self._resume(control))
            if waiting and (stop or pressed & ENTER_KEYS):
                assert self._enter is not None
                self._enter.set_result(not stop)

        remove = control.add_listener(on_event)
        with self._drawing(), _keys(on_keys, self._stdin) as reading:
            state.keys = reading
            state.can_resume = reading and isinstance(control, LocalResume)
            self._draw()
            try:
                yield
            finally:
                remove()
                # The last frame is for the walker only: a terminal gone by now changes nothing.
                with contextlib.suppress(OSError, ValueError):
                    self._draw()
                for task in list(self._tasks):
                    task.cancel()

    def _may_resume(self) -> bool:
        """Paused, and no resume already counting down (one countdown per press is plenty)."""
        return self._state.belt_paused and not self._state.resuming

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: "asyncio.Future[None]") -> None:
        self._tasks.discard(task)
        error = None if task.cancelled() else task.exception()
        if error is not None:  # shown, not raised: the session's own events tell the rest
            self._state.warn(self._state.now, f"the key's action failed: {error}")
            with contextlib.suppress(OSError, ValueError):
                self._draw()

    async def _pause(self, control: SessionControl) -> None:
        await control.pause(KEY_SOURCE)

    async def _resume(self, control: SessionControl) -> None:
        if not isinstance(control, LocalResume):
            return
        self._state.resuming = True  # one countdown, however often `r` is pressed
        self._draw()
        try:
            await control.resume_local()
        finally:
            self._state.resuming = False  # resumed, or refused (a new pause, a stop)

    @contextlib.contextmanager
    def _drawing(self) -> Iterator[None]:
        """Show the panel while inside. Leaving draws once more, after the session's
        `summary`: a terminal that went away meanwhile must not turn a finished session into an
        error (while it runs, a listener that raises is detached by the session, so drawing
        never reaches the belt). A dumb terminal gets lines instead, without `Live`."""
        if self._dumb:
            yield
            return
        self._live.start(refresh=True)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError):
                self._live.stop()


@contextlib.contextmanager
def _keys(on_keys: Callable[[Sequence[str]], None], stdin: TextIO | None = None) -> Iterator[bool]:
    """Deliver key presses (cbreak mode, no Enter needed) while inside; yields whether keys are
    read at all (only from a terminal).

    Nothing here waits: bytes are read when the terminal has some, and a lone Esc is decided by
    a timer on the loop (ESC_READ_AHEAD_S), never by a blocking read-ahead. Beyond cbreak, the
    terminal's flow control is off (Ctrl-S would pause its output, and the next redraw would
    wait for a Ctrl-Q) and Ctrl-Z and Ctrl-\\ do not suspend or kill this process: all three
    arrive as keys, stop keys. Ctrl-C still raises SIGINT, which stops the belt."""
    stream = stdin if stdin is not None else sys.stdin
    try:
        fd = stream.fileno()
        interactive = stream.isatty()
        saved = termios.tcgetattr(fd) if interactive else None
    except (AttributeError, OSError, ValueError, termios.error):
        interactive, saved = False, None
    if not interactive or saved is None:
        yield False
        return
    loop = asyncio.get_running_loop()
    decoder = KeyDecoder()
    text = codecs.getincrementaldecoder("utf-8")(errors="replace")
    esc_timer: asyncio.TimerHandle | None = None

    def deliver(keys: Sequence[str]) -> None:
        nonlocal esc_timer
        if keys:
            on_keys(keys)
        if decoder.waiting and esc_timer is None:
            # A lone Esc, or the start of an arrow key's sequence? The rest comes in the same
            # write if it is one: decide once the loop had a moment to read it.
            esc_timer = loop.call_later(ESC_READ_AHEAD_S, waited)
        elif not decoder.waiting and esc_timer is not None:
            esc_timer.cancel()
            esc_timer = None

    def waited() -> None:
        nonlocal esc_timer
        esc_timer = None
        deliver(decoder.timed_out())

    def on_readable() -> None:
        try:
            data = os.read(fd, 64)
        except OSError:
            data = b""
        if not data:  # the terminal went away: no more keys, the session goes on
            loop.remove_reader(fd)
            deliver(decoder.timed_out())
            return
        deliver(decoder.feed(text.decode(data)))

    try:
        # Inside the try: a set-up that fails part-way still gives the terminal back as it was.
        # TCSANOW, never TCSADRAIN or TCSAFLUSH: those wait until the terminal took all output,
        # which is for ever when it takes none (suspended, stalled).
        tty.setcbreak(fd, termios.TCSANOW)
        with contextlib.suppress(OSError, termios.error):
            termios.tcsetattr(fd, termios.TCSANOW, _keys_only(termios.tcgetattr(fd), fd))
            termios.tcflush(fd, termios.TCIFLUSH)  # keys typed before the view asked for any
        loop.add_reader(fd, on_readable)
        yield True
    finally:
        loop.remove_reader(fd)
        if esc_timer is not None:
            esc_timer.cancel()
        with contextlib.suppress(OSError, termios.error):
            termios.tcsetattr(fd, termios.TCSANOW, saved)


def _keys_only(attrs: list[Any], fd: int) -> list[Any]:
    """cbreak attributes with flow control off (IXON, IXOFF) and no suspend or quit character:
    Ctrl-S, Ctrl-Q, Ctrl-Z and Ctrl-\\ arrive as bytes."""
    changed = list(attrs)
    changed[0] = attrs[0] & ~(termios.IXON | termios.IXOFF)
    try:
        disabled = os.fpathconf(fd, "PC_VDISABLE")  # _POSIX_VDISABLE: 0 on Linux, 0xff on macOS
    except (OSError, ValueError):
        return changed
    if not 0 <= disabled <= 0xFF:
        return changed
    cc = list(attrs[6])
    for name in ("VSUSP", "VDSUSP", "VQUIT"):
        index = getattr(termios, name, None)
        if isinstance(index, int) and index < len(cc):
            cc[index] = bytes([disabled])
    changed[6] = cc
    return changed
