"""The live view as a coach beside the treadmill sees it: rendered on rich's recording console
from states folded from event lists (hand-made, and from real simulated sessions), the key
decoder, the keys on a real pseudo-terminal, and one whole session in tmux."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import termios
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

import pytest
from rich.console import Console
from rich.segment import Segment

from retrotread import events as ev
from retrotread.cli import live
from retrotread.cli.live import (
    CTRL_C_TEXT,
    ESC_KEY,
    MOVING_BANNER,
    STOP_KEYS,
    STOP_KEYS_TEXT,
    KeyDecoder,
    LineLog,
    LiveState,
    LiveView,
    big_digits,
    keys_text,
    render,
)
from tests.support.cli import LONG_PLAN
from tests.support.fake_session import StubSession
from tests.support.sessions import SHORT_PLAN, pause_then_resume, simulate, turning_plan, write_plan
from tests.support.waiting import until, until_async

PLAN: dict[str, Any] = {
    "name": "first-steps",
    "segments": [
        {"name": "warm-up", "direction": "backward", "duration_s": 60, "target_mph": 0.5},
        {"name": "steady", "direction": "backward", "duration_s": 60, "target_mph": 1.0},
        {"name": "switch", "direction": "forward", "duration_s": 120, "min_mph": 1.2,
         "max_mph": 1.5},
    ],
}  # fmt: skip


def connected(t: float = 0.0) -> ev.ConnectedEvent:
    return ev.ConnectedEvent(
        t=t,
        device="SimTread",
        speed_range_kmh=(0.5, 20.0, 0.01),
        features=[],
        program="first-steps",
        plan=PLAN,
    )


def segment(t: float, index: int = 1, **fields: Any) -> ev.SegmentEvent:
    step = PLAN["segments"][index]
    values: dict[str, Any] = {
        "name": step["name"],
        "direction": step["direction"],
        "target_mph": step.get("target_mph", step.get("min_mph")),
        "duration_s": step["duration_s"],
        **fields,
    }
    return ev.SegmentEvent(t=t, index=index, **values)


def telemetry(t: float, mph: float = 1.0, **fields: Any) -> ev.TelemetryEvent:
    return ev.TelemetryEvent(t=t, speed_mph=mph, speed_kmh=round(mph * 1.609344, 2), **fields)


def command(t: float, op: ev.CommandOp, **fields: Any) -> ev.CommandEvent:
    return ev.CommandEvent(t=t, op=op, result=fields.pop("result", "success"), **fields)


def running(
    *later: ev.Event, keys: bool = True, can_resume: bool = True, units: str = "imperial"
) -> LiveState:
    """Segment 2 of 3 under way since t=0 (belt at 1.0 mph), then `later`."""
    state = LiveState(units=units, keys=keys, can_resume=can_resume)
    for event in (
        connected(),
        command(0.0, "start"),
        segment(0.0),
        command(0.5, "set_speed", mph=0.9942, kmh=1.6),
        telemetry(20.0, 0.9942, distance_m=400.0, incline_pct=2.0, heart_rate_bpm=97,
                  heart_rate_source="strap"),
        *later,
    ):  # fmt: skip
        state.fold(event)
    return state


def screen(state: LiveState, *, width: int = 100, height: int = 40, **console: Any) -> list[str]:
    out = Console(width=width, height=height, record=True, color_system=None, **console)
    out.print(render(state))
    return [line.rstrip() for line in out.export_text().splitlines()]


def segments(state: LiveState, *, height: int = 40) -> list[Segment]:
    out = Console(width=100, height=height, force_terminal=True, color_system="standard")
    return list(out.render(render(state), out.options))


def styles_of(state: LiveState, needle: str, *, height: int = 40) -> list[str]:
    """The styles of the rendered text pieces that contain `needle`."""
    return [str(s.style) for s in segments(state, height=height) if needle in s.text]


def row(lines: Iterable[str], label: str) -> str:
    found = [line for line in lines if line.startswith(label)]
    assert len(found) == 1, (label, list(lines))
    return found[0]


# -- what the panel shows ---------------------------------------------------------------------


def test_the_panel_shows_program_segments_next_time_left_incline_heart_rate_and_the_keys() -> None:
    lines = screen(running())
    text = "\n".join(lines)
    assert lines[0].startswith("retrotread · first-steps · SimTread")
    assert lines[0].endswith("total left 02:40")  # 40 s of "steady" and 120 s of "switch"
    assert "segment 2 of 3  2. steady · backward · 1.0 mph" in lines
    assert row(lines, "segment left").endswith("00:40")
    assert row(lines, "next").endswith("3. switch · forward · 1.2-1.5 mph for 02:00")
    assert "incline     2.0 %" in text
    assert "heart rate  97 bpm (strap)" in text
    assert "distance    0.25 mi" in text
    assert lines[-1] == f"{STOP_KEYS_TEXT}   p: pause"


def test_the_belt_speed_is_large_and_beside_a_target_that_reads_as_asked() -> None:
    lines = screen(running())
    digits = big_digits("1.0")
    assert len(digits) == 3
    for row_text in digits:
        assert any(line.startswith(row_text) for line in lines), (row_text, lines)
    # The speed written was 1.6 km/h = 0.994 mph: the target reads 1.0 mph, as the plan said.
    assert any("target      1.0 mph" in line for line in lines)
    assert not any("0.99" in line for line in lines)


def test_metric_units_everywhere_a_person_reads() -> None:
    lines = screen(running(units="metric"))
    text = "\n".join(lines)
    assert "target      1.6 km/h" in text
    assert "distance    400 m" in text
    assert "2. steady · backward · 1.6 km/h" in text
    assert "next            3. switch · forward · 1.9-2.4 km/h for 02:00" in text
    assert " mph" not in text
    assert any(line.rstrip().endswith("km/h") for line in lines[1:4])  # beside the big digits


def test_paused_says_who_paused_and_how_to_resume() -> None:
    state = running(command(25.0, "pause", source="mqtt"))
    lines = screen(state)
    banner = next(line for line in lines if "PAUSED" in line)
    assert "PAUSED remotely (MQTT): press r to resume" in banner
    assert any("target      paused" in line for line in lines)
    assert lines[-1] == f"{STOP_KEYS_TEXT}   r: resume"
    assert all("on yellow" in style for style in styles_of(state, "PAUSED"))


def test_without_keys_a_pause_says_it_cannot_be_resumed_here_and_offers_ctrl_c() -> None:
    state = running(command(25.0, "pause", source="control-socket"), keys=False, can_resume=False)
    lines = screen(state)
    banner = next(line for line in lines if "PAUSED" in line)
    assert "from another terminal (the control socket)" in banner
    assert "cannot resume" in banner
    assert lines[-1] == CTRL_C_TEXT
    assert "r: resume" not in "\n".join(lines)


def test_the_segment_clock_stands_still_while_paused_and_runs_on_after_the_resume() -> None:
    state = running(command(20.0, "pause", source="keyboard"))
    assert state.segment_left() == 40.0
    state.fold(telemetry(80.0, 0.0))  # a minute paused: the clock has not moved
    assert state.segment_left() == 40.0
    assert state.total_left() == 160.0
    lines = screen(state)
    assert row(lines, "segment left").endswith("00:40 (clock stopped)")
    state.fold(command(90.0, "start"))  # resumed after 70 s
    state.fold(telemetry(100.0, 0.5))
    assert state.segment_left() == 30.0
    assert row(screen(state), "segment left").endswith("00:30")


def test_a_segment_shortened_by_its_turn_around_counts_down_from_what_is_left() -> None:
    state = LiveState()
    state.fold(connected())
    state.fold(segment(10.0, index=2, remaining_s=101.5))
    state.fold(telemetry(11.5, 0.5))
    assert state.segment_left() == 100.0


def test_the_turn_arounds_own_pause_is_no_paused_state_and_its_clock_runs() -> None:
    state = running(command(20.0, "pause", source="turnaround"))
    state.fold(telemetry(30.0, 0.0))
    assert state.segment_left() == 30.0
    text = "\n".join(screen(state))
    assert "PAUSED" not in text
    assert "r: resume" in text  # the walker may end a paused turn-around early


def test_a_turn_around_shows_one_prompt_at_a_time_and_its_phase_times() -> None:
    state = running(
        ev.PromptEvent(t=21.0, message="Slowing down to turn around: keep walking BACKWARD",
                       kind="turnaround", phase="slowing"),
        ev.PromptEvent(t=25.0, message="Turn around now: next you walk FORWARD.",
                       kind="turnaround", phase="turn", slowing_s=4.0),
    )  # fmt: skip
    text = "\n".join(screen(state))
    assert ">>> Turn around now: next you walk FORWARD." in text
    assert "Slowing down" not in text
    assert "turn-around: slowing 4 s" in text
    state.fold(
        ev.PromptEvent(t=40.0, message="", kind="turnaround", phase="done",
                       slowing_s=4.0, holding_s=5.0, ramping_s=6.0)
    )  # fmt: skip
    text = "\n".join(screen(state))
    assert ">>>" not in text
    assert "last turn-around: slowing 4 s, turning 5 s, ramping 6 s" in text


def test_a_lost_heart_rate_is_said_and_never_shown_as_current() -> None:
    state = running(ev.SafetyEvent(t=31.0, reason="heart_rate_lost", action="slow"))
    state.fold(telemetry(32.0, 0.5))  # no heart rate in the packets any more
    text = "\n".join(screen(state))
    assert "! no heart rate: holding slow" in text
    assert "heart rate  none for 00:12 (last 97 bpm)" in text
    state.fold(telemetry(70.0, 0.5))
    assert "! no heart rate" not in "\n".join(screen(state))  # old news after a while


@pytest.mark.parametrize(
    "trouble",
    [
        ev.SafetyEvent(t=30.0, reason="stop_unverified", action="stop"),
        ev.CueEvent(t=30.0, kind="belt_moving", text="Belt still moving: stop it at the console"),
        ev.StoppedEvent(t=30.0, reason="completed", belt_mph=0.8, source="program"),
    ],
    ids=["stop_unverified", "belt_moving cue", "stopped while moving"],
)
def test_an_unverified_stop_is_a_red_banner_and_never_a_routine_final_line(
    trouble: ev.Event,
) -> None:
    state = running(command(25.0, "stop", source="program"), telemetry(29.0, 0.8), trouble)
    lines = screen(state)
    assert any(MOVING_BANNER in line for line in lines)
    assert all("on red" in style for style in styles_of(state, "BELT STILL MOVING"))
    state.fold(ev.StoppedEvent(t=31.0, reason="completed", belt_mph=0.8, source="program"))
    state.fold(
        ev.SummaryEvent(
            t=31.0, outcome="stopped", duration_s=31.0, distance_m=400.0, max_speed_mph=1.0,
            session="s1",
        )
    )  # fmt: skip
    lines = screen(state)
    assert any(MOVING_BANNER in line for line in lines)
    final = lines[-1]
    assert "session s1" in final
    assert "Belt stopped" not in final
    assert "stopped: completed" not in "\n".join(lines)
    assert all("red" in style for style in styles_of(state, "session s1"))


def test_a_stop_the_treadmill_refused_is_red_too() -> None:
    state = running(command(25.0, "stop", source="keyboard", result="operation_failed"))
    assert any(MOVING_BANNER in line for line in screen(state))


def test_a_verified_stop_ends_with_who_stopped_and_no_keys() -> None:
    state = running(
        command(25.0, "stop", source="keyboard"),
        telemetry(26.0, 0.0),
        ev.StoppedEvent(t=26.0, reason="estop", belt_mph=0.0, source="keyboard"),
        ev.SummaryEvent(t=26.0, outcome="stopped", duration_s=26.0, distance_m=400.0,
                        max_speed_mph=1.0, session="s1"),
    )  # fmt: skip
    lines = screen(state)
    assert lines[-1].startswith("Stopped by you (a key in the live view). Belt stopped. 00:26")
    assert not any(STOP_KEYS_TEXT in line or "BELT STILL" in line for line in lines)
    assert re.search(r"target +-$", "\n".join(lines), re.MULTILINE)
    assert row(lines, "segment left").endswith("00:35 (clock stopped)")


def test_keys_are_offered_only_when_they_are_read() -> None:
    with_keys = "\n".join(screen(running()))
    without = screen(running(keys=False, can_resume=False))
    assert STOP_KEYS_TEXT in with_keys
    assert without[-1] == CTRL_C_TEXT
    assert not any("space" in line or "Esc" in line or "p: pause" in line for line in without)


def test_while_asking_to_start_enter_is_offered() -> None:
    state = running()
    state.confirming = True
    assert screen(state)[-1] == "Enter: start the belt   space / s / q / Esc: do not start"


@pytest.mark.parametrize(
    ("height", "console"),
    [(8, {}), (40, {"force_terminal": True, "_environ": {"TERM": "dumb"}})],
    ids=["8 rows", "TERM=dumb"],
)
def test_short_and_dumb_terminals_get_the_compact_view(
    height: int, console: dict[str, Any]
) -> None:
    for keys, hint in ((True, STOP_KEYS_TEXT), (False, CTRL_C_TEXT)):
        state = running(command(25.0, "pause", source="mqtt"), keys=keys, can_resume=keys)
        lines = [line for line in screen(state, height=height, **console) if line]
        assert len(lines) <= 4
        assert lines[0] == "BELT 1.0 mph · target paused · 2/3 steady 00:35 · total 02:35"
        assert "PAUSED remotely (MQTT)" in lines[1]
        assert lines[-1].startswith(hint)


def test_a_dumb_terminal_gets_lines_with_the_belt_speed_and_the_stop_hint() -> None:
    state = LiveState(keys=False)
    log = LineLog(state)
    printed: list[str] = []

    def fold(event: ev.Event) -> None:
        state.fold(event)
        printed.extend(log.lines())

    for event in (connected(), segment(0.0), telemetry(1.0, 1.0)):
        fold(event)
    assert printed == [
        f"BELT - · target - · total 04:00 · {CTRL_C_TEXT}",
        f"BELT - · target - · 2/3 steady 01:00 · total 03:00 · {CTRL_C_TEXT}",
    ]
    for t in range(2, 14):  # routine telemetry: no new line for a while
        fold(telemetry(float(t), 1.0))
    assert len(printed) == 2
    fold(command(14.0, "pause", source="mqtt"))
    assert printed[-2].startswith("PAUSED remotely (MQTT)")
    assert printed[-1].startswith("BELT 1.0 mph · target paused")
    fold(telemetry(15.0, 0.0))
    assert len(printed) == 4  # the banner is printed once, not per event
    fold(telemetry(40.0, 0.0))
    assert (
        printed[-1]
        == f"BELT 0.0 mph · target paused · 2/3 steady 00:46 · total 02:46 · {CTRL_C_TEXT}"
    )


# -- real sessions, folded ------------------------------------------------------------------


def test_the_clock_matches_the_program_through_a_real_pause(tmp_path: Path) -> None:
    """A session on the simulator, paused over MQTT for 30 s in its second segment and resumed
    by the walker: after the resume, the view's segment clock counts down to the moment the
    program really moved on, to within the pacer's 1 s look at the pause."""
    in_the_second_segment = pause_then_resume(
        lambda event: isinstance(event, ev.SegmentEvent) and event.index == 1, resume_after_s=30
    )
    run = simulate(
        tmp_path, plan_file=write_plan(tmp_path, SHORT_PLAN), attachments=(in_the_second_segment,)
    )
    assert run.exit_code == 0
    # The program's last segment really ended when the program's Stop was written.
    ended = next(e for e in run.events if isinstance(e, ev.CommandEvent) and e.op == "stop").t
    paused_left: list[float] = []
    resumed = 0
    state = LiveState()
    for event in run.events:
        state.fold(event)
        left = state.segment_left()
        if state.segment is None or state.segment.index != 1 or left is None:
            continue
        if state.paused:
            paused_left.append(left)
        elif isinstance(event, ev.TelemetryEvent) and state.stop_t is None and paused_left:
            resumed += 1
            assert abs(left - (ended - state.now)) <= 1.5, (state.now, left, ended)
    assert len(paused_left) > 10  # telemetry kept coming while paused: the clock stood still
    assert max(paused_left) - min(paused_left) <= 1e-9
    assert resumed > 10
    assert "PAUSED" not in "\n".join(screen(state))


