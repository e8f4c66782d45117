"""When the walker is told to turn: the belt is seen at the floor, or no longer slowing, judged
in mph per second (not per packet, which a 5 Hz console would fool), and the two limits of the
wait: a belt never seen at the floor stops the session, a pause never seen stopping is said.
All on the simulator's virtual clock."""

from __future__ import annotations

import itertools
import statistics
from pathlib import Path

import pytest

from retrotread.events import CommandEvent, PromptEvent, SafetyEvent, SegmentEvent, TelemetryEvent
from retrotread.session.pacer import (
    AT_FLOOR_TOLERANCE_MPH,
    BELT_STOPPED_MPH,
    FLOOR_WAIT_LIMIT_S,
    PAUSE_WAIT_LIMIT_S,
    SETTLE_WINDOW_S,
    SETTLED_RATE_MPH_PER_S,
    SETTLED_TOLERANCE_MPH,
)
from tests.support.sessions import SimRun, simulate, turning_plan, write_plan

FLOOR_MPH = 0.5  # safety.min_backward_mph, the default


def telemetry_before(run: SimRun, t: float) -> list[TelemetryEvent]:
    return [e for e in run.of(TelemetryEvent) if e.t <= t]


def commanded_before(run: SimRun, t: float) -> float:
    speeds = [e.mph for e in run.of(CommandEvent) if e.op == "set_speed" and e.t <= t]
    assert speeds
    assert speeds[-1] is not None
    return speeds[-1]


def prompt(run: SimRun, phase: str) -> PromptEvent:
    (found,) = [e for e in run.of(PromptEvent) if e.kind == "turnaround" and e.phase == phase]
    return found


def slowing_per_s(seen: list[TelemetryEvent]) -> float:
    """How fast the belt changed up to the last packet of `seen`, against the newest packet
    at least SETTLE_WINDOW_S older (mph per second)."""
    last = seen[-1]
    older = [e for e in seen if last.t - e.t >= SETTLE_WINDOW_S - 1e-9]
    assert older, "no packet a window older than the last"
    return abs(older[-1].speed_mph - last.speed_mph) / (last.t - older[-1].t)


