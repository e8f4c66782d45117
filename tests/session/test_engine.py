"""Whole sessions on the simulator, on virtual time: the exit code and `stopped.reason` of SPEC.md
for each fault kind and each quirk profile, and the outside controls of a running session."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from retrotread.errors import ConnectError
from retrotread.events import (
    CommandEvent,
    CueEvent,
    Event,
    PromptEvent,
    SafetyEvent,
    SegmentEvent,
    SessionState,
    SummaryEvent,
    TelemetryEvent,
)
from retrotread.run import (
    RunOptions,
)
from retrotread.session.control import SessionControl
from retrotread.session.engine import Session
from retrotread.session.journal import read_journal
from simulators.harness import Simulator
from tests.support.sessions import (
    SHORT_PLAN,
    control_writes,
    pause_then_resume,
    simulate,
    turning_plan,
    write_plan,
)


def test_first_steps_completes_with_every_event_in_order(tmp_path: Path) -> None:
    run = simulate(tmp_path, program="first-steps")
    assert run.exit_code == 0
    assert run.stopped.reason == "completed"
    kinds = [e.event for e in run.events]
    assert kinds[0] == "connected"
    # The closing pair; the walker's `completed` cue (belt at 0) may stand between them.
    assert [k for k in kinds if k != "cue"][-2:] == ["stopped", "summary"]
    segments = run.of(SegmentEvent)
    assert [s.index for s in segments] == list(range(len(segments)))
    summary = run.events[-1]
    assert isinstance(summary, SummaryEvent)
    assert summary.outcome == "completed"
    assert run.result is not None
    assert summary.session == run.result.session_id
    assert summary.distance_m > 0
    assert 0.5 <= summary.max_speed_mph <= 1.0 + 0.05  # first-steps never above 1.0 mph
    assert run.final_belt_kmh == 0
    assert read_journal(run.result.journal) == run.events


def test_belt_starts_at_floor_and_ramps(tmp_path: Path) -> None:
    run = simulate(tmp_path, plan_file=write_plan(tmp_path, SHORT_PLAN))
    assert run.exit_code == 0
    speeds = [e for e in run.events if isinstance(e, CommandEvent) and e.op == "set_speed"]
    ops = [e.op for e in run.events if isinstance(e, CommandEvent)]
    assert ops[0] == "request_control"
    assert ops.index("start") < ops.index("stop")
    assert speeds[0].mph == pytest.approx(0.5, abs=0.01)
    for before, after in itertools.pairwise(speeds):
        assert after.mph is not None
        assert before.mph is not None
        assert abs(after.mph - before.mph) <= 0.1 + 1e-6
        assert after.t - before.t >= 1.0 - 1e-6
    assert max(s.mph or 0 for s in speeds) == pytest.approx(1.5, abs=0.01)


def test_telemetry_arrives_at_the_device_rate(tmp_path: Path) -> None:
    run = simulate(tmp_path, plan_file=write_plan(tmp_path, SHORT_PLAN))
    telemetry = run.of(TelemetryEvent)
    duration = run.events[-1].t
    assert len(telemetry) >= duration - 2  # 1 Hz from the generic profile
    assert all(e.speed_mph <= 1.5 + 0.3 for e in telemetry)


@pytest.mark.parametrize(
    ("fault", "exit_code", "reason", "safety"),
    [
        ("safety-key@15", 3, "safety_key", "safety_key"),
        ("console-stop@15", 3, "console_stop", "console_stop"),
        ("overspeed@15:1.5", 3, "fault", "overspeed"),
        ("stall@15", 3, "fault", "telemetry_stale"),
        ("disconnect@15:2", 3, "fault", "disconnected"),
        ("reject@0:start", 3, "fault", "control_refused"),
        ("reject@25:set-speed", 3, "fault", "control_refused"),
        ("reject@0:request-control", 4, "fault", "control_refused"),
    ],
)
def test_each_fault_ends_with_the_spec_exit_code(
    tmp_path: Path, fault: str, exit_code: int, reason: str, safety: str
) -> None:
    run = simulate(tmp_path, plan_file=write_plan(tmp_path, SHORT_PLAN), sim_faults=(fault,))
    assert run.exit_code == exit_code
    assert run.stopped.reason == reason
    assert safety in run.safety_reasons()
    assert isinstance(run.events[-1], SummaryEvent)
    assert run.events[-1].outcome == "stopped"
    assert run.final_belt_kmh == 0
    assert run.journal is not None
    assert read_journal(run.journal) == run.events
    if exit_code == 4:
        assert isinstance(run.error, ConnectError)
        assert run.simulator is not None
        assert not any(w[0] in (0x02, 0x07) for w in control_writes(run.simulator))


def test_a_control_point_that_stops_answering_is_a_fault(tmp_path: Path) -> None:
    """The machine ignores every write, Stop included: the session ends (exit 3) and says that
    the stop could not be verified, instead of claiming the belt stopped."""
    run = simulate(
        tmp_path, plan_file=write_plan(tmp_path, SHORT_PLAN), sim_faults=("no-indication@25",)
    )
    assert (run.exit_code, run.stopped.reason) == (3, "fault")
    assert run.safety_reasons()[0] == "no_answer"
    assert "stop_unverified" in run.safety_reasons()


def test_heart_rate_above_the_limit_slows_then_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETROTREAD_SAFETY__MAX_HEART_RATE_BPM", "170")
    run = simulate(tmp_path, plan_file=write_plan(tmp_path, SHORT_PLAN), sim_faults=("hr@10:190",))
    assert run.exit_code == 3
    assert run.stopped.reason == "fault"
    actions = [(e.reason, e.action) for e in run.of(SafetyEvent)]
    assert actions[:2] == [("heart_rate", "slow"), ("heart_rate", "stop")]


def test_a_stop_the_treadmill_refuses_is_never_exit_0(tmp_path: Path) -> None:
    run = simulate(
        tmp_path, plan_file=write_plan(tmp_path, SHORT_PLAN), sim_faults=("reject@0:stop",)
    )
    assert run.exit_code == 3
    assert "stop_unverified" in run.safety_reasons()


@pytest.mark.parametrize(
    "profile",
    [
        "generic",
        "coarse-grid",
        "start-before-speed",
        "ack-by-status",
        "control-rejected",
        "stale-stop",
        "min-speed-1kmh",
        "speed-as-mph",
        "single-central",
        "start-toggles-pause",
        "zero-packets",
    ],
)
def test_every_quirk_profile_completes_the_program(tmp_path: Path, profile: str) -> None:
    run = simulate(tmp_path, plan_file=write_plan(tmp_path, SHORT_PLAN), sim_profile=profile)
    assert (run.exit_code, run.stopped.reason) == (0, "completed")
    assert run.final_belt_kmh == 0
    # The belt really reached the plan's top speed (within one grid step), whatever the quirk.
    top = max(e.speed_mph for e in run.of(TelemetryEvent))
    assert 1.3 <= top <= 1.5 + 0.3


def test_coarse_grid_rounds_the_ceiling_down(tmp_path: Path) -> None:
    plan = SHORT_PLAN.replace("target_mph = 1.5", "target_mph = 3.0")
    run = simulate(tmp_path, plan_file=write_plan(tmp_path, plan), sim_profile="coarse-grid")
    assert run.exit_code == 0
    kmh = [e.kmh or 0.0 for e in run.of(CommandEvent) if e.op == "set_speed"]
    assert max(kmh) == pytest.approx(4.8)  # 3.0 mph = 4.828 km/h -> 4.8, never 4.9


def test_direction_changes_are_bridged_by_a_turnaround(tmp_path: Path) -> None:
    plan = turning_plan(forward=(40, 2.0), backward=(60, 1.0))
    run = simulate(tmp_path, plan_file=write_plan(tmp_path, plan))
    assert run.exit_code == 0
    back = next(e for e in run.of(SegmentEvent) if e.name == "back")
    turns = [e for e in run.of(PromptEvent) if e.phase == "turn"]
    assert len(turns) == 1
    prompt = turns[0]
    assert "BACKWARD" in prompt.message
    assert back.t == prompt.t  # the segment begins with the turn, not with the slow-down
    slowing = next(e for e in run.of(PromptEvent) if e.phase == "slowing")
    # Between the slow-down prompt and the turn the belt came down to the floor; after the turn
    # it held for turnaround_hold_s before ramping up again.
    speeds = [e for e in run.of(CommandEvent) if e.op == "set_speed" and e.t >= slowing.t]
    before = [e for e in speeds if e.t <= prompt.t]
    after = [e for e in speeds if e.t > prompt.t]
    assert before[-1].mph == pytest.approx(0.5, abs=0.01)
    assert after[0].t - prompt.t >= 5.0 - 1e-6
    assert max(e.mph or 0.0 for e in after) == pytest.approx(1.0, abs=0.01)


def test_pause_mode_turnaround_pauses_then_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETROTREAD_SAFETY__TURNAROUND_MODE", "pause")
    plan = turning_plan(forward=(30, 1.0), backward=(30, 0.8))
    run = simulate(tmp_path, plan_file=write_plan(tmp_path, plan))
    assert run.exit_code == 0
    ops = [e.op for e in run.of(CommandEvent)]
    assert ops.count("pause") == 1
    assert ops.count("start") == 2  # the first start and the resume after the turn
    assert ops.index("pause") < len(ops) - 1 - ops[::-1].index("start")


@contextlib.asynccontextmanager
async def _stop_when_running(control: SessionControl) -> AsyncIterator[None]:
    """An attachment like the control socket: stops the session on its second segment."""

    def on_event(event: Event) -> None:
        if isinstance(event, SegmentEvent) and event.index == 1:
            control.request_stop("control-socket")

    remove = control.add_listener(on_event)
    try:
        yield
    finally:
        remove()


def test_an_outside_stop_is_an_estop_and_reaches_the_belt(tmp_path: Path) -> None:
    run = simulate(
        tmp_path, plan_file=write_plan(tmp_path, SHORT_PLAN), attachments=(_stop_when_running,)
    )
    assert (run.exit_code, run.stopped.reason) == (3, "estop")
    stops = [e for e in run.of(CommandEvent) if e.op == "stop"]
    assert stops[0].source == "control-socket"
    assert run.final_belt_kmh == 0


@contextlib.asynccontextmanager
async def _stop_at_once(control: SessionControl) -> AsyncIterator[None]:
    control.request_stop("control-socket")
    assert control.status().state == SessionState.stopping
    yield


def test_a_stop_before_the_start_means_the_belt_never_moves(tmp_path: Path) -> None:
    run = simulate(
        tmp_path, plan_file=write_plan(tmp_path, SHORT_PLAN), attachments=(_stop_at_once,)
    )
    assert (run.exit_code, run.stopped.reason) == (3, "estop")
    assert run.simulator is not None
    assert not any(w[0] in (0x02, 0x07) for w in control_writes(run.simulator))


def test_interrupt_source_maps_to_exit_130(tmp_path: Path) -> None:
    @contextlib.asynccontextmanager
    async def interrupt(control: SessionControl) -> AsyncIterator[None]:
        def on_event(event: Event) -> None:
            if isinstance(event, SegmentEvent) and event.index == 1:
                control.request_stop("sigint")

        remove = control.add_listener(on_event)
        yield
        remove()

    run = simulate(tmp_path, plan_file=write_plan(tmp_path, SHORT_PLAN), attachments=(interrupt,))
    assert (run.exit_code, run.stopped.reason) == (130, "interrupted")


def test_status_follows_the_session(tmp_path: Path) -> None:
    seen: list[tuple[SessionState, str | None]] = []

    @contextlib.asynccontextmanager
    async def watch(control: SessionControl) -> AsyncIterator[None]:
        def on_event(event: Event) -> None:
            status = control.status()
            seen.append((status.state, status.segment))

        seen.append((control.status().state, None))
        remove = control.add_listener(on_event)
        yield
        remove()
        seen.append((control.status().state, None))

    run = simulate(tmp_path, plan_file=write_plan(tmp_path, SHORT_PLAN), attachments=(watch,))
    assert run.exit_code == 0
    states = [state for state, _ in seen]
    assert states[0] == SessionState.idle
    assert SessionState.running in states
    assert states[-1] == SessionState.stopped
    assert ("running", "brisk") in [(s.value, seg) for s, seg in seen]


def test_confirmation_refused_means_nothing_moves(tmp_path: Path) -> None:
    """The real-device path (confirmation) exercised on the simulator by asking for it."""
    from retrotread.run import prepare, run_prepared
    from simulators.clock import run_virtual

    events: list[Event] = []
    seen: list[Simulator] = []

    async def refuse(_text: str) -> bool:
        return False

    prepared = replace(
        prepare(
            RunOptions(
                sim=True,
                data_dir=tmp_path,
                control_socket=False,
                plan_file=write_plan(tmp_path, SHORT_PLAN),
                sinks=(events.append,),
                on_simulator=seen.append,
                confirm=refuse,
            )
        ),
        needs_confirmation=True,
    )
    result = run_virtual(run_prepared(prepared))
    assert result.exit_code == 3
    assert [e.event for e in events if e.event != "cue"][-2:] == ["stopped", "summary"]
    assert not any(w[0] in (0x02, 0x07) for w in control_writes(seen[0]))


def test_an_outside_pause_holds_the_program_until_the_walker_resumes(tmp_path: Path) -> None:
    """A remote pause stops the belt and the program's clock; only the local resume (the live
    view's key) starts it again, at the floor, and the program then completes."""
    in_the_second_segment = pause_then_resume(
        lambda event: isinstance(event, SegmentEvent) and event.index == 1, resume_after_s=30
    )
    run = simulate(
        tmp_path, plan_file=write_plan(tmp_path, SHORT_PLAN), attachments=(in_the_second_segment,)
    )
    assert (run.exit_code, run.stopped.reason) == (0, "completed")
    commands = [e for e in run.of(CommandEvent)]
    pause = next(e for e in commands if e.op == "pause")
    assert pause.source == "mqtt"
    resume = next(e for e in commands if e.op == "start" and e.t > pause.t)
    assert resume.t - pause.t >= 30 - 1e-6
    # Nothing moved the belt between the pause and the walker's resume.
    assert not [e for e in commands if e.op == "set_speed" and pause.t < e.t < resume.t - 0.01]
    # The paused time did not count: the program still ran its full 60 s of segments.
    assert run.stopped.t >= 60 + 30


