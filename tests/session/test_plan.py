"""Plans: TOML/JSON files, errors that name the field, and fitting into the user's limits."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from retrotread.config import SafetyConfig
from retrotread.errors import InputError
from retrotread.session.plan import (
    Direction,
    Plan,
    Segment,
    load_plan,
    parse_plan,
    validate_max_speed,
)

GOOD_TOML = """
title = "Test"
description = "A plan for tests."

[[segments]]
name = "warm"
duration_s = 60
target_mph = 0.5

[[segments]]
name = "zone"
duration_s = 120
min_mph = 1.0
max_mph = 2.0
incline_pct = 2.0
hr_min_bpm = 100
hr_max_bpm = 130

[[segments]]
name = "forward"
direction = "forward"
duration_s = 90
target_mph = 3.5
ramp_step_mph = 0.05
"""


def plan_data(**segment: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": "s", "duration_s": 60, **segment}
    return {"segments": [{"name": "ok", "duration_s": 30, "target_mph": 0.5}, fields]}


def refused(data: dict[str, Any]) -> str:
    with pytest.raises(InputError) as caught:
        parse_plan(data, "plan p.toml", "p")
    assert caught.value.exit_code == 2
    assert "\n" not in str(caught.value)
    return str(caught.value)


# --- loading -----------------------------------------------------------------------------------


def test_toml_plan_loads_with_its_file_name(tmp_path: Path) -> None:
    path = tmp_path / "my-plan.toml"
    path.write_text(GOOD_TOML, encoding="utf-8")
    plan = load_plan(path)
    assert plan.name == "my-plan"
    assert [s.direction for s in plan.segments] == [
        Direction.backward,
        Direction.backward,
        Direction.forward,
    ]
    zone = plan.segments[1]
    assert (zone.start_mph, zone.ceiling_mph, zone.has_hr_zone) == (1.0, 2.0, True)
    assert plan.total_duration_s() == 270
    assert plan.direction_changes() == 1
    assert plan.speed_span_mph(Direction.backward) == (0.5, 2.0)
    assert plan.speed_span_mph(Direction.forward) == (3.5, 3.5)


def test_json_plan_loads_and_keeps_its_own_name(tmp_path: Path) -> None:
    data = {"name": "custom", "segments": [{"name": "a", "duration_s": 10, "target_mph": 1.2}]}
    path = tmp_path / "x.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    plan = load_plan(path)
    assert plan.name == "custom"
    assert plan.segments[0].target_mph == 1.2


@pytest.mark.parametrize(
    "text",
    [GOOD_TOML, json.dumps({"segments": [{"name": "a", "duration_s": 10, "target_mph": 1.2}]})],
)
def test_plan_without_a_known_suffix_is_read_as_toml_or_json(tmp_path: Path, text: str) -> None:
    path = tmp_path / "plan.txt"
    path.write_text(text, encoding="utf-8")
    assert load_plan(path).name == "plan"


@pytest.mark.parametrize(
    ("suffix", "text", "expected"),
    [
        (".toml", "[[segments]\n", "invalid TOML"),
        (".json", "{", "invalid JSON"),
        (".json", "[1, 2]", "invalid JSON: the top level must be an object"),
        (".plan", "{{{", "invalid TOML or JSON"),
    ],
)
def test_unparseable_file_is_one_line(
    tmp_path: Path, suffix: str, text: str, expected: str
) -> None:
    path = tmp_path / f"bad{suffix}"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_plan(path)
    assert str(caught.value).startswith(f"plan {path}: {expected}")
    assert "\n" not in str(caught.value)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_plan(tmp_path / "nope.toml")


def test_field_error_in_a_file_names_the_exact_path(tmp_path: Path) -> None:
    path = tmp_path / "fast.toml"
    path.write_text(GOOD_TOML.replace("max_mph = 2.0", "max_mph = 3.5"), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_plan(path)
    assert str(caught.value) == (
        f"plan {path}: segments[1].max_mph = 3.5: backward speed must be within 0.5..3.0 mph"
    )


# --- field errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        (
            {"target_mph": 3.5},
            "segments[1].target_mph = 3.5: backward speed must be within 0.5..3.0 mph",
        ),
        (
            {"target_mph": 0.4},
            "segments[1].target_mph = 0.4: backward speed must be within 0.5..3.0 mph",
        ),
        (
            {"direction": "forward", "target_mph": 4.5},
            "segments[1].target_mph = 4.5: forward speed must be within 0.5..4.0 mph",
        ),
        ({"min_mph": 2.0, "max_mph": 1.0}, "segments[1].min_mph = 2.0: must be <= max_mph (1.0)"),
        (
            {"min_mph": 1.0},
            "segments[1].max_mph = null: a speed range needs both min_mph and max_mph",
        ),
        (
            {"target_mph": 1.0, "min_mph": 1.0, "max_mph": 2.0},
            "segments[1].target_mph = 1.0: give target_mph or min_mph/max_mph, not both",
        ),
        ({}, "segments[1].target_mph = null: give target_mph, or min_mph and max_mph"),
        (
            {"target_mph": 1.0, "incline_pct": 20},
            "segments[1].incline_pct = 20: must be within 0.0..15.0 %",
        ),
        (
            {"target_mph": 1.0, "duration_s": 0},
            "segments[1].duration_s = 0: must be within 1..7200 s",
        ),
        (
            {"target_mph": 1.0, "ramp_step_mph": 0.8},
            "segments[1].ramp_step_mph = 0.8: must be > 0 and <= 0.5 mph",
        ),
        (
            {"target_mph": 1.0, "hr_min_bpm": 120},
            "segments[1].hr_max_bpm = null: a heart-rate zone needs both hr_min_bpm and hr_max_bpm",
        ),
        (
            {"target_mph": 1.0, "hr_min_bpm": 140, "hr_max_bpm": 120},
            "segments[1].hr_min_bpm = 140: must be < hr_max_bpm (120)",
        ),
        (
            {"target_mph": 1.0, "hr_max_bpm": 300, "hr_min_bpm": 100},
            "segments[1].hr_max_bpm = 300: must be within 40..220 bpm",
        ),
        ({"target_mph": 1.0, "speed": 2}, "segments[1].speed = 2: unknown key"),
        (
            {"target_mph": 1.0, "direction": "sideways"},
            "segments[1].direction = \"sideways\": must be one of 'backward' or 'forward'",
        ),
        ({"target_mph": "fast"}, 'segments[1].target_mph = "fast": must be a number'),
    ],
)
def test_bad_segment_is_refused_naming_field_value_and_range(
    segment: dict[str, Any], expected: str
) -> None:
    assert refused(plan_data(**segment)).startswith(f"plan p.toml: {expected}")


def test_a_plan_needs_segments() -> None:
    assert "segments" in refused({"segments": []})
    assert refused({"name": "x"}) == "plan p.toml: segments: required"


def test_unknown_plan_key_is_refused() -> None:
    data = plan_data(target_mph=1.0)
    data["speed_limit"] = 9
    assert "speed_limit = 9: unknown key" in refused(data)


@given(
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: not 0.5 <= v <= 3.0),
    st.sampled_from(["target_mph", "min_mph", "max_mph"]),
)
def test_any_backward_speed_outside_the_band_is_refused(mph: float, field: str) -> None:
    segment = {"target_mph": mph} if field == "target_mph" else {"min_mph": 0.5, "max_mph": 3.0}
    segment[field] = mph
    message = refused(plan_data(**segment))
    assert f"segments[1].{field} = " in message
    assert "0.5..3.0 mph" in message


@given(st.floats(min_value=0.5, max_value=3.0), st.floats(min_value=0.5, max_value=4.0))
def test_any_speed_inside_its_band_is_accepted(backward: float, forward: float) -> None:
    data = plan_data(target_mph=backward)
    data["segments"].append(
        {"name": "f", "direction": "forward", "duration_s": 5, "target_mph": forward}
    )
    plan = parse_plan(data, "plan p", "p")
    assert plan.segments[1].target_mph == backward
    assert plan.segments[2].target_mph == forward


# --- fitting into the user's limits --------------------------------------------------------------


def sample_plan() -> Plan:
    return parse_plan(
        {
            "segments": [
                {"name": "slow", "duration_s": 60, "target_mph": 0.5},
                {"name": "range", "duration_s": 60, "min_mph": 1.0, "max_mph": 3.0},
                {"name": "top", "duration_s": 60, "target_mph": 3.0, "ramp_step_mph": 0.05},
                {"name": "fwd", "direction": "forward", "duration_s": 60, "target_mph": 4.0},
            ]
        },
        "plan t",
        "t",
    )


def test_defaults_leave_speeds_alone_and_fill_in_safety_values() -> None:
    safety = SafetyConfig()
    plan = sample_plan().check_against(safety)
    assert [s.ceiling_mph for s in plan.segments] == [0.5, 3.0, 3.0, 4.0]
    assert [s.ramp_step_mph for s in plan.segments] == [0.1, 0.1, 0.05, 0.1]
    assert plan.turnaround_mode == "floor"
    assert plan.turnaround_hold_s == safety.turnaround_hold_s


def test_max_speed_caps_targets_in_both_directions() -> None:
    plan = sample_plan().check_against(SafetyConfig(), max_speed_mph=2.0)
    assert [s.target_mph for s in plan.segments] == [0.5, None, 2.0, 2.0]
    assert (plan.segments[1].min_mph, plan.segments[1].max_mph) == (1.0, 2.0)


def test_config_ceiling_floor_and_forward_limit_apply() -> None:
    safety = SafetyConfig(max_backward_mph=2.5, min_backward_mph=0.8, forward_max_mph=3.0)
    plan = sample_plan().check_against(safety)
    assert [s.start_mph for s in plan.segments] == [0.8, 1.0, 2.5, 3.0]
    assert [s.ceiling_mph for s in plan.segments] == [0.8, 2.5, 2.5, 3.0]


def test_ramp_step_is_never_faster_than_the_safety_step() -> None:
    plan = sample_plan().check_against(SafetyConfig(max_step_mph=0.02))
    assert {s.ramp_step_mph for s in plan.segments} == {0.02}


def test_plan_turnaround_may_lengthen_the_hold_never_shorten_it() -> None:
    base = sample_plan()
    longer = base.model_copy(update={"turnaround_hold_s": 20.0, "turnaround_mode": "pause"})
    shorter = base.model_copy(update={"turnaround_hold_s": 2.0})
    assert longer.check_against(SafetyConfig()).turnaround_hold_s == 20.0
    assert longer.check_against(SafetyConfig()).turnaround_mode == "pause"
    assert shorter.check_against(SafetyConfig(turnaround_hold_s=8.0)).turnaround_hold_s == 8.0


@pytest.mark.parametrize("mph", [3.01, 5.0, 0.4, 0.0, -1.0])
def test_max_speed_outside_the_band_is_refused(mph: float) -> None:
    with pytest.raises(InputError) as caught:
        sample_plan().check_against(SafetyConfig(), max_speed_mph=mph)
    assert str(caught.value) == (
        f"--max-speed = {mph!r}: must be within 0.5..3.0 mph "
        "(may lower the ceiling, never raise it)"
    )
    assert caught.value.exit_code == 2


def test_max_speed_below_the_configured_floor_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        sample_plan().check_against(SafetyConfig(min_backward_mph=1.0), max_speed_mph=0.8)
    assert str(caught.value) == (
        "--max-speed = 0.8: must be >= 1.1 mph, at least 0.1 mph above safety.min_backward_mph "
        "(1.0 mph)"
    )


@pytest.mark.parametrize("max_speed", [0.5, 0.55, 0.59])
def test_max_speed_that_leaves_less_than_0_1_mph_of_band_is_refused(max_speed: float) -> None:
    """SPEC: the band stays at least 0.1 mph wide; refused here, not by the supervisor later."""
    with pytest.raises(InputError, match=r"must be >= 0\.6 mph"):
        sample_plan().check_against(SafetyConfig(), max_speed_mph=max_speed)
    assert sample_plan().check_against(SafetyConfig(), max_speed_mph=0.6)


def test_a_low_forward_ceiling_matters_only_to_a_plan_with_forward_segments() -> None:
    safety = SafetyConfig(min_backward_mph=2.5, forward_max_mph=2.0)
    backward_only = Plan(name="b", segments=(Segment(name="a", duration_s=10, target_mph=2.8),))
    assert backward_only.check_against(safety).segments[0].target_mph == 2.8
    with pytest.raises(InputError) as caught:
        sample_plan().check_against(safety)
    assert str(caught.value).startswith("safety.forward_max_mph = 2.0: must be >= 2.6 mph")
    assert not backward_only.has_forward()
    assert sample_plan().has_forward()


def test_heart_rate_zone_above_the_limit_is_refused() -> None:
    plan = parse_plan(plan_data(min_mph=1.0, max_mph=2.0, hr_min_bpm=120, hr_max_bpm=170), "p", "p")
    with pytest.raises(InputError) as caught:
        plan.check_against(SafetyConfig(max_heart_rate_bpm=160))
    assert str(caught.value) == (
        "plan p: segments[1].hr_max_bpm = 170: must be <= safety.max_heart_rate_bpm (160 bpm)"
    )


def test_validate_max_speed_accepts_the_band_and_none() -> None:
    assert validate_max_speed(None) is None
    assert validate_max_speed(0.5) == 0.5
    assert validate_max_speed(3.0) == 3.0


segments = st.builds(
    lambda direction, a, b, ranged: Segment(
        name="s",
        direction=direction,
        duration_s=10,
        **({"min_mph": min(a, b), "max_mph": max(a, b)} if ranged else {"target_mph": a}),
    ),
    st.sampled_from(Direction),
    st.floats(min_value=0.5, max_value=3.0),
    st.floats(min_value=0.5, max_value=3.0),
    st.booleans(),
)


@given(
    st.lists(segments, min_size=1, max_size=8),
    st.floats(min_value=0.5, max_value=3.0),
    st.floats(min_value=0.5, max_value=3.0),
    st.one_of(st.none(), st.floats(min_value=0.5, max_value=3.0)),
)
def test_checked_plan_stays_within_the_users_limits(
    segs: list[Segment], a: float, b: float, max_speed: float | None
) -> None:
    floor, ceiling = sorted((a, b))
    assume(ceiling - floor >= 0.1)  # narrower bands are refused by SafetyConfig (test_config)
    safety = SafetyConfig(min_backward_mph=floor, max_backward_mph=ceiling, forward_max_mph=3.5)
    if max_speed is not None and min(max_speed, ceiling) - floor < 0.1 - 1e-9:
        with pytest.raises(InputError):
            Plan(name="p", segments=tuple(segs)).check_against(safety, max_speed)
        return
    plan = Plan(name="p", segments=tuple(segs)).check_against(safety, max_speed)
    cap = max_speed if max_speed is not None else 4.0
    for seg in plan.segments:
        if seg.direction is Direction.backward:
            assert floor <= seg.start_mph <= seg.ceiling_mph <= min(ceiling, cap)
        else:
            assert 0.5 <= seg.start_mph <= seg.ceiling_mph <= min(3.5, cap)
        assert seg.ramp_step_mph is not None
        assert seg.ramp_step_mph <= safety.max_step_mph


def test_several_bad_fields_are_reported_on_one_line_with_the_source_once() -> None:
    data = {
        "segments": [
            {"name": "a", "duration_s": 0, "target_mph": 1.0},
            {"name": "b", "duration_s": 10, "target_mph": 1.0, "incline_pct": -1},
        ]
    }
    assert refused(data) == (
        "plan p.toml: segments[0].duration_s = 0: must be within 1..7200 s; "
        "segments[1].incline_pct = -1: must be within 0.0..15.0 %"
    )


# --- strict types and hostile files -------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("target_mph", True), ("duration_s", False), ("target_mph", "1.0"), ("incline_pct", True)],
)
def test_a_value_of_the_wrong_type_is_refused_not_coerced(field: str, value: object) -> None:
    """`target_mph = true` is not 1.0 mph."""
    data = plan_data(**{"target_mph": 1.0, field: value})
    assert f"segments[1].{field} = " in refused(data)


def test_a_name_must_be_text() -> None:
    assert "segments[1].name = 5: must be a string" in refused(plan_data(name=5, target_mph=1.0))


@pytest.mark.parametrize(
    ("suffix", "text"),
    [
        (".json", '{"segments": ' + "[" * 5000 + "]" * 5000 + "}"),
        (".toml", "segments = " + "[" * 3000 + "]" * 3000),
        (".plan", "segments = " + "[" * 3000 + "]" * 3000),
        (".toml", "[" + ".".join(["a"] * 2000) + "]\n"),
    ],
)
def test_a_plan_nested_thousands_deep_is_one_line(tmp_path: Path, suffix: str, text: str) -> None:
    path = tmp_path / f"deep{suffix}"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_plan(path)
    assert str(caught.value) == f"plan {path}: nested more than 32 levels deep"


def test_an_endless_device_is_refused_without_reading() -> None:
    with pytest.raises(InputError) as caught:
        load_plan(Path("/dev/zero"))
    assert str(caught.value) == "plan /dev/zero: not a regular file (a character device)"


def test_a_fifo_plan_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "plan.toml"
    os.mkfifo(fifo)  # nobody writes: a blocking open would wait forever
    with pytest.raises(InputError, match=r"not a regular file \(a pipe\)"):
        load_plan(fifo)


def test_a_plan_over_a_mebibyte_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text("# pad\n" * 200_000, encoding="utf-8")
    with pytest.raises(InputError, match="larger than 1 MiB"):
        load_plan(path)


def test_a_binary_plan_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    with pytest.raises(InputError) as caught:
        load_plan(path)
    assert str(caught.value) == f"plan {path}: not UTF-8 text (byte 0 is 0x89)"
