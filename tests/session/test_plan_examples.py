"""The documented plan schema: the shipped examples are valid, say the same in TOML and JSON,
cover every kind of segment a person may write, and are the very text docs/plans.md shows."""

from __future__ import annotations

import re

from retrotread.events import Direction
from retrotread.paths import configs_dir
from retrotread.session.plan import Plan, Segment, load_plan

EXAMPLES = configs_dir() / "examples"
DOC = configs_dir().parent / "docs" / "plans.md"


def fenced(text: str, language: str) -> list[str]:
    """The bodies of the ```language blocks of a Markdown text."""
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.DOTALL | re.MULTILINE)


def test_the_toml_and_json_examples_are_the_same_valid_plan() -> None:
    toml, json = load_plan(EXAMPLES / "plan.toml"), load_plan(EXAMPLES / "plan.json")
    assert toml == json
    assert toml.name == "example"


def test_the_example_holds_every_kind_of_setting() -> None:
    plan = load_plan(EXAMPLES / "plan.toml")
    assert plan.turnaround_mode is not None
    assert plan.turnaround_hold_s is not None
    assert plan.direction_changes() >= 2
    segments = plan.segments
    assert any(s.min_mph is not None and s.max_mph is not None for s in segments)  # a range
    assert any(s.target_mph is not None for s in segments)
    assert any(s.has_hr_zone for s in segments)
    assert any(s.incline_pct for s in segments)
    assert any(s.ramp_step_mph is not None for s in segments)
    assert {s.direction for s in segments} == set(Direction)
    written = {key for s in segments for key in s.model_fields_set}
    assert written == set(Segment.model_fields)  # every segment key appears somewhere
    # Every plan key too, but the coach's own: `reason` says why `coach` suggested a plan.
    assert set(Plan.model_fields) - {"reason"} <= plan.model_fields_set


def test_the_doc_shows_the_example_files_verbatim() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert (EXAMPLES / "plan.toml").read_text(encoding="utf-8") in fenced(text, "toml")
    assert (EXAMPLES / "plan.json").read_text(encoding="utf-8") in fenced(text, "json")


def test_the_doc_names_every_key_of_the_schema() -> None:
    text = DOC.read_text(encoding="utf-8")
    for key in (*Plan.model_fields, *Segment.model_fields):
        assert f"`{key}`" in text, key


def test_the_readme_links_the_doc() -> None:
    readme = (configs_dir().parent / "README.md").read_text(encoding="utf-8")
    assert "(docs/plans.md)" in readme