TURNING_PLAN = turning_plan(forward=(30, 2.5), backward=(40, 0.8))


def test_total_time_left_runs_smoothly_through_a_real_turn_around(tmp_path: Path) -> None:
    """The slow-down before a turn runs past its segment's deadline and the next segment is
    shorter by as much (its `remaining_s`): the total clock counts down through it without a
    jump, and reaches 0 when the program's Stop is written."""
    run = simulate(tmp_path, plan_file=write_plan(tmp_path, TURNING_PLAN))
    assert run.exit_code == 0
    state = LiveState()
    last: tuple[float, float] | None = None
    slowing_seen = False
    for event in run.events:
        state.fold(event)
        total = state.total_left()
        if state.segment is None or total is None or state.stop_t is not None:
            continue
        slowing_seen |= state.prompt is not None and state.prompt.phase == "slowing"
        if last is not None:
            t, before = last
            assert abs((before - total) - (state.now - t)) <= 1.0, (state.now, before, total)
        last = (state.now, total)
    stop = next(e for e in run.events if isinstance(e, ev.CommandEvent) and e.op == "stop")
    assert last is not None
    assert abs(last[1] - (stop.t - last[0])) <= 1.5
    assert slowing_seen


def test_a_stop_the_treadmill_never_acknowledges_ends_red(tmp_path: Path) -> None:
    run = simulate(
        tmp_path, plan_file=write_plan(tmp_path, SHORT_PLAN), sim_faults=("reject@0:stop",)
    )
    assert run.exit_code != 0
    state = LiveState(keys=True)
    for event in run.events:
        state.fold(event)
    assert state.stop_trouble
    lines = screen(state)
    assert any(MOVING_BANNER in line for line in lines)
    assert all("on red" in style for style in styles_of(state, "BELT STILL MOVING"))
    assert "Belt stopped" not in lines[-1]


