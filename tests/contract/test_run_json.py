"""`retrotread run --json` on the simulator (the console script for the full run, in-process for
the rest): the event stream, the journal next to it, human lines on stderr, the speed band and
the simulated machines."""

from __future__ import annotations

import json
import math

import pytest

from tests.support.cli import FAST, RunScript, Sandbox
from tests.support.schema import check_session, of_kind, only

TWO_SEGMENTS = """
name = "two"
[[segments]]
name = "warm"
duration_s = 8
target_mph = 0.8
incline_pct = 1.0
[[segments]]
name = "brisk"
duration_s = 8
target_mph = 1.2
"""

AT_THE_CEILING = """
[[segments]]
name = "top"
duration_s = 40
target_mph = 3.0
"""


def test_a_completed_run_streams_every_event_and_journals_the_same(
    retrotread: RunScript, sandbox: Sandbox
) -> None:
    plan = sandbox.plan(TWO_SEGMENTS)
    result = retrotread("run", "--sim", "--plan", str(plan), "--json", *FAST)
    assert result.code == 0, result.err
    events = result.events()
    check_session(events)

    connected = only(events, "connected")
    assert connected["speed_range_kmh"] == [0.5, 20.0, 0.01]  # the generic profile of SPEC.md
    segments = of_kind(events, "segment")
    assert [(s["index"], s["name"], s["direction"]) for s in segments] == [
        (0, "warm", "backward"),
        (1, "brisk", "backward"),
    ]
    assert [s["target_mph"] for s in segments] == [0.8, 1.2]
    assert [s["duration_s"] for s in segments] == [8.0, 8.0]

    ops = [c["op"] for c in of_kind(events, "command")]
    assert ops[0] == "request_control"
    assert {"start", "set_speed", "set_incline", "stop"} <= set(ops)
    assert all(c["result"] == "success" for c in of_kind(events, "command"))
    set_speeds = [c for c in of_kind(events, "command") if c["op"] == "set_speed"]
    assert all(0.5 <= c["mph"] <= 3.0 for c in set_speeds)
    assert max(c["mph"] for c in set_speeds) == pytest.approx(1.2, abs=0.01)

    telemetry = of_kind(events, "telemetry")
    assert len(telemetry) >= 10
    assert {"distance_m", "incline_pct", "heart_rate_bpm", "elapsed_s"} <= set(telemetry[-1])

    stopped = only(events, "stopped")
    assert stopped["reason"] == "completed"
    assert stopped["belt_mph"] == 0.0
    summary = events[-1]
    assert summary["outcome"] == "completed"
    assert summary["duration_s"] >= 16.0
    assert summary["distance_m"] == max(t.get("distance_m", 0) for t in telemetry)
    assert summary["max_speed_mph"] == max(t["speed_mph"] for t in telemetry)

    journal = sandbox.sessions_dir / f"{summary['session']}.jsonl"
    assert [json.loads(line) for line in journal.read_text().splitlines()] == events

    # Human output went to stderr, none of it JSON.
    human = [line for line in result.err.splitlines() if line.strip()]
    assert human
    assert not any(line.lstrip().startswith("{") for line in human)
    # The summary in words closes them, naming the journal.
    assert "Program complete." in human
    assert f"  journal     {journal}" in human


def test_the_default_program_is_first_steps(cli: RunScript) -> None:
    result = cli("run", "--sim", "--json", *FAST)
    assert result.code == 0, result.err
    events = result.events()
    check_session(events)
    assert events[-1].get("program", "first-steps") == "first-steps"
    speeds = [c["mph"] for c in of_kind(events, "command") if c["op"] == "set_speed"]
    assert min(speeds) >= 0.5
    assert max(speeds) <= 1.0
    assert 120 <= events[-1]["duration_s"] <= 330  # 2-5 minutes


def test_coarse_grid_rounds_3_mph_down_to_4_8_kmh(cli: RunScript, sandbox: Sandbox) -> None:
    plan = sandbox.plan(AT_THE_CEILING)
    result = cli(
        "run", "--sim", "--sim-profile", "coarse-grid", "--plan", str(plan), "--json", *FAST
    )
    assert result.code == 0, result.err
    events = result.events()
    check_session(events)
    assert only(events, "connected")["speed_range_kmh"] == [0.8, 16.0, 0.1]
    written = [c for c in of_kind(events, "command") if c["op"] == "set_speed"]
    for command in written:
        tenths = command["kmh"] * 10
        assert math.isclose(tenths, round(tenths), abs_tol=1e-6), command  # on the 0.1 grid
        assert command["mph"] <= 3.0
    assert max(c["kmh"] for c in written) == 4.8  # 3.0 mph = 4.828 km/h, never 4.9
    assert min(c["kmh"] for c in written) >= 0.9  # the floor 0.5 mph = 0.805 km/h rounds UP
    assert max(t["speed_mph"] for t in of_kind(events, "telemetry")) <= 3.0


