"""Plans written as files read back (tomllib or json, then the plan model) to the same plan."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrotread.history.plan_file import plan_json, plan_toml
from retrotread.session.plan import Plan, load_plan
from retrotread.session.programs import PROGRAM_NAMES, load_program

# Any text a name, title, description or reason may hold: quotes, backslashes, newlines, tabs,
# control characters, DEL, non-ASCII (no lone surrogates: those are not text).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    segments = []
    for _ in range(draw(st.integers(1, 4))):
        segment = {
            "name": draw(TEXT.filter(lambda t: 1 <= len(t) <= 60)),
            "direction": draw(st.sampled_from(["backward", "forward"])),
            "duration_s": draw(st.floats(1, 7200)),
            "target_mph": draw(st.floats(0.5, 3.0)),
        }
        if draw(st.booleans()):
            segment["incline_pct"] = draw(st.floats(0, 15))
        segments.append(segment)
    return Plan.model_validate(
        {
            "name": draw(TEXT.filter(lambda t: 1 <= len(t) <= 80)),
            "title": draw(TEXT),
            "description": draw(TEXT),
            "reason": draw(st.none() | TEXT),
            "segments": segments,
        }
    )


@settings(max_examples=300, deadline=None)
@given(plans())
def test_toml_and_json_read_back_to_the_same_plan(plan: Plan) -> None:
    assert Plan.model_validate(tomllib.loads(plan_toml(plan, header="a\nb"))) == plan
    assert Plan.model_validate(json.loads(plan_json(plan))) == plan


@pytest.mark.parametrize("name", PROGRAM_NAMES)
def test_every_program_round_trips_through_a_file_run_reads(name: str, tmp_path: Path) -> None:
    program = load_program(name).model_copy(update={"reason": 'why "this"'})
    toml_file = tmp_path / "p.toml"
    toml_file.write_text(plan_toml(program), encoding="utf-8")
    json_file = tmp_path / "p.json"
    json_file.write_text(plan_json(program), encoding="utf-8")
    assert load_plan(toml_file) == program
    assert load_plan(json_file) == program


def test_the_name_and_reason_come_first_and_the_header_is_a_comment() -> None:
    plan = load_program("first-steps").model_copy(update={"reason": "why"})
    lines = plan_toml(plan, header="made by the coach").splitlines()
    assert lines[:3] == ["# made by the coach", 'name = "first-steps"', 'reason = "why"']
    assert lines.count("[[segments]]") == len(plan.segments)


def test_the_plan_model_still_refuses_unknown_keys() -> None:
    data = json.loads(plan_json(load_program("first-steps")))
    data["rest"] = True
    with pytest.raises(ValueError, match="rest"):
        Plan.model_validate(data)