# -- keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "keys"),
    [
        ("q", ["q"]),
        (" s", [" ", "s"]),
        ("p", ["p"]),
        ("\x1b[A", []),  # Up arrow
        ("\x1b[1;5C", []),  # Ctrl-Right
        ("\x1bOP", []),  # F1
        ("\x1b[15~", []),  # F5
        ("\x1b[200~", []),  # the start of a bracketed paste
        ("\x1b\x1b[B", [ESC_KEY]),  # Esc, then Down arrow
        ("\x1b[Aq\x1b[D", ["q"]),
        # When in doubt, Esc is Esc (a stop key) and what follows is a key of its own.
        ("\x1bs", [ESC_KEY, "s"]),  # Esc then s in a hurry, or Alt-s: a stop either way
        ("\x1bq", [ESC_KEY, "q"]),
        ("\x1b ", [ESC_KEY, " "]),
        ("\x1b\x1b", [ESC_KEY, ESC_KEY]),  # the second one alone once nothing follows
        ("\x1b[ ", [ESC_KEY, "[", " "]),  # no sequence goes on with a space
        ("\x1b[1; ", [ESC_KEY, "[", "1", ";", " "]),
        ("\x1bO ", [ESC_KEY, "O", " "]),
        ("\x1b[\x1b[A", [ESC_KEY, "["]),  # Esc, [, then an Up arrow
        ("\x13\x1a\x1c", ["\x13", "\x1a", "\x1c"]),  # Ctrl-S, Ctrl-Z, Ctrl-backslash
    ],
)
def test_the_key_decoder_tells_esc_from_escape_sequences(typed: str, keys: list[str]) -> None:
    decoder = KeyDecoder()
    assert decoder.feed(typed) + decoder.timed_out() == keys
    assert not decoder.waiting


