"""The live terminal view of a running session, and the keys that stop the belt.

It is a session attachment: it listens to the event stream (never polls the belt) and redraws a
small rich panel; space, `s` and Esc call `request_stop`, the same hot path as the control socket.
Keys are read in cbreak mode, and only when stdin is a terminal, with the terminal restored on
exit whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import termios
import time
import tty
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from retrotread import events as ev
from retrotread.channels.sinks import describe, format_clock
from retrotread.session.control import SessionControl

STOP_KEYS = frozenset({" ", "s", "S", "\x1b"})
RESUME_KEYS = frozenset({"r", "R"})
KEY_SOURCE = "keyboard"
REDRAW_HZ = 10
URGENT_EVENTS = (ev.PromptEvent, ev.SafetyEvent, ev.StoppedEvent, ev.SummaryEvent, ev.SegmentEvent)


@dataclass
class LiveState:
    """What the panel shows, folded from the events."""

    device: str = ""
    segment: ev.SegmentEvent | None = None
    segment_started: float = 0.0
    target_mph: float | None = None
    telemetry: ev.TelemetryEvent | None = None
    now: float = 0.0
    messages: list[str] = field(default_factory=list)
    final: str | None = None

    def fold(self, event: ev.Event) -> None:
        self.now = max(self.now, event.t)
        match event:
            case ev.ConnectedEvent():
                self.device = event.device
            case ev.SegmentEvent():
                self.segment = event
                self.segment_started = event.t
                self.target_mph = event.target_mph
            case ev.CommandEvent(op="set_speed", result="success"):
                self.target_mph = event.mph
            case ev.TelemetryEvent():
                self.telemetry = event
            case ev.StoppedEvent():
                self.target_mph = None  # nothing is asked of the belt any more
                self._note(describe(event))
            case ev.PromptEvent() | ev.SafetyEvent():
                self._note(describe(event))
            case ev.SummaryEvent():
                self.final = describe(event)

    def _note(self, text: str | None) -> None:
        if text:
            self.messages = [*self.messages[-2:], text]


def render(state: LiveState) -> Group:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    tm = state.telemetry
    belt = f"{tm.speed_mph:.2f} mph" if tm is not None else "-"
    target = f"{state.target_mph:.2f} mph" if state.target_mph is not None else "-"
    table.add_row("device", state.device or "connecting...")
    table.add_row("belt / target", f"{belt} / {target}")
    parts: list[RenderableType] = [table]
    segment = state.segment
    if segment is not None:
        done = min(max(state.now - state.segment_started, 0.0), segment.duration_s)
        left = segment.duration_s - done
        table.add_row("segment", f"{segment.index + 1}. {segment.name} ({segment.direction})")
        # In the grid, not the group: a bare ProgressBar ends without a line break, and the line
        # after it would be drawn on the same row.
        table.add_row("progress", ProgressBar(total=segment.duration_s, completed=done, width=40))
        table.add_row("segment left", format_clock(left))
    if tm is not None and tm.distance_m is not None:
        table.add_row("distance", f"{tm.distance_m:.0f} m")
    if tm is not None and tm.heart_rate_bpm is not None:
        source = f" ({tm.heart_rate_source})" if tm.heart_rate_source else ""
        table.add_row("heart rate", f"{tm.heart_rate_bpm} bpm{source}")
    parts.extend(Text(message, style="bold yellow") for message in state.messages)
    if state.final is not None:
        parts.append(Text(state.final, style="bold"))
    else:
        parts.append(
            Text("space / s / Esc: STOP THE BELT   r: resume after a pause", style="reverse red")
        )
    return Group(*parts)


class LiveView:
    """The panel plus the keyboard. `attach` is the session attachment; `confirm` asks for Enter
    through the same key reader (a second reader on stdin would steal the keys)."""

    def __init__(self, console: Console | None = None) -> None:
        self._console = console or Console(stderr=True)
        self._state = LiveState()
        self._live = Live(render(self._state), console=self._console, auto_refresh=False)
        self._enter: asyncio.Future[bool] | None = None
        self._drawn_at = 0.0
        self._tasks: set[asyncio.Future[None]] = set()

    async def confirm(self, plan_text: str) -> bool:
        self._console.print(plan_text)
        self._enter = asyncio.get_running_loop().create_future()
        try:
            return await self._enter
        finally:
            self._enter = None

    @contextlib.asynccontextmanager
    async def attach(self, control: SessionControl) -> AsyncIterator[None]:
        def on_event(event: ev.Event) -> None:
            # Called on the session's loop for every event: fold always, but redraw at most
            # REDRAW_HZ times a (real) second unless the walker must see it now. At
            # --time-scale 1000 a redraw per event would be a thousand a second.
            self._state.fold(event)
            now = time.monotonic()
            if isinstance(event, URGENT_EVENTS) or now - self._drawn_at >= 1.0 / REDRAW_HZ:
                self._drawn_at = now
                self._live.update(render(self._state), refresh=True)

        def on_keys(keys: str) -> None:
            stop = any(key in STOP_KEYS for key in keys)
            if stop:
                control.request_stop(KEY_SOURCE)
            elif any(key in RESUME_KEYS for key in keys):
                self._resume(control)
            waiting = self._enter is not None and not self._enter.done()
            if waiting and (stop or any(key in "\r\n" for key in keys)):
                assert self._enter is not None
                self._enter.set_result(not stop)

        remove = control.add_listener(on_event)
        with _drawing(self._live), _keys(on_keys):
            try:
                yield
            finally:
                remove()
                # The last frame is for the walker only: a terminal gone by now changes nothing.
                with contextlib.suppress(OSError, ValueError):
                    self._live.update(render(self._state), refresh=True)

    def _resume(self, control: SessionControl) -> None:
        # Only the session object of this process offers a local resume; remote channels can't.
        resume = getattr(control, "resume_local", None)
        if resume is not None:
            task = asyncio.ensure_future(resume())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


@contextlib.contextmanager
def _drawing(live: Live) -> Iterator[None]:
    """Show the panel while inside. Leaving draws once more, after the session's `summary`: a
    terminal that went away meanwhile must not turn a finished session into an error (while it
    runs, a listener that raises is detached by the session, so drawing never reaches the belt)."""
    live.start(refresh=True)
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            live.stop()


@contextlib.contextmanager
def _keys(on_keys: Callable[[str], None]) -> Iterator[None]:
    """Deliver key presses (cbreak mode, no Enter needed) while inside; only on a terminal."""
    stdin = sys.stdin
    if not stdin.isatty():
        yield
        return
    fd = stdin.fileno()
    saved = termios.tcgetattr(fd)
    loop = asyncio.get_running_loop()
    tty.setcbreak(fd)
    loop.add_reader(fd, lambda: on_keys(os.read(fd, 32).decode(errors="replace")))
    try:
        yield
    finally:
        loop.remove_reader(fd)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
