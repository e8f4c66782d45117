"""`run --sim` enforces the heart-rate limit resolved from [user] (220 - age, or the user's own
maximum) exactly as a configured safety.max_heart_rate_bpm, and refuses a zone above it."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrotread.errors import InputError
from retrotread.events import SafetyEvent
from retrotread.run import RunOptions, prepare
from tests.support.sessions import SHORT_PLAN, simulate, write_plan


def user_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("config", "limit"),
    [("[user]\nage = 50\n", 170), ("[user]\nage = 30\nmax_heart_rate_bpm = 170\n", 170)],
)
def test_a_limit_from_the_user_section_slows_then_stops(
    tmp_path: Path, config: str, limit: int
) -> None:
    run = simulate(
        tmp_path,
        plan_file=write_plan(tmp_path, SHORT_PLAN),
        config_file=user_config(tmp_path, config),
        sim_faults=("hr@10:190",),
    )
    assert run.exit_code == 3
    assert run.stopped.reason == "fault"
    events = [e for e in run.of(SafetyEvent) if e.reason == "heart_rate"]
    assert [e.action for e in events[:2]] == ["slow", "stop"]
    assert f"190 bpm above {limit} bpm" in (events[0].detail or "")


def test_an_age_below_the_heart_rate_allows_the_session(tmp_path: Path) -> None:
    """220 - 20 = 200 bpm: a steady 190 is within it, nothing slows."""
    run = simulate(
        tmp_path,
        plan_file=write_plan(tmp_path, SHORT_PLAN),
        config_file=user_config(tmp_path, "[user]\nage = 20\n"),
        sim_faults=("hr@10:190",),
    )
    assert run.exit_code == 0
    assert "heart_rate" not in run.safety_reasons()


def test_a_zone_above_the_age_limit_is_refused_before_connecting(tmp_path: Path) -> None:
    plan = write_plan(
        tmp_path,
        """
name = "zone"
[[segments]]
name = "zone"
duration_s = 60
min_mph = 1.0
max_mph = 2.0
hr_min_bpm = 140
hr_max_bpm = 160
""",
    )
    config = user_config(tmp_path, "[user]\nage = 70\n")
    with pytest.raises(InputError) as caught:
        prepare(RunOptions(sim=True, plan_file=plan, config_file=config, data_dir=tmp_path))
    assert str(caught.value) == (
        "plan zone: segments[0].hr_max_bpm = 160: must be <= 220 - user.age (150 bpm)"
    )


@pytest.mark.parametrize(
    ("config", "held"),
    [
        ("[user]\nage = 50\n", False),  # nobody asked for a limit: a missing heart rate is fine
        ("[user]\nmax_heart_rate_bpm = 170\n", True),  # asked for: no reading, hold at the floor
    ],
)
def test_a_limit_from_age_alone_does_not_hold_a_belt_that_never_reports_heart_rate(
    tmp_path: Path, config: str, held: bool
) -> None:
    """The strap never has skin contact and the console reports none: no heart rate at all."""
    run = simulate(
        tmp_path,
        plan_file=write_plan(tmp_path, SHORT_PLAN),
        config_file=user_config(tmp_path, config),
        sim_hr_strap=True,
        sim_faults=("hr-contact@0",),
    )
    assert run.exit_code == 0
    assert ("heart_rate_lost" in run.safety_reasons()) is held
