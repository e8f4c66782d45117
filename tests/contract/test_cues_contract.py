"""Walker cues in `run --sim --json` (SPEC.md "Walker cues"), on the simulator's virtual clock.

A cue is also a `cue` event, so its timing can be read from the stream: a stop is written first
and announced after, the end of a program is announced at one minute and ten seconds, and an
unverified stop is announced every 10 s.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.support.cli import FAST, RunScript
from tests.support.schema import check_session, of_kind


def _cues(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in of_kind(events, "cue") if e["kind"] == kind]


def _no_cue_between_stop_request_and_stop_write(events: list[dict[str, Any]]) -> None:
    requested = next(
        i for i, e in enumerate(events) if e["event"] == "safety" and e["action"] == "stop"
    )
    written = next(i for i, e in enumerate(events) if e["event"] == "command" and e["op"] == "stop")
    assert of_kind(events[requested:written], "cue") == []


def test_a_completed_program_is_announced(cli: RunScript) -> None:
    result = cli("run", "--sim", "--json", "--program", "cooldown", "--cues", "bell", *FAST)
    assert result.code == 0, result.err
    events = result.events()
    check_session(events)
    stop_write = next(e for e in events if e["event"] == "command" and e["op"] == "stop")
    stopping = _cues(events, "stopping")
    assert len(stopping) == 1
    assert events.index(stop_write) < events.index(stopping[0])
    stopped = next(e for e in events if e["event"] == "stopped")
    completed = _cues(events, "completed")
    assert len(completed) == 1
    assert events.index(stopped) < events.index(completed[0])
    end = stop_write["t"]
    left = _cues(events, "time_left")
    assert [e["in_s"] for e in left] == [60.0, 10.0]
    for cue in left:
        assert cue["t"] == pytest.approx(end - cue["in_s"], abs=1.5)
    speeds = _cues(events, "speed_up") + _cues(events, "slow_down")
    assert speeds
    assert all("miles per hour" in cue["text"] for cue in speeds)


def test_a_safety_stop_is_written_first_and_announced_after(cli: RunScript) -> None:
    result = cli("run", "--sim", "--json", "--sim-fault", "safety-key@30", "--cues", "off", *FAST)
    assert result.code == 3, result.err
    events = result.events()
    check_session(events)
    _no_cue_between_stop_request_and_stop_write(events)
    stop_write = next(e for e in events if e["event"] == "command" and e["op"] == "stop")
    (stopping,) = _cues(events, "stopping")
    assert events.index(stop_write) < events.index(stopping)
    (stopped,) = _cues(events, "stopped")
    assert stopped["text"] == "Belt stopped"
    assert _cues(events, "completed") == []


def test_an_unverified_stop_repeats_belt_moving_every_ten_seconds(cli: RunScript) -> None:
    result = cli("run", "--sim", "--json", "--sim-fault", "reject@0:stop", "--cues", "off", *FAST)
    assert result.code == 3, result.err
    events = result.events()
    check_session(events)
    moving = _cues(events, "belt_moving")
    assert len(moving) >= 3, moving
    gaps = [b["t"] - a["t"] for a, b in itertools.pairwise(moving)]
    assert all(gap == pytest.approx(10.0, abs=0.5) for gap in gaps), gaps
    assert _cues(events, "stopped") == []  # the belt was never seen at 0


def test_a_wrong_cue_mode_is_refused(cli: RunScript) -> None:
    result = cli("run", "--sim", "--cues", "loud", *FAST)
    assert result.code == 2
    assert "--cues" in result.error_line()
    assert "speech" in result.error_line()


def test_a_rate_out_of_range_is_refused(cli: RunScript, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETROTREAD_CUES__RATE_WPM", "500")
    result = cli("run", "--sim", *FAST)
    assert result.code == 2
    assert "rate_wpm" in result.error_line()


@pytest.mark.parametrize("mode", ["floor", "pause"])
def test_every_turn_around_is_announced_and_counted_down(
    cli: RunScript, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv("RETROTREAD_SAFETY__TURNAROUND_MODE", mode)
    result = cli("run", "--sim", "--json", "--program", "intervals", "--cues", "off", *FAST)
    assert result.code == 0, result.err
    events = result.events()
    check_session(events)
    (starting,) = _cues(events, "starting")
    first_start = next(e for e in events if e["event"] == "command" and e["op"] == "start")
    assert first_start["t"] - starting["t"] >= 3.0 - 1e-6
    segments = of_kind(events, "segment")
    changes = sum(a["direction"] != b["direction"] for a, b in itertools.pairwise(segments))
    turns = _cues(events, "turnaround")
    resuming = _cues(events, "resuming")
    assert len(turns) == len(resuming) == changes > 0
    for turn, resume in zip(turns, resuming, strict=True):
        assert turn["t"] <= resume["t"]
        # The belt moves again (a restart, or the first step up from the floor) 3 s later.
        moves = [
            e
            for e in events
            if e["event"] == "command" and e["op"] in ("start", "set_speed") and e["t"] > turn["t"]
        ]
        assert moves[0]["t"] - resume["t"] >= 3.0 - 1e-6



def test_cues_say_speeds_in_the_display_units(
    cli: RunScript, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETROTREAD_DISPLAY__UNITS", "metric")
    result = cli("run", "--sim", "--json", "--program", "intervals", "--cues", "off", *FAST)
    assert result.code == 0, result.err
    events = result.events()
    speeds = _cues(events, "speed_up") + _cues(events, "slow_down")
    assert speeds
    assert all("kilometres per hour" in cue["text"] for cue in speeds), speeds
    assert not any("miles" in cue["text"] for cue in of_kind(events, "cue"))
    # JSON keeps its units whatever people read.
    assert all("speed_mph" in e for e in of_kind(events, "telemetry"))
