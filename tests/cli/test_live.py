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
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.segment import Segment

from retrotread import events as ev
from retrotread.cli.live import (
    CTRL_C_TEXT,
    ESC_KEY,
    MOVING_BANNER,
    STOP_KEYS_TEXT,
    KeyDecoder,
    LineLog,
    LiveState,
    LiveView,
    big_digits,
    render,
)
from retrotread.session.control import SessionControl
from tests.support.fake_session import StubSession
from tests.support.sessions import SHORT_PLAN, simulate, write_plan

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
    assert "PAUSED over MQTT: press r to resume" in banner
    assert any("target      paused" in line for line in lines)
    assert lines[-1] == f"{STOP_KEYS_TEXT}   r: resume"
    assert all("on yellow" in style for style in styles_of(state, "PAUSED"))


def test_without_keys_a_pause_says_it_cannot_be_resumed_here_and_offers_ctrl_c() -> None:
    state = running(command(25.0, "pause", source="control-socket"), keys=False, can_resume=False)
    lines = screen(state)
    banner = next(line for line in lines if "PAUSED" in line)
    assert "by `retrotread stop` (control socket)" in banner
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
    assert "last turn-around: slowing 4 s, holding 5 s, ramping 6 s" in text


def test_a_lost_heart_rate_is_said_and_never_shown_as_current() -> None:
    state = running(ev.SafetyEvent(t=31.0, reason="heart_rate_lost", action="slow"))
    state.fold(telemetry(32.0, 0.5))  # no heart rate in the packets any more
    text = "\n".join(screen(state))
    assert "! heart rate lost: holding slow" in text
    assert "heart rate  none for 00:12 (last 97 bpm)" in text
    state.fold(telemetry(70.0, 0.5))
    assert "heart rate lost" not in "\n".join(screen(state))  # old news after a while


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
    assert lines[-1].startswith("Emergency stop from this keyboard. Belt stopped. 00:26")
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
        assert "PAUSED over MQTT" in lines[1]
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
    assert printed[-2].startswith("PAUSED over MQTT")
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
    from retrotread.session.engine import Session

    @contextlib.asynccontextmanager
    async def pause_then_resume(control: SessionControl) -> AsyncIterator[None]:
        assert isinstance(control, Session)
        loop = asyncio.get_running_loop()
        tasks: list[asyncio.Future[object]] = []

        def on_event(event: ev.Event) -> None:
            if isinstance(event, ev.SegmentEvent) and event.index == 1:
                tasks.append(asyncio.ensure_future(control.pause("mqtt")))
                loop.call_later(
                    30, lambda: tasks.append(asyncio.ensure_future(control.resume_local()))
                )

        remove = control.add_listener(on_event)
        yield
        remove()
        await asyncio.gather(*tasks)

    run = simulate(
        tmp_path, plan_file=write_plan(tmp_path, SHORT_PLAN), attachments=(pause_then_resume,)
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


TURNING_PLAN = """
name = "turning"
[[segments]]
name = "fwd"
direction = "forward"
duration_s = 30
target_mph = 2.5
[[segments]]
name = "back"
duration_s = 40
target_mph = 0.8
"""


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
        ("\x1bs", []),  # Alt-s
        ("\x1b\x1b[B", [ESC_KEY]),  # Esc, then Down arrow
        ("\x1b[Aq\x1b[D", ["q"]),
    ],
)
def test_the_key_decoder_tells_esc_from_escape_sequences(typed: str, keys: list[str]) -> None:
    decoder = KeyDecoder()
    assert decoder.feed(typed) == keys
    assert not decoder.waiting


def test_a_lone_esc_is_a_key_only_once_nothing_follows() -> None:
    decoder = KeyDecoder()
    assert decoder.feed("\x1b") == []
    assert decoder.waiting
    assert decoder.timed_out() == [ESC_KEY]
    # An arrow key split across two reads is still an arrow key.
    assert decoder.feed("\x1b") == []
    assert decoder.feed("[") == []
    assert decoder.feed("A") == []
    assert not decoder.waiting
    # A sequence cut off for good is dropped, never taken for Esc.
    assert decoder.feed("\x1b[1;") == []
    assert decoder.timed_out() == []


