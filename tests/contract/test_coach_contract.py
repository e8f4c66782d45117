"""`coach [--json]` and `run --coach`, driven through the console script as SPEC.md words them:
the plan on stdout is one `run --plan` accepts, as TOML or JSON, and says why in one line.

Two simulated first-steps sessions (the module's fixture) are enough to see the coach build on
real journals; the tests that walk more work on copies of that data directory.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from retrotread.history.plan_file import plan_data
from retrotread.session.programs import load_program
from tests.support.cli import FAST, Outcome, Sandbox, console, private_env
from tests.support.journals import session_events, write_journal

QUIET = ("--cues", "off")


@dataclass(frozen=True)
class Home(Sandbox):
    """A user's machine that outlives one test: private config, data and runtime directories,
    and the console script run in it."""

    def __call__(self, *args: str) -> Outcome:
        return console(self.env, *args, timeout=120)

    def copy(self, root: Path) -> Home:
        """Another home with a copy of this one's journals."""
        home = make_home(root)
        shutil.copytree(self.data_dir, home.data_dir)
        return home


def make_home(root: Path) -> Home:
    return Home(root, private_env(root, Path(tempfile.mkdtemp(prefix="rt-"))))


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    made = make_home(tmp_path)
    yield made
    shutil.rmtree(made.env["XDG_RUNTIME_DIR"], ignore_errors=True)


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    """Two simulated first-steps sessions, both completed."""
    made = make_home(tmp_path_factory.mktemp("walked"))
    for _ in range(2):
        outcome = made("run", "--sim", *FAST, *QUIET)
        assert outcome.code == 0, outcome.err
    yield made
    shutil.rmtree(made.env["XDG_RUNTIME_DIR"], ignore_errors=True)


def dry_run_plan(home: Home, *args: str) -> dict[str, Any]:
    """The resolved plan `run --dry-run --json` prints (exit 0 required)."""
    outcome = home("run", "--sim", "--dry-run", "--json", *args)
    assert outcome.code == 0, outcome.err
    data: dict[str, Any] = json.loads(outcome.out)
    return data


def test_with_no_sessions_the_coach_prints_first_steps_as_toml_and_json(home: Home) -> None:
    toml_out = home("coach")
    assert toml_out.code == 0, toml_out.err
    plan = tomllib.loads(toml_out.out)
    assert plan["name"] == "first-steps"
    assert plan["reason"] == "No sessions yet: start with first-steps."
    assert toml_out.out.startswith("# ")
    json_out = home("coach", "--json")
    assert json_out.code == 0, json_out.err
    assert json.loads(json_out.out) == plan  # the same plan
    first_steps = plan_data(load_program("first-steps"))
    assert plan["segments"] == first_steps["segments"]


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_the_printed_plan_is_one_run_accepts(home: Home, suffix: str) -> None:
    outcome = home("coach", *(["--json"] if suffix == ".json" else []))
    path = home.root / f"next{suffix}"
    path.write_text(outcome.out, encoding="utf-8")
    resolved = dry_run_plan(home, "--plan", str(path))
    assert resolved["name"] == "first-steps"
    assert resolved["reason"] == "No sessions yet: start with first-steps."


def test_after_two_good_sessions_the_coach_builds_on_them(walked: Home) -> None:
    outcome = walked("coach", "--json")
    assert outcome.code == 0, outcome.err
    plan = json.loads(outcome.out)
    assert plan["name"] == "coach"
    assert plan["reason"].startswith(
        "The last two sessions went well: 4:50 backward at 0.7 mph, backward time up 20 s"
    )
    assert sum(s["duration_s"] for s in plan["segments"]) == 290
    assert {s["direction"] for s in plan["segments"]} == {"backward"}
    toml_text = walked("coach").out
    assert tomllib.loads(toml_text) == plan
    # `coach --json > p.json; run --plan p.json` and the same with TOML resolve alike.
    json_file = walked.root / "p.json"
    json_file.write_text(outcome.out, encoding="utf-8")
    toml_file = walked.root / "p.toml"
    toml_file.write_text(toml_text, encoding="utf-8")
    from_json = dry_run_plan(walked, "--plan", str(json_file))
    assert from_json == dry_run_plan(walked, "--plan", str(toml_file))
    assert from_json["segments"][1]["target_mph"] == 0.7