def test_a_remote_pause_during_a_paused_turnaround_is_not_resumed_by_the_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The turn-around resumes only its own pause: a pause from MQTT during the hold keeps the
    belt still until the walker resumes it."""
    monkeypatch.setenv("RETROTREAD_SAFETY__TURNAROUND_MODE", "pause")
    plan = turning_plan(forward=(20, 1.0), backward=(20, 0.8))
    walker_resumes_after_s = 40.0
    pause_during_the_hold = pause_then_resume(
        lambda event: isinstance(event, PromptEvent) and "Turn around" in event.message,
        walker_resumes_after_s,
    )
    run = simulate(
        tmp_path, plan_file=write_plan(tmp_path, plan), attachments=(pause_during_the_hold,)
    )
    assert (run.exit_code, run.stopped.reason) == (0, "completed")
    prompt = next(e for e in run.of(PromptEvent) if "Turn around" in e.message)
    commands = run.of(CommandEvent)
    restart = next(e for e in commands if e.op == "start" and e.t > prompt.t)
    # Not at the end of the hold (turnaround_hold_s): only when the walker resumed.
    assert restart.t - prompt.t >= walker_resumes_after_s - 1e-6
    assert not [e for e in commands if e.op == "set_speed" and prompt.t < e.t < restart.t - 0.01]


def test_a_remote_pause_during_a_floor_hold_waits_for_the_walker_and_counts_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paused from MQTT while the walker turns (floor mode): the turn-around does not announce
    its own countdown for a belt that will not move; the walker's resume counts down instead,
    at least 3 s before the Start, and then the ramp up finishes the turn-around."""
    monkeypatch.setenv("RETROTREAD_SAFETY__TURNAROUND_MODE", "floor")
    plan = turning_plan(forward=(20, 1.0), backward=(30, 1.0))
    pause_during_the_hold = pause_then_resume(
        lambda event: isinstance(event, PromptEvent) and event.phase == "turn", resume_after_s=20
    )
    run = simulate(
        tmp_path, plan_file=write_plan(tmp_path, plan), attachments=(pause_during_the_hold,)
    )
    assert (run.exit_code, run.stopped.reason) == (0, "completed")
    prompts = run.of(PromptEvent)
    assert [e.phase for e in prompts if e.kind == "turnaround"] == [
        "slowing",
        "turn",
        "ramping",
        "done",
    ]
    turn = next(e for e in prompts if e.phase == "turn")
    restart = next(e for e in run.of(CommandEvent) if e.op == "start" and e.t > turn.t)
    (resuming,) = [e for e in run.of(CueEvent) if e.kind == "resuming"]
    assert resuming.t > turn.t
    assert restart.t - resuming.t >= 3.0 - 1e-6
    countdown = next(e for e in prompts if e.kind == "resume" and e.message)
    assert countdown.in_s == 3.0
    assert "BACKWARD" in countdown.message


