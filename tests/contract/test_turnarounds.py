"""Turn-arounds a walker can follow, read from `run --sim --json` on the virtual clock: the
prompt to turn follows the belt as Treadmill Data shows it (never the speed commanded), the
segment changes direction at the turn, one prompt at a time, and a countdown before the belt
moves again in both turn-around modes."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import FAST, RunScript, Sandbox
from tests.support.schema import check_session, of_kind

FLOOR_MPH = 0.5
NEAR_FLOOR_MPH = FLOOR_MPH + 0.3  # the widest "at the floor" (a readout that settled above it)
STOPPED_MPH = 0.05

TURNS_PLAN = """
name = "turns"
[[segments]]
name = "fwd"
direction = "forward"
duration_s = 40
target_mph = 3.0
[[segments]]
name = "back"
duration_s = 60
target_mph = 1.2
[[segments]]
name = "fwd again"
direction = "forward"
duration_s = 40
target_mph = 2.0
"""

# A belt that slows far behind its commands (0.1 km/h per second, a fifteenth of the default):
# when the ramp to the floor is commanded, the belt is still near 1.5 mph.
SLOW_BELT_PROFILE = """
description = "slows far behind its commands"
[speed]
min_kmh = 0.5
max_kmh = 20.0
increment_kmh = 0.01
[belt]
decel_kmh_per_s = 0.1
"""


def _cues(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in of_kind(events, "cue") if e["kind"] == kind]


def _turn_prompts(events: list[dict[str, Any]], phase: str) -> list[dict[str, Any]]:
    return [
        e
        for e in of_kind(events, "prompt")
        if e.get("kind") == "turnaround" and e.get("phase") == phase
    ]


def _belt_before(events: list[dict[str, Any]], event: dict[str, Any]) -> float:
    """The belt speed last seen before `event` in the stream."""
    seen = [e for e in events[: events.index(event)] if e["event"] == "telemetry"]
    assert seen, "no telemetry before the event"
    return float(seen[-1]["speed_mph"])


def _session(
    cli: RunScript,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    *extra: str,
) -> list[dict[str, Any]]:
    monkeypatch.setenv("RETROTREAD_SAFETY__TURNAROUND_MODE", mode)
    plan = sandbox.plan(TURNS_PLAN)
    result = cli("run", "--sim", "--json", "--plan", str(plan), "--cues", "off", *extra, *FAST)
    assert result.code == 0, result.err
    events = result.events()
    check_session(events)
    return events


@pytest.fixture
def slow_belt(sandbox: Sandbox) -> Path:
    return sandbox.plan(SLOW_BELT_PROFILE, name="slow-belt.toml")


@pytest.mark.parametrize("mode", ["floor", "pause"])
def test_a_slow_belt_is_told_to_turn_only_once_it_is_seen_at_the_floor(
    cli: RunScript,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    slow_belt: Path,
    mode: str,
) -> None:
    events = _session(cli, sandbox, monkeypatch, mode, "--sim-profile", str(slow_belt))
    turns = _cues(events, "turnaround")
    segments = of_kind(events, "segment")
    changes = sum(a["direction"] != b["direction"] for a, b in itertools.pairwise(segments))
    assert len(turns) == changes == 2
    commands = of_kind(events, "command")
    waits = []
    for turn in turns:
        belt = _belt_before(events, turn)
        assert belt <= (STOPPED_MPH if mode == "pause" else NEAR_FLOOR_MPH), (turn, belt)
        # The floor was commanded before the belt got there: a prompt that followed the command
        # would have come while the belt was still well above the floor.
        floor_commanded = [
            c
            for c in commands
            if c["op"] == "set_speed" and c["t"] < turn["t"] and c["mph"] < FLOOR_MPH + 0.01
        ]
        seen_then = [
            e["speed_mph"]
            for e in of_kind(events, "telemetry")
            if floor_commanded[-1]["t"] <= e["t"] <= floor_commanded[-1]["t"] + 1.0
        ]
        assert max(seen_then) > FLOOR_MPH + 0.25
        waits.append((turn["t"] - floor_commanded[-1]["t"], max(seen_then)))
    # From 3.0 mph the belt was near 1.5 mph when the floor was commanded, 10 s from it.
    assert waits[0][0] > 10.0
    assert waits[0][1] > 1.2
    for prompt in _turn_prompts(events, "turn"):
        assert _belt_before(events, prompt) <= NEAR_FLOOR_MPH


def test_a_laggy_machine_is_told_to_turn_only_at_the_floor(
    cli: RunScript, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _session(cli, sandbox, monkeypatch, "floor", "--sim-profile", "laggy")
    turns = _cues(events, "turnaround")
    assert len(turns) == 2
    for turn in turns:
        assert _belt_before(events, turn) <= NEAR_FLOOR_MPH


def test_a_belt_that_goes_silent_while_slowing_is_never_told_to_turn(
    cli: RunScript, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Treadmill Data stops during the slow-down (the belt runs on): no packet ever shows the
    belt at the floor, so no turn is prompted; the supervisor stops the session."""
    monkeypatch.setenv("RETROTREAD_SAFETY__TURNAROUND_MODE", "floor")
    plan = sandbox.plan(TURNS_PLAN)
    result = cli(
        "run", "--sim", "--json", "--plan", str(plan), "--cues", "off",
        "--sim-fault", "stall@48", *FAST,
    )  # fmt: skip
    assert result.code == 3, result.err
    events = result.events()
    check_session(events)
    assert _turn_prompts(events, "slowing")  # the slow-down had begun
    assert _cues(events, "turnaround") == []
    assert _turn_prompts(events, "turn") == []
    assert [s["name"] for s in of_kind(events, "segment")] == ["fwd"]