@pytest.mark.parametrize("key", [ESC_KEY, " ", "s", "S", "q", "Q", "\x13", "\x1a", "\x1c"])
def test_esc_and_the_panic_keys_stop(key: str) -> None:
    assert key in STOP_KEYS


def test_a_lone_esc_is_a_key_only_once_nothing_follows() -> None:
    decoder = KeyDecoder()
    assert decoder.feed("\x1b") == []
    assert decoder.waiting
    assert decoder.timed_out() == [ESC_KEY]
    # An arrow key split across reads is still an arrow key.
    assert decoder.feed("\x1b") == []
    assert decoder.feed("[") == []
    assert decoder.feed("1;5") == []
    assert decoder.feed("C") == []
    assert not decoder.waiting
    assert decoder.feed("\x1bO") == []
    assert decoder.feed("A") == []
    # A sequence cut off for good was an Esc after all (with keys after it): a stop.
    assert decoder.feed("\x1b[1;") == []
    assert decoder.timed_out() == [ESC_KEY, "[", "1", ";"]
    assert decoder.feed("\x1bO") == []
    assert decoder.timed_out() == [ESC_KEY, "O"]
    assert not decoder.waiting
    # Esc, then a space in the next read: both stop keys.
    assert decoder.feed("\x1b") == []
    assert decoder.feed(" ") == [ESC_KEY, " "]
    # Esc twice, then nothing: two Escs.
    assert decoder.feed("\x1b\x1b") == [ESC_KEY]
    assert decoder.timed_out() == [ESC_KEY]


