"""Every `--sim-fault` kind of SPEC.md, with its exit code and the events that explain it.

In-process (`retrotread.cli.app.run`): the same command line without an interpreter per session.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.cli import FAST, RunScript, Sandbox
from tests.support.schema import check_session, of_kind, only


def steady_plan(sandbox: Sandbox, seconds: int, mph: float = 1.0) -> str:
    return str(
        sandbox.plan(f'[[segments]]\nname = "steady"\nduration_s = {seconds}\ntarget_mph = {mph}\n')
    )


def run_with_faults(
    cli: RunScript, sandbox: Sandbox, seconds: int, *faults: str
) -> tuple[int, list[dict[str, Any]], str]:
    args = ["run", "--sim", "--plan", steady_plan(sandbox, seconds), "--json", *FAST]
    for fault in faults:
        args += ["--sim-fault", fault]
    result = cli(*args)
    events = result.events()
    check_session(events)
    journal = sandbox.sessions_dir / f"{events[-1]['session']}.jsonl"
    assert len(journal.read_text().splitlines()) == len(events)
    return result.code, events, result.err


def safety_reasons(events: list[dict[str, Any]]) -> list[str]:
    return [event["reason"] for event in of_kind(events, "safety")]


def test_overspeed_example_stops_the_belt_after_300_s(cli: RunScript, sandbox: Sandbox) -> None:
    code, events, _ = run_with_faults(cli, sandbox, 330, "overspeed@300:1.5")
    assert code == 3
    first = of_kind(events, "safety")[0]
    assert (first["reason"], first["action"]) == ("overspeed", "stop")
    assert first["t"] >= 300
    assert only(events, "stopped")["reason"] == "fault"
    assert events[-1]["outcome"] == "stopped"


def test_disconnect_example_is_a_fault_stop(cli: RunScript, sandbox: Sandbox) -> None:
    code, events, _ = run_with_faults(cli, sandbox, 120, "disconnect@90:2")
    assert code == 3
    assert "disconnected" in safety_reasons(events)
    stopped = only(events, "stopped")
    assert stopped["reason"] == "fault"
    assert stopped["t"] >= 90
    # After the link came back the session took control again and sent Stop.
    after = [c for c in of_kind(events, "command") if c["t"] > 90]
    assert any(c["op"] == "stop" and c["result"] == "success" for c in after)


def test_reject_start_example_never_moves_the_belt(cli: RunScript, sandbox: Sandbox) -> None:
    code, events, _ = run_with_faults(cli, sandbox, 30, "reject@0:start")
    assert code == 3
    starts = [c for c in of_kind(events, "command") if c["op"] == "start"]
    assert starts
    assert starts[0]["result"] == "operation_failed"
    assert "control_refused" in safety_reasons(events)
    assert only(events, "stopped")["reason"] == "fault"
    assert events[-1]["max_speed_mph"] == 0.0


def test_reject_set_speed_is_a_fault_stop(cli: RunScript, sandbox: Sandbox) -> None:
    code, events, _ = run_with_faults(cli, sandbox, 30, "reject@0:set-speed")
    assert code == 3
    assert any(
        c["op"] == "set_speed" and c["result"] == "operation_failed"
        for c in of_kind(events, "command")
    ) or "control_refused" in safety_reasons(events)
    assert only(events, "stopped")["reason"] == "fault"


def test_reject_request_control_exits_4_with_one_line(cli: RunScript, sandbox: Sandbox) -> None:
    args = ["run", "--sim", "--plan", steady_plan(sandbox, 30), "--json", *FAST]
    result = cli(*args, "--sim-fault", "reject@0:request-control")
    assert result.code == 4
    assert "control" in result.error_line_after_human().lower()
    events = result.events()
    check_session(events)
    assert not [c for c in of_kind(events, "command") if c["op"] in {"start", "set_speed"}]
    journal = sandbox.sessions_dir / f"{events[-1]['session']}.jsonl"
    assert journal.exists()


def test_reject_stop_never_reports_success(cli: RunScript, sandbox: Sandbox) -> None:
    code, events, _ = run_with_faults(cli, sandbox, 10, "reject@5:stop")
    assert code == 3  # the program ended but the belt was never seen stopped
    stops = [c for c in of_kind(events, "command") if c["op"] == "stop"]
    assert stops
    assert all(c["result"] == "operation_failed" for c in stops)
    assert only(events, "stopped")["belt_mph"] > 0
    assert events[-1]["outcome"] == "stopped"  # "completed" would claim a stopped belt


def test_hr_example_reports_the_heart_rate(cli: RunScript, sandbox: Sandbox) -> None:
    code, events, _ = run_with_faults(cli, sandbox, 130, "hr@120:190")
    assert code == 0  # no heart-rate limit configured: the walker is only told
    rates = [t["heart_rate_bpm"] for t in of_kind(events, "telemetry") if t["t"] > 122]
    assert rates
    assert set(rates) == {190}


def test_hr_above_the_configured_limit_slows_then_stops(
    cli: RunScript, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETROTREAD_SAFETY__MAX_HEART_RATE_BPM", "160")
    code, events, _ = run_with_faults(cli, sandbox, 240, "hr@120:190")
    assert code == 3
    heart = [s for s in of_kind(events, "safety") if s["reason"] == "heart_rate"]
    assert heart
    assert heart[0]["action"] == "slow"
    assert heart[0]["t"] >= 120
    assert heart[-1]["action"] == "stop"
    assert only(events, "stopped")["reason"] == "fault"


@pytest.mark.parametrize(
    ("fault", "reason"),
    [("safety-key@5", "safety_key"), ("console-stop@5", "console_stop")],
)
def test_machine_stops_end_the_session_with_their_reason(
    cli: RunScript, sandbox: Sandbox, fault: str, reason: str
) -> None:
    code, events, _ = run_with_faults(cli, sandbox, 30, fault)
    assert code == 3
    assert reason in safety_reasons(events)
    assert only(events, "stopped")["reason"] == reason
    assert events[-1]["outcome"] == "stopped"


@pytest.mark.parametrize(
    ("fault", "reason"), [("stall@5", "telemetry_stale"), ("no-indication@5", None)]
)
def test_a_silent_machine_is_a_fault_stop(
    cli: RunScript, sandbox: Sandbox, fault: str, reason: str | None
) -> None:
    code, events, _ = run_with_faults(cli, sandbox, 30, fault)
    assert code == 3
    assert safety_reasons(events)
    if reason is not None:
        assert reason in safety_reasons(events)
    assert only(events, "stopped")["reason"] == "fault"


@pytest.mark.parametrize(
    "spec",
    [
        "overspeed",
        "overspeed@",
        "@5",
        "overspeed@300",
        "overspeed@x:1.5",
        "overspeed@300:fast",
        "bogus@5",
        "reject@0",
        "reject@0:resume",
        "hr@120",
        "hr@120:many",
        "disconnect@-1",
        "disconnect@90:x",
        "",
    ],
)
def test_a_malformed_fault_spec_exits_2_before_anything_starts(
    cli: RunScript, sandbox: Sandbox, spec: str
) -> None:
    result = cli("run", "--sim", "--json", *FAST, "--sim-fault", spec)
    assert result.code == 2
    assert "--sim-fault" in result.error_line()
    assert result.out == ""
    assert not sandbox.sessions_dir.exists()