def test_run_coach_dry_run_shows_the_plan_and_why(walked: Home) -> None:
    outcome = walked("run", "--sim", "--coach", "--time-scale", "1000", "--dry-run")
    assert outcome.code == 0, outcome.err
    assert "Why this plan: The last two sessions went well" in outcome.out
    assert "4:50 backward at 0.7 mph" in outcome.out
    assert "warm-up" in outcome.out
    as_json = walked("run", "--sim", "--coach", "--dry-run", "--json")
    assert as_json.code == 0, as_json.err
    assert json.loads(as_json.out)["reason"].startswith("The last two sessions went well")
    assert "Why this plan:" in as_json.err  # human lines beside --json go to stderr


@pytest.mark.parametrize(
    ("extra", "flag"), [(("--program", "rehab"), "--program"), (("--plan", "p.toml"), "--plan")]
)
def test_run_coach_excludes_program_and_plan(
    walked: Home, extra: tuple[str, ...], flag: str
) -> None:
    outcome = walked("run", "--sim", "--coach", *extra, "--dry-run")
    assert outcome.code == 2
    assert (
        outcome.error_line()
        == f"retrotread: error: --coach and {flag} exclude each other: pick one"
    )


def test_run_coach_walks_the_suggestion_and_the_next_one_follows_from_it(
    walked: Home, tmp_path: Path
) -> None:
    home = walked.copy(tmp_path)
    try:
        outcome = home("run", "--sim", "--coach", *FAST, *QUIET, "--json")
        assert outcome.code == 0, outcome.err
        assert "Why this plan: The last two sessions went well" in outcome.err
        connected = outcome.events()[0]
        assert connected["event"] == "connected"
        assert connected["program"] == "coach"
        assert connected["plan"]["reason"].startswith("The last two sessions went well")
        summary = outcome.events()[-1]
        assert summary["event"] == "summary"
        assert summary["outcome"] == "completed"
        # Three good sessions in a few minutes: the week allows no more time yet.
        again = json.loads(home("coach", "--json").out)
        assert again["reason"] == (
            "Repeat the last plan: backward time is at its limit for the week (at most +10 % a "
            "week, from 4:30)."
        )
        assert again["segments"] == connected["plan"]["segments"]  # the plan as it ran
    finally:
        shutil.rmtree(home.env["XDG_RUNTIME_DIR"], ignore_errors=True)


def test_a_safety_stop_makes_the_next_plan_easier(walked: Home, tmp_path: Path) -> None:
    home = walked.copy(tmp_path)
    try:
        stopped = home("run", "--sim", *FAST, *QUIET, "--sim-fault", "overspeed@90:1.5")
        assert stopped.code == 3, stopped.err
        plan = json.loads(home("coach", "--json").out)
        assert plan["reason"] == (
            "One level easier, 3:30 backward at 0.7 mph: the last session ended with a safety "
            "stop (overspeed)."
        )
        assert dry_run_plan(home, "--coach")["reason"] == plan["reason"]
    finally:
        shutil.rmtree(home.env["XDG_RUNTIME_DIR"], ignore_errors=True)


def write_session(home: Home, days_ago: float, **options: Any) -> Path:
    started = datetime.now(UTC) - timedelta(days=days_ago)
    sid = started.strftime("%Y%m%dT%H%M%SZ") + "-c0c0"
    events = session_events(sid, seconds=240, mph=1.0, program="mine", **options)
    return write_journal(home.data_dir / "sessions", sid, events)


def test_a_gap_of_more_than_14_days_eases_and_a_month_starts_again(home: Home) -> None:
    write_session(home, 18)
    write_session(home, 16, rpe=12)
    plan = json.loads(home("coach", "--json").out)
    assert plan["reason"] == (
        "One level easier, 3 min backward at 1.0 mph: 16 days since the last session."
    )
    write_session(home, 40)
    for path in sorted((home.data_dir / "sessions").glob("*.jsonl"))[1:]:
        path.unlink()
    restart = json.loads(home("coach", "--json").out)
    assert restart["name"] == "first-steps"
    assert restart["reason"].startswith("No session in the last 28 days")


def test_more_than_three_sessions_in_a_week_is_rest_with_a_plan(home: Home) -> None:
    for days_ago in (6, 4, 2, 1):
        write_session(home, days_ago)
    outcome = home("coach")
    assert outcome.code == 0, outcome.err
    plan = tomllib.loads(outcome.out)
    assert plan["reason"].startswith("Rest today: 4 sessions in the last 7 days")
    assert plan["segments"]  # still a plan to walk


def test_a_damaged_recent_journal_is_refused_in_one_line(home: Home) -> None:
    write_session(home, 3)
    damaged = write_session(home, 1)
    damaged.write_text("{}\n" + damaged.read_text(encoding="utf-8"), encoding="utf-8")
    outcome = home("coach")
    assert outcome.code == 2
    line = outcome.error_line()
    assert damaged.name in line
    assert "move the journal aside" in line
