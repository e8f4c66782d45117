"""Plans people write (SPEC "programs", "run --dry-run"): the documented examples pass
`programs FILE` and `run --plan FILE --dry-run` without anything connecting, a mistake gets one
line with a "did you mean", and speeds read in `[display] units` (the JSON stays in mph)."""

from __future__ import annotations

import json

import pytest

from retrotread.paths import configs_dir
from tests.support.cli import RunScript, Sandbox

EXAMPLES = [configs_dir() / "examples" / "plan.toml", configs_dir() / "examples" / "plan.json"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_the_examples_pass_programs_file(cli: RunScript, path: object) -> None:
    result = cli("programs", str(path))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "example: Backward with a heart-rate zone"
    assert "2 turn-arounds: slowing to the floor, 8 s to turn" in lines[2]
    zone = next(line for line in lines if line.startswith("2 "))
    assert zone.split() == ["2", "zone", "backward", "5:00", "1.0-1.6", "mph", "2", "%", "100-125",
                            "bpm"]  # fmt: skip


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_the_examples_pass_a_dry_run_and_nothing_connects(
    cli: RunScript, sandbox: Sandbox, path: object
) -> None:
    result = cli("run", "--sim", "--plan", str(path), "--dry-run")
    assert result.code == 0, result.err
    assert result.out.startswith("example: ")
    assert not sandbox.sessions_dir.exists() or not list(sandbox.sessions_dir.iterdir())
    as_json = cli("run", "--sim", "--plan", str(path), "--dry-run", "--json")
    assert as_json.code == 0, as_json.err
    plan = json.loads(as_json.out)
    assert plan["segments"][1]["min_mph"] == 1.0  # mph in JSON, whatever the display says


def test_a_dry_run_in_metric_units_says_the_cap_in_them_too(
    cli: RunScript, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETROTREAD_DISPLAY__UNITS", "metric")
    result = cli("run", "--sim", "--program", "athletic", "--max-speed", "2.0", "--dry-run")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[-1].endswith("lowered to your cap of 3.2 km/h")
    # The total and the segment rows (not the description, which is the program's own words).
    ours = [line for line in lines if line.startswith("total ") or line[:1].isdigit()]
    assert len(ours) > 3
    assert not [line for line in ours if "mph" in line]
    assert any("3.2 km/h" in line for line in ours)


def test_the_program_list_in_metric_units(cli: RunScript, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETROTREAD_DISPLAY__UNITS", "metric")
    result = cli("programs")
    assert result.code == 0, result.err
    first = result.out.splitlines()[1]
    assert "backward 0.8-1.6 km/h" in first
    assert "km/h" in result.out


@pytest.mark.parametrize(
    ("body", "hint"),
    [
        ('[[segments]]\nname = "a"\nduration_s = 60\ntarget_mhp = 1.0\n',
         "segments[0].target_mhp = 1.0: unknown key (did you mean target_mph?)"),
        ('[[segments]]\nname = "a"\ndirection = "backwards"\nduration_s = 60\ntarget_mph = 1.0\n',
         "(did you mean backward?)"),
        ('turnaround_mod = "pause"\n[[segments]]\nname = "a"\nduration_s = 60\ntarget_mph = 1.0\n',
         "turnaround_mod = \"pause\": unknown key (did you mean turnaround_mode?)"),
    ],
)  # fmt: skip
def test_a_mistake_in_a_plan_file_gets_one_line_with_a_guess(
    cli: RunScript, sandbox: Sandbox, body: str, hint: str
) -> None:
    path = sandbox.plan(body)
    for argv in (("programs", str(path)), ("run", "--sim", "--plan", str(path), "--dry-run")):
        result = cli(*argv)
        assert result.code == 2
        line = result.error_line()
        assert hint in line
        assert str(path) in line


def test_a_misspelled_program_name_gets_a_guess(cli: RunScript) -> None:
    for argv in (("programs", "firts-steps"), ("run", "--sim", "--program", "firts-steps")):
        result = cli(*argv)
        assert result.code == 2
        assert "(did you mean first-steps?)" in result.error_line()
