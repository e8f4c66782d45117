"""`history`, `show` and `rate` (SPEC.md "history, show, export, plot, rate, coach"), driven through
the console script over journals of real simulated sessions: two `first-steps` that complete
(one with a simulated heart-rate strap) and one stopped at the console."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Outcome, Sandbox, console, private_env

HISTORY_FIELDS = {
    "session",
    "started_at",
    "program",
    "outcome",
    "stop_reason",
    "duration_s",
    "distance_m",
    "max_speed_mph",
    "avg_speed_mph",
    "backward_s",
    "forward_s",
    "kcal",
    "avg_heart_rate_bpm",
    "rpe",
    "device",
    "complete",
}
FIRST_STEPS_PLANNED_S = [60.0, 60.0, 60.0, 60.0, 30.0]
RUN = ("run", "--sim", "--yes", "--json", "--cues", "off", "--time-scale", "1000")


@dataclass(frozen=True)
class Walked(Sandbox):
    """A data dir holding three finished sessions, and what each `run` said at its end."""

    summaries: list[dict[str, Any]]  # oldest first

    def run(self, *args: str, env: Mapping[str, str] | None = None) -> Outcome:
        return console({**self.env, **(env or {})}, *args)

    def copy(self, destination: Path) -> Walked:
        """The same sessions in another data dir, for a test that changes them."""
        shutil.copytree(self.data_dir, destination / "data")
        env = {**self.env, "RETROTREAD_DATA_DIR": str(destination / "data")}
        return Walked(self.root, env, self.summaries)


def _env(root: Path) -> dict[str, str]:
    runtime = root / "runtime"
    runtime.mkdir(mode=0o700)
    return private_env(root, runtime, TZ="UTC")


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> Walked:
    root = tmp_path_factory.mktemp("walked")
    walked = Walked(root, _env(root), [])
    for extra, code in (
        ((), 0),
        (("--sim-fault", "console-stop@100"), 3),
        (("--sim-hr-strap",), 0),
    ):
        done = walked.run(*RUN, "--program", "first-steps", *extra)
        assert done.code == code, done.err
        walked.summaries.append(done.events()[-1])
        assert walked.summaries[-1]["event"] == "summary"
    return walked


def history_json(walked: Walked, *args: str, **env: str) -> list[dict[str, Any]]:
    done = walked.run("history", "--json", *args, env=env)
    assert done.code == 0, done.err
    assert done.err == ""
    return done.events()


def test_history_json_lists_every_session_newest_first_with_spec_fields(walked: Walked) -> None:
    rows = history_json(walked)
    assert [row["session"] for row in rows] == [s["session"] for s in reversed(walked.summaries)]
    for row, summary in zip(rows, reversed(walked.summaries), strict=True):
        assert set(row) >= HISTORY_FIELDS
        assert datetime.fromisoformat(row["started_at"]).utcoffset() == timedelta(0)
        assert row["program"] == "first-steps"
        assert row["outcome"] == summary["outcome"]
        assert row["duration_s"] == pytest.approx(summary["duration_s"], abs=0.05)
        assert row["distance_m"] == pytest.approx(summary["distance_m"], abs=0.05)
        assert row["max_speed_mph"] == pytest.approx(summary["max_speed_mph"], abs=0.005)
        assert row["complete"] is True
        assert row["kcal"] is None  # no user.weight_kg
        assert row["rpe"] is None
        assert row["device"]
        assert row["forward_s"] == 0
        assert 0 < row["backward_s"] <= row["duration_s"]
        assert 0.5 <= row["avg_speed_mph"] <= 1.0  # first-steps: 0.5 to 1.0 mph backward
        assert row["avg_heart_rate_bpm"] > 0
    starts = [row["started_at"] for row in rows]
    assert starts == sorted(starts, reverse=True)


def test_history_says_how_each_session_ended(walked: Walked) -> None:
    newest, stopped, oldest = history_json(walked)
    assert (oldest["outcome"], oldest["stop_reason"]) == ("completed", "completed")
    assert (stopped["outcome"], stopped["stop_reason"]) == ("stopped", "console_stop")
    assert stopped["duration_s"] < oldest["duration_s"]
    assert newest["heart_rate_source"] == "strap"
    assert oldest["heart_rate_source"] == "treadmill"


def test_history_estimates_kcal_from_the_configured_weight(walked: Walked) -> None:
    light = history_json(walked, RETROTREAD_USER__WEIGHT_KG="50")
    heavy = history_json(walked, RETROTREAD_USER__WEIGHT_KG="100")
    for a, b in zip(light, heavy, strict=True):
        assert a["kcal"] > 0
        assert b["kcal"] == pytest.approx(2 * a["kcal"], abs=0.2)


def test_history_limit_keeps_the_newest(walked: Walked) -> None:
    rows = history_json(walked, "--limit", "2")
    assert [r["session"] for r in rows] == [s["session"] for s in walked.summaries[:0:-1]]
    bad = walked.run("history", "--limit", "0")
    assert bad.code == 2
    assert "--limit" in bad.error_line()


def test_history_for_people_is_a_table_with_the_estimate_labelled(walked: Walked) -> None:
    done = walked.run("history", env={"RETROTREAD_USER__WEIGHT_KG": "70"})
    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert "started (local)" in lines[0]
    assert len(lines) == 1 + 3
    assert all("first-steps" in line for line in lines[1:])
    assert "kcal (est.)" in lines[1]
    assert "stopped at the console" in lines[2]
    assert "bpm (strap)" in lines[1]
    assert "bpm (treadmill)" in lines[3]
    metric = walked.run("history", env={"RETROTREAD_DISPLAY__UNITS": "metric"})
    assert " m " in metric.out
    assert "km/h" in metric.out
    assert "set user.weight_kg" in metric.out  # no weight, no estimate: says how to get one


def test_show_last_has_totals_segments_safety_and_commands(walked: Walked) -> None:
    done = walked.run("show", "last", "--json")
    assert done.code == 0, done.err
    detail = json.loads(done.out)
    newest = walked.summaries[-1]
    assert detail["session"] == newest["session"]
    assert Path(detail["journal"]).is_file()
    assert detail["totals"]["duration_s"] == pytest.approx(newest["duration_s"], abs=0.05)
    assert detail["totals"]["distance_m"] == pytest.approx(newest["distance_m"], abs=0.05)
    assert [s["planned_s"] for s in detail["segments"]] == FIRST_STEPS_PLANNED_S
    assert all(s["actual_s"] == pytest.approx(s["planned_s"], abs=1.5) for s in detail["segments"])
    assert {c["op"] for c in detail["commands"]} >= {"request_control", "start", "set_speed"}
    assert all(c["result"] == "success" for c in detail["commands"])
    assert detail["totals"]["commands"] == len(detail["commands"])
    assert detail["safety"] == []
    assert detail["totals"]["heart_rate_source"] == "strap"


def test_show_names_a_session_by_unique_prefix(walked: Walked) -> None:
    stopped = walked.summaries[1]["session"]
    others = [s["session"] for s in walked.summaries if s["session"] != stopped]
    prefix = next(
        stopped[:n]
        for n in range(1, len(stopped) + 1)
        if not any(other.startswith(stopped[:n]) for other in others)
    )
    done = walked.run("show", prefix, "--json")
    assert done.code == 0, done.err
    detail = json.loads(done.out)
    assert detail["session"] == stopped
    assert detail["stop_reason"] == "console_stop"
    assert [e["reason"] for e in detail["safety"]] == ["console_stop"]
    assert len(detail["segments"]) < len(FIRST_STEPS_PLANNED_S)


def test_show_for_people(walked: Walked) -> None:
    done = walked.run("show", walked.summaries[1]["session"])
    assert done.code == 0, done.err
    journal = walked.summaries[1]["session"] + ".jsonl"
    parts = ("Totals", "Segments", "planned", "actual", "Commands:", "Safety events:")
    for part in (*parts, "console_stop", journal):
        assert part in done.out


@pytest.mark.parametrize("ref", ["19990101", "nope", ""])
def test_show_an_unknown_session_is_bad_input(walked: Walked, ref: str) -> None:
    done = walked.run("show", ref)
    assert done.code == 2
    assert "SESSION" in done.error_line()


def test_rate_records_the_rpe_that_history_then_shows(walked: Walked, tmp_path: Path) -> None:
    mine = walked.copy(tmp_path)
    newest = walked.summaries[-1]["session"]
    journal = mine.data_dir / "sessions" / f"{newest}.jsonl"
    before = journal.read_bytes()
    assert history_json(mine)[0]["rpe"] is None  # the index is built before the rating
    done = mine.run("rate", "last", "12")
    assert done.code == 0, done.err
    assert newest in done.out
    after = journal.read_bytes()
    assert after.startswith(before)  # appended, nothing rewritten
    line = json.loads(after[len(before) :])
    last_t = json.loads(before.splitlines()[-1])["t"]
    assert line == {"t": last_t, "event": "rpe", "rpe": 12, "source": "rate"}
    rows = history_json(mine)
    assert [r["rpe"] for r in rows] == [12, None, None]
    assert mine.run("rate", "last", "14").code == 0
    assert history_json(mine)[0]["rpe"] == 14  # the latest rating counts
    assert json.loads(mine.run("show", "last", "--json").out)["totals"]["rpe"] == 14


@pytest.mark.parametrize("rpe", ["5", "21", "12.5", "hard"])
def test_rate_out_of_range_is_bad_input_naming_the_range(
    walked: Walked, tmp_path: Path, rpe: str
) -> None:
    mine = walked.copy(tmp_path)
    journal = next((mine.data_dir / "sessions").glob("*.jsonl"))
    before = journal.read_bytes()
    done = mine.run("rate", journal.stem, rpe)
    assert done.code == 2
    line = done.error_line()
    assert "RPE" in line
    assert "6..20" in line
    assert journal.read_bytes() == before


def test_rate_an_unknown_session_is_bad_input(walked: Walked) -> None:
    done = walked.run("rate", "nope", "12")
    assert done.code == 2
    assert "SESSION 'nope'" in done.error_line()


def test_no_sessions_yet(tmp_path: Path) -> None:
    empty = Walked(tmp_path, _env(tmp_path), [])
    done = empty.run("history")
    assert done.code == 0
    assert len(done.out.splitlines()) == 1
    assert "no sessions yet" in done.out.lower()
    as_json = empty.run("history", "--json")
    assert (as_json.code, as_json.out) == (0, "")
    assert empty.run("show", "last").code == 2