class ResumableStub(StubSession):
    """The stub plus the local resume of `Session` (the belt starts again, as its event says)."""

    async def resume_local(self) -> None:
        self.state = ev.SessionState.running
        self.emit(ev.CommandEvent(t=self.t, op="start", result="success"))


async def wait_for(condition: Callable[[], bool], limit_s: float = 10.0) -> None:
    """Keys go through a real terminal, whose delivery announces nothing: polled."""
    await until_async(condition, limit_s=limit_s, what="the keys' effect")


@contextlib.contextmanager
def typing_on_a_pty() -> Iterator[tuple[int, TextIO]]:
    """A pseudo-terminal: the end a person types into (a file descriptor), and the terminal's
    end as a stdin for the view; both closed at the end."""
    controller, terminal = pty.openpty()
    try:
        with os.fdopen(terminal, "r", closefd=False) as stdin:
            yield controller, stdin
    finally:
        os.close(controller)
        os.close(terminal)


def recording_console() -> Console:
    return Console(width=100, height=30, record=True, color_system=None, force_terminal=True)


async def test_keys_on_a_terminal_arrows_do_nothing_p_pauses_r_resumes_q_stops() -> None:
    session = ResumableStub()
    out = recording_console()
    with typing_on_a_pty() as (controller, stdin):
        view = LiveView(out, stdin=stdin)
        async with view.attach(session):
            assert view.state.keys
            assert view.state.can_resume
            os.write(controller, b"p")  # before the belt started: nothing to pause
            os.write(controller, b"\x1b[A\x1b[B\x1b[Cx")  # arrows and an unknown key
            await wait_for(lambda: not select.select([stdin], [], [], 0)[0])  # all read
            assert session.pause_sources == []
            session.emit(ev.CommandEvent(t=0.0, op="start", result="success"))
            os.write(controller, b"p")
            await wait_for(lambda: session.pause_sources == ["keyboard"])
            assert session.stop_sources == []
            assert view.state.paused_by == "keyboard"
            os.write(controller, b"r")
            await wait_for(lambda: view.state.paused_by is None)
            os.write(controller, b"q")
            await wait_for(lambda: session.stopped.is_set())
        assert session.stop_sources == ["keyboard"]
    assert "Stopped by you (a key in the live view)" in out.export_text()