class ResumableStub(StubSession):
    """The stub plus the local resume of `Session` (the belt starts again, as its event says)."""

    async def resume_local(self) -> None:
        self.state = ev.SessionState.running
        self.emit(ev.CommandEvent(t=self.t, op="start", result="success"))


async def wait_for(condition: Callable[[], bool], limit_s: float = 10.0) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)


async def test_keys_on_a_terminal_arrows_do_nothing_p_pauses_r_resumes_q_stops() -> None:
    controller, terminal = pty.openpty()
    session = ResumableStub()
    out = Console(width=100, height=30, record=True, color_system=None, force_terminal=True)
    try:
        with os.fdopen(terminal, "r", closefd=False) as stdin:
            view = LiveView(out, stdin=stdin)
            async with view.attach(session):
                assert view.state.keys
                assert view.state.can_resume
                os.write(controller, b"p")  # before the belt started: nothing to pause
                os.write(controller, b"\x1b[A\x1b[B\x1b[Cx")  # arrows and an unknown key
                await wait_for(lambda: not select.select([terminal], [], [], 0)[0])  # all read
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
    finally:
        os.close(controller)
        os.close(terminal)
    assert "Emergency stop from this keyboard" in out.export_text()


async def test_a_lone_esc_stops_after_the_read_ahead() -> None:
    controller, terminal = pty.openpty()
    session = StubSession()
    out = Console(width=100, height=30, record=True, color_system=None, force_terminal=True)
    try:
        with os.fdopen(terminal, "r", closefd=False) as stdin:
            view = LiveView(out, stdin=stdin)
            async with view.attach(session):
                assert not view.state.can_resume  # the stub offers no local resume
                os.write(controller, b"\x1b")
                await wait_for(lambda: session.stopped.is_set())
    finally:
        os.close(controller)
        os.close(terminal)
    assert session.stop_sources == ["keyboard"]


async def test_without_a_terminal_on_stdin_no_keys_are_read_or_offered(tmp_path: Path) -> None:
    session = StubSession()
    out = Console(width=100, height=30, record=True, color_system=None, force_terminal=True)
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
    retrotread = Path(sys.executable).parent / "retrotread"
    server = f"retrotread-test-{uuid.uuid4().hex[:8]}"
    status = tmp_path / "exit-code"
    command = (
        f"{retrotread} run --sim --time-scale 50 --cues off --rpe 11; echo $? > {status}; sleep 60"
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
        deadline = time.monotonic() + limit_s
        while True:
            pane = tmux("capture-pane", "-p", "-t", "live")
            if condition(pane):
                return pane
            assert time.monotonic() < deadline, pane
            time.sleep(0.1)  # polling the pane for a condition, with a deadline

    tmux("new-session", "-d", "-x", "100", "-y", "30", "-s", "live", command)
    try:
        pane = pane_until(lambda text: "segment left" in text and "target      0." in text)
        assert STOP_KEYS_TEXT in pane
        assert "p: pause" in pane
        assert "retrotread · first-steps" in pane
        tmux("send-keys", "-t", "live", "q")
        pane_until(lambda _text: status.exists() and status.read_text().strip() != "")
        assert status.read_text().strip() == "3"
        pane = pane_until(lambda text: "Emergency stop from this keyboard" in text)
    finally:
        subprocess.run(["tmux", "-L", server, "kill-server"], env=env, capture_output=True)
    journals = list((tmp_path / "data" / "sessions").glob("*.jsonl"))
    stopped = [
        e
        for e in (ev.parse_event(line) for line in journals[0].read_text().splitlines())
        if isinstance(e, ev.StoppedEvent)
    ]
    assert [(s.reason, s.source) for s in stopped] == [("estop", "keyboard")]