@pytest.mark.parametrize("program", ["first-steps", "cooldown", "intervals", "rehab", "athletic"])
def test_every_built_in_program_completes_within_its_band(tmp_path: Path, program: str) -> None:
    from retrotread.session.programs import load_program

    plan = load_program(program)
    run = simulate(tmp_path, program=program)
    assert (run.exit_code, run.stopped.reason) == (0, "completed")
    assert len(run.of(SegmentEvent)) == len(plan.segments)
    backward_top = max(s.ceiling_mph for s in plan.segments if s.direction.value == "backward")
    backward_speeds = [
        e.mph or 0.0
        for e in run.of(CommandEvent)
        if e.op == "set_speed" and all(s.direction.value == "backward" for s in plan.segments)
    ]
    assert max(backward_speeds, default=0.0) <= backward_top + 1e-6
    assert run.final_belt_kmh == 0


def test_a_segment_incline_reaches_the_machine(tmp_path: Path) -> None:
    plan = SHORT_PLAN.replace("target_mph = 1.5", "target_mph = 1.5\nincline_pct = 2.0")
    run = simulate(tmp_path, plan_file=write_plan(tmp_path, plan))
    assert run.exit_code == 0
    inclines = [e for e in run.of(CommandEvent) if e.op == "set_incline"]
    assert [e.incline_pct for e in inclines] == [2.0]
    reported = [e.incline_pct for e in run.of(TelemetryEvent) if e.incline_pct is not None]
    assert max(reported) == pytest.approx(2.0)


