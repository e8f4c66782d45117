"""The JSON event table of SPEC.md as checks an outside test-suite would write.

Written from the contract alone (not from the product's models), so a renamed field or a changed
type fails here even when the product's own models were changed along with it.
"""

from __future__ import annotations

import math
from typing import Any

from retrotread.units import KMH_PER_MPH

MPH_TO_KMH = KMH_PER_MPH

COMMAND_OPS = {"request_control", "start", "set_speed", "set_incline", "stop", "pause"}
DIRECTIONS = {"backward", "forward"}
SAFETY_ACTIONS = {"stop", "slow", "pause"}
STOPPED_REASONS = {"completed", "estop", "safety_key", "console_stop", "fault", "interrupted"}
OUTCOMES = {"completed", "stopped"}
EVENT_NAMES = {
    "connected",
    "segment",
    "command",
    "telemetry",
    "safety",
    "prompt",
    "cue",
    "stopped",
    "summary",
    "rpe",
}


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_event(event: dict[str, Any]) -> None:
    """Assert that one event carries what SPEC.md promises for its kind."""
    assert event.get("event") in EVENT_NAMES, event
    assert isinstance(event.get("t"), float), event
    assert event["t"] >= 0, event
    check = _CHECKS.get(event["event"])
    if check is not None:
        check(event)


def _connected(event: dict[str, Any]) -> None:
    assert isinstance(event["device"], str)
    assert event["device"]
    speed_range = event["speed_range_kmh"]
    assert isinstance(speed_range, list)
    assert len(speed_range) == 3
    assert all(is_number(x) for x in speed_range)
    assert speed_range[0] < speed_range[1]
    assert speed_range[2] > 0
    assert isinstance(event["features"], list)
    assert all(isinstance(name, str) for name in event["features"])


def _segment(event: dict[str, Any]) -> None:
    assert isinstance(event["index"], int)
    assert event["index"] >= 0
    assert isinstance(event["name"], str)
    assert event["direction"] in DIRECTIONS
    assert is_number(event["target_mph"])
    assert is_number(event["duration_s"])
    assert event["duration_s"] > 0


def _command(event: dict[str, Any]) -> None:
    assert event["op"] in COMMAND_OPS, event
    assert isinstance(event["result"], str), event
    assert event["result"], event
    if event["op"] == "set_speed":
        assert is_number(event["mph"]), event
        assert is_number(event["kmh"]), event
        assert math.isclose(event["mph"] * MPH_TO_KMH, event["kmh"], abs_tol=0.001), event


def _telemetry(event: dict[str, Any]) -> None:
    assert is_number(event["speed_mph"])
    assert is_number(event["speed_kmh"])
    assert math.isclose(event["speed_mph"] * MPH_TO_KMH, event["speed_kmh"], abs_tol=0.002)
    for optional in ("distance_m", "incline_pct", "heart_rate_bpm", "elapsed_s"):
        if optional in event:
            assert is_number(event[optional]), (optional, event)


def _safety(event: dict[str, Any]) -> None:
    assert isinstance(event["reason"], str)
    assert event["reason"]
    assert event["action"] in SAFETY_ACTIONS, event


def _stopped(event: dict[str, Any]) -> None:
    assert event["reason"] in STOPPED_REASONS, event
    assert is_number(event["belt_mph"])
    assert event["belt_mph"] >= 0


def _summary(event: dict[str, Any]) -> None:
    assert event["outcome"] in OUTCOMES, event
    for field in ("duration_s", "distance_m", "max_speed_mph"):
        assert is_number(event[field]), (field, event)
        assert event[field] >= 0, (field, event)
    assert isinstance(event["session"], str)
    assert event["session"]


CUE_KINDS = {
    "starting",
    "speed_up",
    "slow_down",
    "turnaround",
    "resuming",
    "time_left",
    "heart_rate",
    "paused",
    "stopping",
    "stopped",
    "belt_moving",
    "completed",
}


def _cue(event: dict[str, Any]) -> None:
    assert event["kind"] in CUE_KINDS, event
    assert isinstance(event["text"], str), event
    assert event["text"], event
    if "in_s" in event:
        assert is_number(event["in_s"]), event
        assert event["in_s"] >= 0, event


def _rpe(event: dict[str, Any]) -> None:
    assert isinstance(event["rpe"], int), event
    assert 6 <= event["rpe"] <= 20, event


_CHECKS = {
    "rpe": _rpe,
    "cue": _cue,
    "connected": _connected,
    "segment": _segment,
    "command": _command,
    "telemetry": _telemetry,
    "safety": _safety,
    "stopped": _stopped,
    "summary": _summary,
}


def check_session(events: list[dict[str, Any]]) -> None:
    """A whole `run --json` stream: every event valid, connected first, one stopped,
    summary last (but for the `rpe` of `run --rpe`, recorded after it)."""
    assert events, "no events"
    for event in events:
        check_event(event)
    names = [event["event"] for event in events]
    while len(names) > 1 and names[-1] == "rpe":
        names.pop()
    assert names[0] == "connected", names[:3]
    assert names[-1] == "summary", names[-3:]
    assert names.count("stopped") == 1, names
    assert names.index("stopped") < len(names) - 1
    times = [event["t"] for event in events]
    assert times == sorted(times), "t must never go back"


def of_kind(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [event for event in events if event["event"] == name]


def only(events: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = of_kind(events, name)
    assert len(found) == 1, (name, found)
    return found[0]