async def test_a_lone_esc_stops_after_the_read_ahead() -> None:
    session = StubSession()
    with typing_on_a_pty() as (controller, stdin):
        view = LiveView(recording_console(), stdin=stdin)
        async with view.attach(session):
            assert not view.state.can_resume  # the stub offers no local resume
            os.write(controller, b"\x1b")
            await wait_for(lambda: session.stopped.is_set())
    assert session.stop_sources == ["keyboard"]


def all_read(stdin: TextIO) -> bool:
    return not select.select([stdin], [], [], 0)[0]


async def test_p_while_paused_reaches_the_session_and_after_a_stop_nothing_does() -> None:
    """`p` during a turn-around's own pause (the pacer would resume it) and during the
    walker's "Resuming in 3, 2, 1" adds the keyboard's pause; after a stop it is no key."""
    session = ResumableStub()
    with typing_on_a_pty() as (controller, stdin):
        view = LiveView(recording_console(), stdin=stdin)
        async with view.attach(session):
            session.emit(ev.CommandEvent(t=1.0, op="start", result="success"))
            session.emit(ev.CommandEvent(t=2.0, op="pause", result="success", source="turnaround"))
            assert "p: stay paused" in keys_text(view.state)
            os.write(controller, b"p")
            await wait_for(lambda: session.pause_sources == ["keyboard"])
            # The walker's own pause, then the countdown of a resume: `p` again keeps it paused.
            session.emit(ev.CommandEvent(t=3.0, op="pause", result="success", source="keyboard"))
            session.emit(ev.CueEvent(t=4.0, kind="resuming", text="Resuming in 3"))
            assert view.state.resuming
            assert "p: stay paused" in keys_text(view.state)
            os.write(controller, b"P")
            await wait_for(lambda: session.pause_sources == ["keyboard", "keyboard"])
            assert session.stop_sources == []
            os.write(controller, b"q")
            await wait_for(lambda: session.stopped.is_set())
            os.write(controller, b"p")
            await wait_for(lambda: all_read(stdin))
            await asyncio.sleep(0)  # let a (wrongly) spawned pause run
    assert session.pause_sources == ["keyboard", "keyboard"]
    assert session.stop_sources == ["keyboard"]


