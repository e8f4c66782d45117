"""The list of programs is read from the shipped files without validating them (the plan model
costs the list most of its start-up time): it must say what the validated plans say."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from retrotread.session import programs
from retrotread.session.plan import load_plan
from retrotread.session.programs import (
    PROGRAM_NAMES,
    ProgramSummary,
    list_programs,
    program_summaries,
)


def test_summaries_read_from_the_files_equal_those_of_the_validated_plans() -> None:
    from_files = program_summaries()
    assert [summary.name for summary in from_files] == list(PROGRAM_NAMES)
    assert from_files == [ProgramSummary.of_plan(plan) for plan in list_programs()]


def test_a_summary_has_a_span_per_direction_walked() -> None:
    by_name = {summary.name: summary for summary in program_summaries()}
    assert [span[0] for span in by_name["intervals"].speed_spans_mph] == ["backward", "forward"]
    assert [span[0] for span in by_name["first-steps"].speed_spans_mph] == ["backward"]
    assert by_name["first-steps"].duration_s == 270


RANGES_PLAN = """
title = "Ranges"
[[segments]]
name = "paced"
duration_s = 90
min_mph = 0.6
max_mph = 1.4
[[segments]]
name = "fixed"
direction = "forward"
duration_s = 45.5
target_mph = 2.0
[[segments]]
name = "paced forward"
direction = "forward"
duration_s = 30
min_mph = 1.5
max_mph = 2.5
"""


def test_segments_with_a_speed_range_are_summarised_as_the_plan_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No built-in program has a speed range today; a future one must list the same."""
    path = tmp_path / "ranges.toml"
    path.write_text(RANGES_PLAN)
    monkeypatch.setattr(programs, "program_path", lambda name: path)
    validated = ProgramSummary.of_plan(load_plan(path))
    summaries = program_summaries()
    assert {replace(summary, name="ranges") for summary in summaries} == {validated}
    assert validated.speed_spans_mph == (("backward", 0.6, 1.4), ("forward", 1.5, 2.5))
    assert validated.duration_s == 165.5
