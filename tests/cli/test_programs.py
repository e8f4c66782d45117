"""`retrotread programs [NAME]` through the real CLI entry."""

from __future__ import annotations

import json

import pytest

from retrotread.cli.app import run
from retrotread.session.programs import PROGRAM_NAMES


def test_list_shows_every_program_with_duration_and_speeds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(["programs"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["name", "time", "speeds", "description"]
    assert [line.split()[0] for line in lines[1:]] == list(PROGRAM_NAMES)
    first = lines[1]
    assert "4:30" in first
    assert "backward 0.5-1.0 mph" in first
    assert "forward 3.0 mph" in next(line for line in lines if line.startswith("intervals"))


def test_show_one_program_lists_its_segments(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["programs", "intervals"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("intervals: Forward/backward intervals\n")
    assert "11 turn-arounds" in out
    rows = [line.split() for line in out.splitlines() if line[:1].isdigit()]
    assert len(rows) == 12
    assert [row[0] for row in rows] == [str(i) for i in range(1, 13)]
    assert [row[3] for row in rows[:2]] == ["forward", "backward"]


def test_show_includes_incline(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["programs", "rehab"]) == 0
    out = capsys.readouterr().out
    assert "0.8 mph  2 %" in out


def test_unknown_program_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["programs", "nope"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "retrotread: error: unknown program 'nope'; built-in programs: "
        "first-steps, cooldown, intervals, rehab, athletic (or a path to a plan file)\n"
    )


def test_json_output_is_the_plan(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["programs", "first-steps", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["name"] == "first-steps"
    assert plan["segments"][0]["target_mph"] == 0.5
    assert run(["programs", "--json"]) == 0
    names = [p["name"] for p in json.loads(capsys.readouterr().out)]
    assert names == list(PROGRAM_NAMES)
