"""`run --sim --sim-hr-strap`: the strap through bleak over the virtual radio, end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from retrotread.errors import InputError
from retrotread.events import CommandEvent, SafetyEvent, TelemetryEvent
from retrotread.run import RunOptions, prepare
from simulators.faults import FaultKind, FaultSpec
from simulators.harness import Simulator
from tests.support.sessions import SHORT_PLAN, SimRun, simulate, write_plan


def strap_telemetry(events: list[TelemetryEvent]) -> list[TelemetryEvent]:
    return [e for e in events if e.heart_rate_source == "strap"]


def test_strap_values_reach_telemetry_with_their_source(tmp_path: Path) -> None:
    run = simulate(
        tmp_path,
        plan_file=write_plan(tmp_path, SHORT_PLAN),
        sim_hr_strap=True,
        sim_faults=("hr@10:123",),
    )
    assert run.exit_code == 0
    telemetry = run.of(TelemetryEvent)
    from_strap = strap_telemetry(telemetry)
    assert len(from_strap) >= len(telemetry) - 3  # the first packets may precede the strap
    assert {e.heart_rate_bpm for e in from_strap if e.t > 15} == {123}
    assert '"heart_rate_source":"strap"' in from_strap[-1].to_json()
    assert run.simulator is not None
    assert run.simulator.strap is not None
    assert run.simulator.strap.connection_count == 1


def test_without_contact_telemetry_carries_no_strap_heart_rate(tmp_path: Path) -> None:
    run = simulate(
        tmp_path,
        plan_file=write_plan(tmp_path, SHORT_PLAN),
        sim_hr_strap=True,
        sim_faults=("hr-contact@20",),
    )
    late = [e for e in run.of(TelemetryEvent) if e.t > 25]
    assert late
    assert all(e.heart_rate_bpm is None for e in late)
    assert all(e.heart_rate_source is None for e in late)


def take_strap_away(sim: Simulator) -> None:
    assert sim.strap is not None
    sim.strap.inject(FaultSpec(FaultKind.HR_DROP, 0.0, 3600.0))


def test_a_strap_that_is_not_there_exits_4_and_nothing_moves(tmp_path: Path) -> None:
    run = simulate(
        tmp_path,
        plan_file=write_plan(tmp_path, SHORT_PLAN),
        sim_hr_strap=True,
        on_simulator=take_strap_away,
    )
    assert run.exit_code == 4
    assert run.error is not None
    assert "heart-rate strap" in str(run.error)
    assert run.simulator is not None
    assert not run.simulator.treadmill.control_log  # never took control, never started
    assert run.final_belt_kmh == 0


def test_hr_optional_runs_without_the_strap(tmp_path: Path) -> None:
    with capture_logs() as logged:
        run = simulate(
            tmp_path,
            plan_file=write_plan(tmp_path, SHORT_PLAN),
            sim_hr_strap=True,
            hr_optional=True,
            on_simulator=take_strap_away,
        )
    assert run.exit_code == 0
    warnings = [entry for entry in logged if entry["log_level"] == "warning"]
    assert [entry["event"] for entry in warnings] == ["running without the heart-rate strap"]
    assert "heart-rate strap" in warnings[0]["reason"]
    assert not strap_telemetry(run.of(TelemetryEvent))


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"device": "X", "sim_hr_strap": True}, "--sim-hr-strap works only with --sim"),
        ({"sim": True, "hr_device": "Polar"}, "use --sim-hr-strap"),
        ({"sim": True, "sim_faults": ("hr-drop@60:20",)}, "needs --sim-hr-strap"),
        ({"sim": True, "sim_faults": ("hr-contact@60",)}, "needs --sim-hr-strap"),
    ],
)
def test_strap_flags_are_checked_before_anything_connects(
    tmp_path: Path, options: dict[str, object], complaint: str
) -> None:
    with pytest.raises(InputError, match=complaint):
        prepare(RunOptions(data_dir=tmp_path, yes=True, **options))  # type: ignore[arg-type]


LONG_PLAN = """
name = "long"
[[segments]]
name = "steady"
duration_s = 150
target_mph = 1.5
"""

ZONE_PLAN = """
name = "zone"
[[segments]]
name = "zone"
duration_s = 150
min_mph = 1.0
max_mph = 2.0
hr_min_bpm = 60
hr_max_bpm = 170
"""


def speeds_between(run: SimRun, start: float, end: float) -> list[float]:
    return [
        e.mph
        for e in run.of(CommandEvent)
        if e.op == "set_speed" and e.mph is not None and start <= e.t < end
    ]


def lost_events(run: SimRun) -> list[SafetyEvent]:
    return [e for e in run.of(SafetyEvent) if e.reason == "heart_rate_lost"]


def with_limit(tmp_path: Path, bpm: int = 180) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"[safety]\nmax_heart_rate_bpm = {bpm}\n", encoding="utf-8")
    return path


def test_hr_drop_holds_at_the_floor_then_takes_up_the_target(tmp_path: Path) -> None:
    run = simulate(
        tmp_path,
        plan_file=write_plan(tmp_path, LONG_PLAN),
        config_file=with_limit(tmp_path),
        sim_hr_strap=True,
        sim_faults=("hr-drop@60:20",),
    )
    assert run.exit_code == 0  # not a stop
    (lost,) = lost_events(run)
    assert lost.action == "slow"
    assert 60 + 10 - 2 <= lost.t <= 60 + 10 + 3  # the strap's timeout after the drop
    assert speeds_between(run, lost.t, lost.t + 10)[-1] == pytest.approx(0.5, abs=0.01)
    back = speeds_between(run, 85, 150)
    assert back[-1] == pytest.approx(1.5, abs=0.01)  # the target again once the strap is back
    held = speeds_between(run, lost.t, 80)
    assert held == sorted(held, reverse=True)  # only down while the heart rate is missing


def test_hr_contact_in_a_zone_holds_at_the_floor(tmp_path: Path) -> None:
    run = simulate(
        tmp_path,
        plan_file=write_plan(tmp_path, ZONE_PLAN),
        sim_hr_strap=True,
        sim_faults=("hr-contact@60",),
    )
    assert run.exit_code == 0
    (lost,) = lost_events(run)
    assert 60 + 10 - 2 <= lost.t <= 60 + 10 + 3
    assert speeds_between(run, lost.t, lost.t + 10)[-1] == pytest.approx(0.5, abs=0.01)
    later = speeds_between(run, lost.t + 10, 150)
    assert all(mph == pytest.approx(0.5, abs=0.01) for mph in later)  # held, never raised
    assert run.stopped.reason == "completed"


def test_without_a_limit_or_zone_a_lost_strap_changes_nothing(tmp_path: Path) -> None:
    run = simulate(
        tmp_path,
        plan_file=write_plan(tmp_path, LONG_PLAN),
        sim_hr_strap=True,
        sim_faults=("hr-drop@30:20",),
    )
    assert run.exit_code == 0
    assert not lost_events(run)


def test_a_strap_heart_rate_above_the_limit_still_slows_then_stops(tmp_path: Path) -> None:
    run = simulate(
        tmp_path,
        plan_file=write_plan(tmp_path, LONG_PLAN),
        config_file=with_limit(tmp_path, 150),
        sim_hr_strap=True,
        sim_faults=("hr@40:175",),
    )
    assert run.exit_code == 3
    assert run.safety_reasons()[:1] == ["heart_rate"]
    assert run.stopped.reason == "fault"
