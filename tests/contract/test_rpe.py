"""`run --rpe N` (SPEC.md "run"): how hard the session felt, recorded at its end as an `rpe`
event after `summary`, in the journal and on `--json`; out of range is refused at input."""

from __future__ import annotations

import pytest

from retrotread.history.record import SessionLog
from tests.support.cli import FAST, RunScript, Sandbox
from tests.support.schema import check_session


def test_rpe_from_the_flag_is_recorded_after_the_summary(cli: RunScript, sandbox: Sandbox) -> None:
    result = cli("run", "--sim", "--json", "--rpe", "12", "--cues", "off", *FAST)
    assert result.code == 0, result.err
    events = result.events()
    check_session(events)
    assert [e["event"] for e in events[-2:]] == ["summary", "rpe"]
    assert events[-1]["rpe"] == 12
    assert events[-1]["source"] == "flag"
    (journal,) = sandbox.sessions_dir.glob("*.jsonl")
    lines = journal.read_text().splitlines()
    assert '"event":"summary"' in lines[-2]
    assert '"event":"rpe"' in lines[-1]
    log = SessionLog.read(journal)
    assert log.rpe == 12
    assert log.complete


@pytest.mark.parametrize("value", ["25", "5", "12.5", "hard", "-1"])
def test_an_rpe_outside_6_to_20_is_refused_before_anything_moves(
    retrotread: RunScript, sandbox: Sandbox, value: str
) -> None:
    result = retrotread("run", "--sim", "--json", "--rpe", value, *FAST)
    assert result.code == 2
    line = result.error_line()
    assert "--rpe" in line
    assert "6..20" in line
    assert result.out == ""  # not even `connected`: nothing was reached
    assert list(sandbox.sessions_dir.glob("*.jsonl")) == []


def test_without_a_terminal_nothing_is_asked_and_nothing_recorded(
    cli: RunScript, sandbox: Sandbox
) -> None:
    result = cli("run", "--sim", "--cues", "off", *FAST)
    assert result.code == 0, result.err
    assert "How hard" not in result.out + result.err
    (journal,) = sandbox.sessions_dir.glob("*.jsonl")
    assert SessionLog.read(journal).rpe is None