def test_a_profile_file_defines_the_simulated_machine(cli: RunScript, sandbox: Sandbox) -> None:
    profile = sandbox.plan(
        'description = "test machine"\nadvertised_name = "Contract Mill"\nquirks = []\n'
        "[speed]\nmin_kmh = 1.0\nmax_kmh = 12.0\nincrement_kmh = 0.05\n",
        name="mill.toml",
    )
    plan = sandbox.plan(AT_THE_CEILING)
    result = cli(
        "run", "--sim", "--sim-profile", str(profile), "--plan", str(plan), "--json", *FAST
    )
    assert result.code == 0, result.err
    connected = only(result.events(), "connected")
    assert connected["device"] == "Contract Mill"
    assert connected["speed_range_kmh"] == [1.0, 12.0, 0.05]
    written = [c["kmh"] for c in of_kind(result.events(), "command") if c["op"] == "set_speed"]
    assert min(written) >= 1.0  # the machine's own minimum is above the 0.5 mph floor
    assert max(written) == 4.8  # 4.828 rounded down onto the 0.05 grid


QUIRK_PROFILES = [
    "ack-by-status",
    "control-rejected",
    "min-speed-1kmh",
    "single-central",
    "speed-as-mph",
    "stale-stop",
    "start-before-speed",
    "start-toggles-pause",
    "weak-signal",
    "zero-packets",
]


@pytest.mark.parametrize("profile", QUIRK_PROFILES)
def test_every_quirk_profile_completes_inside_the_band(
    cli: RunScript, sandbox: Sandbox, profile: str
) -> None:
    plan = sandbox.plan('[[segments]]\nname = "a"\nduration_s = 20\ntarget_mph = 1.0\n')
    result = cli("run", "--sim", "--sim-profile", profile, "--plan", str(plan), "--json", *FAST)
    assert result.code == 0, result.err
    events = result.events()
    check_session(events)
    assert only(events, "stopped")["reason"] == "completed"
    assert max(t["speed_mph"] for t in of_kind(events, "telemetry")) <= 1.0 + 0.3


def test_a_device_that_cannot_be_reached_exits_4_suggesting_sim(
    cli: RunScript, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETROTREAD_DEVICE__CONNECT_TIMEOUT_S", "1")
    result = cli("run", "--device", "AA:BB:CC:DD:EE:FF", "--yes", "--json")
    assert result.code == 4
    assert "--sim" in result.error_line_after_human()
    events = result.events()
    assert not [e for e in events if e["event"] == "command" and e["op"] in {"start", "set_speed"}]


def test_dry_run_checks_and_prints_the_resolved_plan_and_connects_to_nothing(
    retrotread: RunScript, sandbox: Sandbox
) -> None:
    result = retrotread(
        "run", "--device", "AA:BB:CC:DD:EE:FF", "--program", "athletic", "--max-speed", "2.0",
        "--dry-run", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    plan = json.loads(result.out)
    assert max(s["target_mph"] for s in plan["segments"] if s["target_mph"]) == 2.0
    assert not sandbox.sessions_dir.exists() or list(sandbox.sessions_dir.iterdir()) == []
    bad = retrotread("run", "--sim", "--dry-run", "--max-speed", "3.5")
    assert bad.code == 2
    assert "--max-speed" in bad.error_line()


def test_speeds_lowered_to_the_cap_are_said_once_after_connecting(
    retrotread: RunScript,
) -> None:
    result = retrotread(
        "run", "--sim", "--json", "--program", "athletic", "--max-speed", "1.2", *FAST
    )
    assert result.code == 0, result.err
    events = result.events()
    assert events[0]["event"] == "connected"
    notices = [e for e in events if e["event"] == "prompt" and "cap" in e["message"]]
    assert len(notices) == 1
    assert "1.2 mph" in notices[0]["message"]
    assert events.index(notices[0]) == 1