def test_a_json_plan_runs_too(tmp_path: Path) -> None:
    path = tmp_path / "walk.json"
    path.write_text(
        '{"segments": [{"name": "one", "duration_s": 15, "target_mph": 0.7}]}', encoding="utf-8"
    )
    run = simulate(tmp_path, plan_file=path)
    assert (run.exit_code, run.stopped.reason) == (0, "completed")
    summary = run.events[-1]
    assert isinstance(summary, SummaryEvent)
    assert summary.program == "walk"  # the file stem names an unnamed plan


def test_status_reads_the_belt_and_device_as_the_supervisor_and_link_see_them(
    tmp_path: Path,
) -> None:
    """`status().belt_mph` is the supervisor's own view of the belt (not the last telemetry
    report, rounded for output), and `status().device` is the connected address, exactly, so
    `retrotread stop --device ADDR` can match it."""
    belts: list[tuple[float, float]] = []
    devices: list[str | None] = []

    @contextlib.asynccontextmanager
    async def watch(control: SessionControl) -> AsyncIterator[None]:
        assert isinstance(control, Session)

        def on_event(event: Event) -> None:
            status = control.status()
            devices.append(status.device)
            if isinstance(event, TelemetryEvent) and control.supervisor is not None:
                belts.append((status.belt_mph, control.supervisor.belt_mph))

        remove = control.add_listener(on_event)
        yield
        remove()

    run = simulate(tmp_path, plan_file=write_plan(tmp_path, SHORT_PLAN), attachments=(watch,))
    assert run.exit_code == 0
    assert any(supervisor > 0 for _, supervisor in belts)
    assert all(status == supervisor for status, supervisor in belts)
    assert run.simulator is not None
    assert devices[0] == run.simulator.address  # from the `connected` event on
    assert set(devices) == {run.simulator.address}