def test_at_5_hz_the_walker_is_told_to_turn_only_once_the_belt_stopped_slowing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fast-notify`: Treadmill Data every 0.2 s from a belt that slows 0.09 mph/s, behind
    ramp steps of 0.5 mph. Near the floor two packets in a row differ by less than 0.02 mph
    while the belt is still slowing: the turn waits until it is at the floor."""
    monkeypatch.setenv("RETROTREAD_SAFETY__MAX_STEP_MPH", "0.5")
    plan = turning_plan(forward=(30, 2.0), backward=(30, 0.8))
    run = simulate(tmp_path, plan_file=write_plan(tmp_path, plan), sim_profile="fast-notify")
    assert (run.exit_code, run.stopped.reason) == (0, "completed")
    packets = run.of(TelemetryEvent)
    assert statistics.median(b.t - a.t for a, b in itertools.pairwise(packets)) == pytest.approx(
        0.2, abs=0.01
    )
    slowing, turn = prompt(run, "slowing"), prompt(run, "turn")
    seen = telemetry_before(run, turn.t)
    assert seen[-1].t > slowing.t
    floor = commanded_before(run, turn.t)  # the floor on the device's grid
    assert floor == pytest.approx(FLOOR_MPH, abs=0.01)
    assert seen[-1].speed_mph <= floor + AT_FLOOR_TOLERANCE_MPH + 1e-9
    # The belt was still slowing well over a second before: two packets in a row within
    # 0.02 mph near the floor, the moment a per-packet judgement would have called it settled.
    per_packet_settled = [
        b
        for a, b in itertools.pairwise(e for e in seen if e.t > slowing.t)
        if b.speed_mph <= floor + SETTLED_TOLERANCE_MPH and a.speed_mph - b.speed_mph <= 0.02
    ]
    assert per_packet_settled
    early = per_packet_settled[0]
    assert turn.t - early.t > 1.0
    assert slowing_per_s(telemetry_before(run, early.t)) > SETTLED_RATE_MPH_PER_S
    assert [e.direction for e in run.of(SegmentEvent)] == ["forward", "backward"]


def test_at_5_hz_a_belt_that_settles_above_the_floor_still_turns(tmp_path: Path) -> None:
    """The belt runs 30 % faster than commanded from the start (a readout offset within the
    overspeed tolerance): at the floor it reads 0.65 mph, never within 0.1 mph of it. Once a
    second of packets shows it no longer changing, the walker is told to turn."""
    plan = turning_plan(forward=(20, FLOOR_MPH), backward=(20, 0.8))
    run = simulate(
        tmp_path,
        plan_file=write_plan(tmp_path, plan),
        sim_profile="fast-notify",
        sim_faults=("overspeed@0:1.3",),
    )
    assert (run.exit_code, run.stopped.reason) == (0, "completed")
    slowing, turn = prompt(run, "slowing"), prompt(run, "turn")
    seen = [e for e in telemetry_before(run, turn.t) if e.t > slowing.t]
    floor = commanded_before(run, turn.t)
    assert floor + AT_FLOOR_TOLERANCE_MPH < seen[-1].speed_mph <= floor + SETTLED_TOLERANCE_MPH
    assert slowing_per_s(seen) <= SETTLED_RATE_MPH_PER_S
    # Judged over a second of packets received after the wait began, and no longer than that.
    assert SETTLE_WINDOW_S - 1e-9 <= seen[-1].t - seen[0].t <= SETTLE_WINDOW_S + 0.5
    assert len(seen) >= 5


def test_a_belt_never_seen_at_the_floor_stops_the_session_as_a_pacer_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The belt runs 70 % faster than commanded (0.85 mph at the 0.5 mph floor), inside a
    0.5 mph overspeed tolerance: Treadmill Data keeps coming, but never shows the belt at the
    floor nor within 0.3 mph of it. After FLOOR_WAIT_LIMIT_S the session stops as a fault,
    and the walker is never told to turn."""
    monkeypatch.setenv("RETROTREAD_SAFETY__OVERSPEED_TOLERANCE_MPH", "0.5")
    plan = turning_plan(forward=(20, FLOOR_MPH), backward=(20, 0.8))
    run = simulate(tmp_path, plan_file=write_plan(tmp_path, plan), sim_faults=("overspeed@0:1.7",))
    assert (run.exit_code, run.stopped.reason) == (3, "fault")
    (fault,) = [e for e in run.of(SafetyEvent) if e.action == "stop"]
    assert fault.reason == "pacer_error"
    assert fault.detail is not None
    assert "not seen at the floor" in fault.detail
    slowing = prompt(run, "slowing")
    assert fault.t - slowing.t == pytest.approx(FLOOR_WAIT_LIMIT_S, abs=1.5)
    during = [e.speed_mph for e in run.of(TelemetryEvent) if slowing.t < e.t < fault.t]
    assert len(during) >= FLOOR_WAIT_LIMIT_S - 2  # the data kept coming (no stale stop)
    assert min(during) > FLOOR_MPH + SETTLED_TOLERANCE_MPH
    assert not [e for e in run.of(PromptEvent) if e.phase == "turn"]
    assert [e.name for e in run.of(SegmentEvent)] == ["fwd"]
    assert run.final_belt_kmh == 0


# A belt that coasts to a stop: 0.06 km/h per second from the floor (0.8 km/h) takes 13 s.
SLOW_STOP_PROFILE = """
description = "brakes very gently on a Stop or Pause"
[speed]
min_kmh = 0.5
max_kmh = 20.0
increment_kmh = 0.01
[belt]
stop_decel_kmh_per_s = 0.06
"""


def test_a_turnaround_pause_not_seen_stopping_in_time_says_the_belt_is_stopping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pause mode on a belt that takes 13 s to stop: after PAUSE_WAIT_LIMIT_S the walker is
    told to turn with the belt as it is, "The belt is stopping: hold the rails", not that it
    is paused."""
    monkeypatch.setenv("RETROTREAD_SAFETY__STOP_VERIFY_TIMEOUT_S", "30")  # the final stop too
    profile = tmp_path / "slow-stop.toml"
    profile.write_text(SLOW_STOP_PROFILE, encoding="utf-8")
    plan = 'turnaround_mode = "pause"\n' + turning_plan(forward=(20, 1.0), backward=(20, 0.8))
    run = simulate(tmp_path, plan_file=write_plan(tmp_path, plan), sim_profile=str(profile))
    assert (run.exit_code, run.stopped.reason) == (0, "completed")
    (pause,) = [e for e in run.of(CommandEvent) if e.op == "pause"]
    assert pause.source == "turnaround"
    turn = prompt(run, "turn")
    assert "The belt is stopping: hold the rails while you turn" in turn.message
    assert "paused while you turn" not in turn.message
    assert turn.t - pause.t == pytest.approx(PAUSE_WAIT_LIMIT_S, abs=1.0)
    assert telemetry_before(run, turn.t)[-1].speed_mph > BELT_STOPPED_MPH
