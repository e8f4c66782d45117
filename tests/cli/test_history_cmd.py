"""`history` on an unchanged data dir stays cheap: it reads the index, and neither the journal
reader nor the event models (nor structlog or rich) are imported. Measured with `-X importtime`,
which names every module a fresh interpreter imports; the speed itself is
`benchmarks/history.py`'s."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import imported_modules, private_env
from tests.support.journals import session_events, session_id, write_journal

NOT_ON_THE_WARM_PATH = {
    "retrotread.events",
    "retrotread.session.journal",
    "retrotread.history.record",
    "structlog",
    "rich",
    "bleak",
}


def history_imports(env: dict[str, str]) -> tuple[str, set[str]]:
    done, modules = imported_modules("history", "--json", env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout, modules


def test_a_warm_history_reads_the_index_without_the_event_models(tmp_path: Path) -> None:
    env = private_env(tmp_path)
    for day in range(3):
        sid = session_id(day)
        write_journal(tmp_path / "data" / "sessions", sid, session_events(sid))
    first, cold = history_imports(env)
    assert "retrotread.events" in cold  # the probe sees the journals being read
    second, warm = history_imports(env)
    assert second == first
    assert len(second.splitlines()) == 3
    assert not warm & NOT_ON_THE_WARM_PATH, sorted(warm & NOT_ON_THE_WARM_PATH)