def test_the_belt_starts_three_seconds_after_the_starting_cue(tmp_path: Path) -> None:
    run = simulate(tmp_path, program="first-steps")
    assert run.exit_code == 0
    cues = [e for e in run.events if isinstance(e, CueEvent) and e.kind == "starting"]
    start = next(e for e in run.events if isinstance(e, CommandEvent) and e.op == "start")
    assert len(cues) == 1
    assert start.t - cues[0].t >= 3.0 - 1e-6


def test_a_stop_during_the_starting_countdown_never_starts_the_belt(tmp_path: Path) -> None:
    """The countdown waits on the stop: a stop asked for while the walker hears "Belt starting"
    ends the session at once, and no Start is ever written."""

    @contextlib.asynccontextmanager
    async def stop_on_countdown(control: SessionControl) -> AsyncIterator[None]:
        def listen(event: Event) -> None:
            if isinstance(event, CueEvent) and event.kind == "starting":
                control.request_stop("walker")

        remove = control.add_listener(listen)
        try:
            yield
        finally:
            remove()

    run = simulate(tmp_path, attachments=(stop_on_countdown,), program="first-steps")
    assert run.exit_code == 3
    assert not [e for e in run.events if isinstance(e, CommandEvent) and e.op == "start"]
    assert run.stopped.t < 1.0  # not after the 3 s countdown