async def test_the_esc_read_ahead_is_a_timer_and_never_holds_up_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An Esc waits for what follows it on a timer of the loop: meanwhile the loop runs (events
    are drawn), and a stop key in the next read stops at once, with the Esc."""
    monkeypatch.setattr(live, "ESC_READ_AHEAD_S", 30.0)  # does not run out in this test
    session = StubSession()
    with typing_on_a_pty() as (controller, stdin):
        view = LiveView(recording_console(), stdin=stdin)
        async with view.attach(session):
            os.write(controller, b"\x1b")
            await wait_for(lambda: all_read(stdin))
            session.tick(dt=5.0)  # the loop is free while the Esc waits
            assert view.state.now == 5.0
            assert session.stop_sources == []
            os.write(controller, b"q")
            await wait_for(lambda: session.stopped.is_set())
    assert session.stop_sources == ["keyboard"]


async def test_ctrl_s_stops_and_flow_control_is_off_only_while_keys_are_read() -> None:
    """With IXON on, Ctrl-S would pause the terminal's output and the next redraw would wait
    for a Ctrl-Q, the session's loop with it. While the view reads keys, flow control is off
    and Ctrl-S (like Ctrl-Z and Ctrl-backslash, which would suspend or kill the process) is a
    stop key; the terminal is as it was afterwards."""
    session = StubSession()
    with typing_on_a_pty() as (controller, stdin):
        before = termios.tcgetattr(stdin)
        assert before[0] & termios.IXON  # a terminal's default
        view = LiveView(recording_console(), stdin=stdin)
        async with view.attach(session):
            during = termios.tcgetattr(stdin)
            assert not during[0] & (termios.IXON | termios.IXOFF)
            assert not during[3] & termios.ICANON
            assert during[3] & termios.ISIG  # Ctrl-C still raises SIGINT
            assert during[6][termios.VSUSP] != b"\x1a"
            assert during[6][termios.VQUIT] != b"\x1c"
            os.write(controller, b"\x13")
            await wait_for(lambda: session.stopped.is_set())
        assert termios.tcgetattr(stdin) == before
    assert session.stop_sources == ["keyboard"]


async def test_without_a_terminal_on_stdin_no_keys_are_read_or_offered(tmp_path: Path) -> None:
    session = StubSession()
    out = recording_console()
    with (tmp_path / "stdin").open("w+") as stdin:
        view = LiveView(out, stdin=stdin)
        async with view.attach(session):
            assert not view.state.keys
            session.tick()
    assert CTRL_C_TEXT in out.export_text()
    assert STOP_KEYS_TEXT not in out.export_text()


# -- one whole session in tmux -------------------------------------------------------------


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_in_tmux_the_view_shows_speed_and_keys_and_q_stops_the_session(tmp_path: Path) -> None:
    """An hour-long plan at x50 (72 s) that `q` ends long before: the panel is waited for, with
    a deadline, however slowly a loaded machine gets there."""
    retrotread = Path(sys.executable).parent / "retrotread"
    server = f"retrotread-test-{uuid.uuid4().hex[:8]}"
    status = tmp_path / "exit-code"
    plan = tmp_path / "long.toml"
    plan.write_text(LONG_PLAN)
    command = (
        f"{retrotread} run --sim --plan {plan} --time-scale 50 --cues off --rpe 11;"
        f" echo $? > {status}; sleep 60"
    )
    env = {
        **os.environ,
        "RETROTREAD_DATA_DIR": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "TERM": "xterm-256color",
    }

    def tmux(*args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", server, *args], env=env, capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def pane_until(condition: Callable[[str], bool], limit_s: float = 60.0) -> str:
        last = [""]

        def shown() -> str | None:
            last[0] = tmux("capture-pane", "-p", "-t", "live")
            return last[0] if condition(last[0]) else None

        return until(
            shown, limit_s=limit_s, what=lambda: f"such pane; it shows:\n{last[0]}", interval_s=0.1
        )

    tmux("new-session", "-d", "-x", "100", "-y", "30", "-s", "live", command)
    try:
        # The belt started (`p` is offered) and has a target.
        pane = pane_until(
            lambda text: "segment left" in text and "p: pause" in text and "target      " in text
        )
        assert STOP_KEYS_TEXT in pane
        assert "retrotread · long" in pane
        assert "1. long · backward · 1.0 mph" in pane
        tmux("send-keys", "-t", "live", "q")
        pane_until(lambda _text: status.exists() and status.read_text().strip() != "")
        assert status.read_text().strip() == "3"
        pane = pane_until(lambda text: "Stopped by you (a key in the live view)" in text)
    finally:
        subprocess.run(["tmux", "-L", server, "kill-server"], env=env, capture_output=True)
    journals = list((tmp_path / "data" / "sessions").glob("*.jsonl"))
    stopped = [
        e
        for e in (ev.parse_event(line) for line in journals[0].read_text().splitlines())
        if isinstance(e, ev.StoppedEvent)
    ]
    assert [(s.reason, s.source) for s in stopped] == [("estop", "keyboard")]
