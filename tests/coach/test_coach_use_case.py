"""`retrotread.coach.coach`: the settings and the data directory in, the plan as files out."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from retrotread.coach import coach
from retrotread.session.plan import Plan
from tests.support.journals import session_events, write_journal
from tests.support.settings import clean_environment

NOW = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_environment(monkeypatch, tmp_path, data_dir=False)


def walk(data_dir: Path, days_ago: float, mph: float = 2.0, **options: Any) -> None:
    sid = (NOW - timedelta(days=days_ago)).strftime("%Y%m%dT%H%M%SZ") + "-0b0b"
    events = session_events(sid, seconds=600, mph=mph, program="mine", **options)
    write_journal(data_dir / "sessions", sid, events)


def test_the_settings_shape_the_suggestion_and_now_is_injected(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[safety]\nmax_backward_mph = 1.5\n[user]\nname = "Alex"\n[display]\nunits = "metric"\n'
        f'[journal]\ndata_dir = "{tmp_path / "data"}"\n'
    )
    walk(tmp_path / "data", 5)
    walk(tmp_path / "data", 2, rpe=12)
    answer = coach(config, now=NOW)
    plan = answer.suggestion.plan
    assert answer.suggestion.kind == "progress"
    # 10 min at 2.0 mph, walked before the cap was lowered: a minute more, at the cap of today.
    assert max(s.ceiling_mph for s in plan.segments) == 1.5
    assert sum(s.duration_s for s in plan.segments) == 660
    assert plan.title == "11 min backward at 2.4 km/h, for Alex"
    assert answer.reason.startswith("The last two sessions went well: 11 min backward at 2.4 km/h")
    assert Plan.model_validate(tomllib.loads(answer.toml())) == plan
    assert Plan.model_validate(json.loads(answer.json())) == plan
    assert json.loads(answer.json())["reason"] == answer.reason
    # The same moment a month later: start again.
    later = coach(config, now=NOW + timedelta(days=30))
    assert later.suggestion.kind == "first-steps"


def test_an_explicit_data_dir_wins_over_the_configured_one(tmp_path: Path) -> None:
    walk(tmp_path / "elsewhere", 1)
    config = tmp_path / "config.toml"
    config.write_text(f'[journal]\ndata_dir = "{tmp_path / "empty"}"\n')
    assert coach(config, now=NOW).suggestion.kind == "first-steps"
    assert coach(config, data_dir=tmp_path / "elsewhere", now=NOW).suggestion.kind == "repeat"
