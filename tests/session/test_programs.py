"""The five built-in programs load and keep to their intent in SPEC.md and the guide."""

from __future__ import annotations

import itertools

import pytest

from retrotread.config import SafetyConfig
from retrotread.errors import InputError
from retrotread.events import Direction
from retrotread.paths import configs_dir
from retrotread.session.plan import Plan
from retrotread.session.programs import (
    DEFAULT_PROGRAM,
    PROGRAM_NAMES,
    list_programs,
    load_program,
)


def minutes(plan: Plan) -> float:
    return plan.total_duration_s() / 60


def speeds(plan: Plan, direction: Direction = Direction.backward) -> list[float]:
    chosen = [s for s in plan.segments if s.direction is direction]
    return [v for s in chosen for v in (s.start_mph, s.ceiling_mph)]


def test_the_five_programs_of_the_spec_are_shipped_and_nothing_else() -> None:
    assert set(PROGRAM_NAMES) == {"first-steps", "cooldown", "intervals", "rehab", "athletic"}
    files = {p.stem for p in (configs_dir() / "programs").glob("*.toml")}
    assert files == set(PROGRAM_NAMES)
    assert DEFAULT_PROGRAM == "first-steps"


def test_every_program_loads_with_a_description_and_fits_the_default_limits() -> None:
    plans = list_programs()
    assert [p.name for p in plans] == list(PROGRAM_NAMES)
    for plan in plans:
        assert plan.title
        assert len(plan.description) > 80
        checked = plan.check_against(SafetyConfig())
        assert [s.ceiling_mph for s in checked.segments] == [s.ceiling_mph for s in plan.segments]
        assert [s.start_mph for s in checked.segments] == [s.start_mph for s in plan.segments]


def test_first_steps_starts_at_half_a_mph_and_never_exceeds_one() -> None:
    plan = load_program("first-steps")
    assert 2 <= minutes(plan) <= 5
    assert plan.segments[0].start_mph == 0.5
    assert max(speeds(plan)) <= 1.0
    assert all(s.direction is Direction.backward for s in plan.segments)


def test_cooldown_is_backward_at_one_to_one_and_a_half_on_a_low_incline() -> None:
    plan = load_program("cooldown")
    assert 5 <= minutes(plan) <= 10
    assert all(s.direction is Direction.backward for s in plan.segments)
    assert min(speeds(plan)) >= 1.0
    assert max(speeds(plan)) == 1.5
    assert all((s.incline_pct or 0.0) <= 2.0 for s in plan.segments)


def test_intervals_alternate_two_minutes_forward_with_one_backward() -> None:
    plan = load_program("intervals")
    assert 15 <= minutes(plan) <= 20
    directions = [s.direction for s in plan.segments]
    assert directions[0] is Direction.forward
    assert all(a is not b for a, b in itertools.pairwise(directions))
    assert plan.direction_changes() == len(plan.segments) - 1
    for segment in plan.segments:
        expected = 120 if segment.direction is Direction.forward else 60
        assert segment.duration_s == expected
    assert max(speeds(plan)) <= 1.5
    assert max(speeds(plan, Direction.forward)) <= SafetyConfig().forward_max_mph


def test_rehab_is_very_slow_short_steady_on_about_two_percent() -> None:
    plan = load_program("rehab")
    assert minutes(plan) <= 10
    assert min(speeds(plan)) >= 0.5
    assert max(speeds(plan)) <= 1.0
    assert all(s.incline_pct is not None and 1.5 <= s.incline_pct <= 2.5 for s in plan.segments)
    assert all(s.target_mph is not None for s in plan.segments)  # steady: fixed targets
    assert all(s.direction is Direction.backward for s in plan.segments)


def test_athletic_builds_to_two_and_a_half_to_three_mph() -> None:
    plan = load_program("athletic")
    assert 10 <= minutes(plan) <= 15
    ceilings = [s.ceiling_mph for s in plan.segments]
    peak = ceilings.index(max(ceilings))
    assert 2.5 <= max(ceilings) <= 3.0
    assert ceilings[: peak + 1] == sorted(ceilings[: peak + 1])  # it builds up
    assert plan.segments[0].start_mph < 2.5  # with a warm-up first
    time_fast = sum(s.duration_s for s in plan.segments if s.start_mph >= 2.5)
    assert time_fast >= 5 * 60


def test_unknown_program_lists_the_names() -> None:
    with pytest.raises(InputError) as caught:
        load_program("marathon")
    assert caught.value.exit_code == 2
    assert str(caught.value) == (
        "unknown program 'marathon'; built-in programs: "
        "first-steps, cooldown, intervals, rehab, athletic"
    )


def test_a_path_is_not_a_program_name() -> None:
    with pytest.raises(InputError, match="unknown program"):
        load_program("../default")