@pytest.mark.parametrize("mode", ["floor", "pause"])
def test_the_segment_changes_direction_at_the_turn_not_before(
    cli: RunScript, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    events = _session(cli, sandbox, monkeypatch, mode)
    slowing = _turn_prompts(events, "slowing")
    turned = _turn_prompts(events, "turn")
    assert len(slowing) == len(turned) == 2
    segments = of_kind(events, "segment")
    for slow, turn in zip(slowing, turned, strict=True):
        # While slowing, the current segment is still the one facing the old way.
        current = [s for s in segments if s["t"] <= slow["t"]][-1]
        assert current["direction"] == slow["direction"] != slow["next_direction"]
        # At the turn, the new segment begins, facing the new way.
        began = next(s for s in segments if s["t"] >= slow["t"])
        assert began["t"] == turn["t"]
        assert began["direction"] == turn["direction"] == slow["next_direction"]
        assert events.index(began) < events.index(turn)
        # The turn-around took part of the new segment's time, and the segment says so.
        assert began["remaining_s"] < began["duration_s"]
        assert began["remaining_s"] == pytest.approx(
            began["duration_s"] - (turn["t"] - slow["t"]), abs=0.2
        )
    # The program's end is where the schedule put it: time_left counts to the real end.
    stop = next(e for e in events if e["event"] == "command" and e["op"] == "stop")
    for cue in _cues(events, "time_left"):
        assert cue["t"] == pytest.approx(stop["t"] - cue["in_s"], abs=1.5)


@pytest.mark.parametrize("mode", ["floor", "pause"])
def test_prompts_replace_each_other_and_a_turn_around_shows_its_phases(
    cli: RunScript, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    events = _session(cli, sandbox, monkeypatch, mode)
    prompts = [p for p in of_kind(events, "prompt") if p.get("kind") == "turnaround"]
    phases = [p["phase"] for p in prompts]
    assert phases == ["slowing", "turn", "resuming", "ramping", "done"] * 2
    for prompt in prompts:
        # One prompt at a time, each telling one way to walk.
        assert not ("BACKWARD" in prompt["message"] and "FORWARD" in prompt["message"])
    for turn in (prompts[:5], prompts[5:]):
        slowing, turned, resuming, ramping, done = turn
        assert done["message"] == ""  # the last one clears the screen
        assert turned["slowing_s"] == pytest.approx(turned["t"] - slowing["t"], abs=0.1)
        assert ramping["holding_s"] == pytest.approx(ramping["t"] - turned["t"], abs=0.1)
        assert ramping["holding_s"] >= 5.0 - 0.1  # turnaround_hold_s
        assert done["ramping_s"] == pytest.approx(done["t"] - ramping["t"], abs=0.1)
        assert done["slowing_s"] == turned["slowing_s"]
        assert done["holding_s"] == ramping["holding_s"]
        assert resuming["in_s"] == 3.0
        assert ramping["target_mph"] > FLOOR_MPH
    # A view that keeps only the latest prompt (an empty one clears it) ends up showing none
    # once each turn-around is done.
    current = None
    for prompt in of_kind(events, "prompt"):
        current = prompt["message"] or None
    assert current is None


@pytest.mark.parametrize("mode", ["floor", "pause"])
def test_the_belt_moves_again_only_after_a_resuming_countdown(
    cli: RunScript, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    events = _session(cli, sandbox, monkeypatch, mode)
    commands = of_kind(events, "command")
    resuming = _cues(events, "resuming")
    turns = _turn_prompts(events, "turn")
    assert len(resuming) == len(turns) == 2
    for turn, cue in zip(turns, resuming, strict=True):
        assert turn["t"] < cue["t"]
        if mode == "pause":
            assert any(c["op"] == "pause" and c["t"] < turn["t"] for c in commands)
            moves = [c for c in commands if c["op"] == "start" and c["t"] > turn["t"]]
        else:
            moves = [
                c
                for c in commands
                if c["op"] == "set_speed" and c["t"] > turn["t"] and c["mph"] > FLOOR_MPH + 0.01
            ]
        assert moves[0]["t"] - cue["t"] >= 3.0 - 1e-6
        # Nothing moved the belt between the turn and the end of the countdown.
        early = [
            c
            for c in commands
            if turn["t"] < c["t"] < cue["t"] + 3.0 - 1e-6
            and (c["op"] == "start" or (c["op"] == "set_speed" and c["mph"] > FLOOR_MPH + 0.01))
        ]
        assert early == []
