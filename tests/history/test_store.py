"""The index over the journals: built, extended, kept in step with the files (changed, deleted),
thrown away when it is damaged or stale, never in the way of the history it indexes."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from retrotread.errors import InputError
from retrotread.events import RpeEvent
from retrotread.history import store
from retrotread.history.record import SessionLog
from retrotread.history.store import index_path, list_sessions, resolve_journal
from retrotread.session import journal
from tests.support.journals import keep_signature, session_events, session_id, write_journal


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def sessions(data_dir: Path) -> Path:
    return data_dir / "sessions"


def add(data_dir: Path, day: int, **options: Any) -> Path:
    sid = session_id(day)
    return write_journal(sessions(data_dir), sid, session_events(sid, **options))


def ids(data_dir: Path, **options: Any) -> list[str]:
    return [row.session for row in list_sessions(data_dir, **options).rows]


def test_the_index_mirrors_the_journal_names_it_does_not_import() -> None:
    assert store.SESSIONS_SUBDIR == journal.SESSIONS_SUBDIR
    assert store.JOURNAL_SUFFIX == journal.JOURNAL_SUFFIX


def test_no_journals_lists_nothing_and_creates_no_index(data_dir: Path) -> None:
    assert list_sessions(data_dir).rows == []
    sessions(data_dir).mkdir(parents=True)
    assert list_sessions(data_dir).rows == []
    assert not index_path(data_dir).exists()


def test_the_index_is_built_newest_first_with_the_journal_values(data_dir: Path) -> None:
    paths = [add(data_dir, day, seconds=30 + day, rpe=10 + day) for day in (0, 2, 1)]
    listing = list_sessions(data_dir)
    assert listing.warnings == []
    assert [row.session for row in listing.rows] == [session_id(2), session_id(1), session_id(0)]
    assert index_path(data_dir).is_file()
    row = listing.rows[0]
    log = SessionLog.read(paths[1])
    assert row.path == paths[1]
    assert row.started_at == "2026-03-04T08:00:00Z"
    assert (row.program, row.outcome, row.stop_reason, row.device) == (
        "hand-made",
        "completed",
        "completed",
        "Hand Made",
    )
    assert row.duration_s == log.duration_s
    assert row.distance_m == log.distance_m
    assert row.backward_s == log.backward_s == 32.0
    assert row.avg_speed_mph == pytest.approx(1.0)
    assert row.avg_heart_rate_bpm == pytest.approx(90)
    assert row.heart_rate_source == "treadmill"
    assert row.rpe == 12
    assert row.complete
    assert row.listed
    assert row.net_met_minutes == pytest.approx(log.net_met_minutes)


def test_kcal_follow_the_weight_given_when_read(data_dir: Path) -> None:
    path = add(data_dir, 0, seconds=600, mph=2.0)
    row = list_sessions(data_dir).rows[0]
    log = SessionLog.read(path)
    assert row.kcal(None) is None
    assert row.kcal(80.0) == pytest.approx(log.kcal(80.0))
    half = row.kcal(40.0)
    assert half is not None
    assert row.kcal(80.0) == pytest.approx(2 * half)


def test_limit_keeps_the_newest(data_dir: Path) -> None:
    for day in range(5):
        add(data_dir, day)
    assert ids(data_dir, limit=2) == [session_id(4), session_id(3)]


def test_an_unchanged_journal_is_not_read_again(data_dir: Path) -> None:
    """Keyed by (size, mtime_ns): a change that keeps both is invisible, which shows the
    listing came from the index and not from reading the journal."""
    path = add(data_dir, 0, rpe=12)
    assert list_sessions(data_dir).rows[0].rpe == 12
    keep_signature(path, path.read_text().replace('"rpe":12', '"rpe":13'))
    assert list_sessions(data_dir).rows[0].rpe == 12


def test_of_two_starts_in_one_second_the_later_journal_comes_first(data_dir: Path) -> None:
    sid_a, sid_b = session_id(0, "ffff"), session_id(0, "0001")
    older = write_journal(sessions(data_dir), sid_a, session_events(sid_a))
    newer = write_journal(sessions(data_dir), sid_b, session_events(sid_b))
    os.utime(older, ns=(1_000_000_000, 1_000_000_000))
    os.utime(newer, ns=(2_000_000_000, 2_000_000_000))
    assert ids(data_dir) == [sid_b, sid_a]
    assert resolve_journal(data_dir, "last") == newer


def test_the_index_is_extended_by_new_journals(data_dir: Path) -> None:
    add(data_dir, 0)
    assert ids(data_dir) == [session_id(0)]
    add(data_dir, 1)
    assert ids(data_dir) == [session_id(1), session_id(0)]


def test_a_journal_that_changed_is_read_again(data_dir: Path) -> None:
    path = add(data_dir, 0, rpe=11)
    assert list_sessions(data_dir).rows[0].rpe == 11
    with path.open("a", encoding="utf-8") as f:
        f.write(RpeEvent(t=61.6, rpe=15, source="rate").to_json() + "\n")
    assert list_sessions(data_dir).rows[0].rpe == 15


def test_a_journal_still_being_written_lists_incomplete_then_complete(data_dir: Path) -> None:
    sid = session_id(0)
    events = session_events(sid)
    path = write_journal(sessions(data_dir), sid, events[:-3])  # no stop, stopped, summary yet
    row = list_sessions(data_dir).rows[0]
    assert (row.complete, row.outcome, row.listed) == (False, "incomplete", True)
    with path.open("a", encoding="utf-8") as f:
        f.writelines(e.to_json() + "\n" for e in events[-3:])
    row = list_sessions(data_dir).rows[0]
    assert (row.complete, row.outcome) == (True, "completed")


def test_a_deleted_journal_is_dropped(data_dir: Path) -> None:
    first = add(data_dir, 0)
    add(data_dir, 1)
    assert len(ids(data_dir)) == 2
    first.unlink()
    assert ids(data_dir) == [session_id(1)]
    with sqlite3.connect(index_path(data_dir)) as index:
        assert index.execute("SELECT count(*) FROM journals").fetchone() == (1,)


def test_a_corrupt_index_is_rebuilt(data_dir: Path) -> None:
    add(data_dir, 0)
    add(data_dir, 1)
    assert len(ids(data_dir)) == 2
    index_path(data_dir).write_bytes(b"this is no database\n" * 200)
    listing = list_sessions(data_dir)
    assert [r.session for r in listing.rows] == [session_id(1), session_id(0)]
    assert listing.warnings == []  # a cache thrown away is nothing to worry anyone
    with sqlite3.connect(index_path(data_dir)) as index:
        assert index.execute("SELECT count(*) FROM journals").fetchone() == (2,)


def test_a_truncated_index_is_rebuilt(data_dir: Path) -> None:
    for day in range(40):
        add(data_dir, day)
    assert len(ids(data_dir)) == 40
    data = index_path(data_dir).read_bytes()
    index_path(data_dir).write_bytes(data[: len(data) // 2])
    assert len(ids(data_dir)) == 40


def test_an_index_that_cannot_be_opened_falls_back_to_the_journals(data_dir: Path) -> None:
    add(data_dir, 0)
    index_path(data_dir).mkdir(parents=True)  # not a file: sqlite cannot open it
    listing = list_sessions(data_dir)
    assert [r.session for r in listing.rows] == [session_id(0)]
    assert len(listing.warnings) == 1
    assert str(index_path(data_dir)) in listing.warnings[0]
    assert "reading the journals instead" in listing.warnings[0]


def test_an_index_made_by_other_code_is_rebuilt(data_dir: Path) -> None:
    path = add(data_dir, 0, rpe=12)
    assert list_sessions(data_dir).rows[0].rpe == 12
    keep_signature(path, path.read_text().replace('"rpe":12', '"rpe":13'))
    with sqlite3.connect(index_path(data_dir)) as index:
        index.execute("UPDATE meta SET value = 'v0' WHERE key = 'fingerprint'")
    assert list_sessions(data_dir).rows[0].rpe == 13


def test_a_cut_off_journal_lists_as_incomplete(data_dir: Path) -> None:
    sid = session_id(0)
    events = session_events(sid, seconds=40)
    write_journal(sessions(data_dir), sid, events[:-3], tail='{"t":41.0,"event":"telem')
    row = list_sessions(data_dir).rows[0]
    assert row.complete is False
    assert row.outcome == "incomplete"
    assert row.stop_reason is None
    assert row.bad_lines == ()  # a cut-off last line is what a crash leaves, not damage
    assert row.backward_s == 40.0
    assert row.duration_s == pytest.approx(41.0)


def test_a_failed_start_is_hidden_unless_all_are_asked_for(data_dir: Path) -> None:
    add(data_dir, 0)
    add(
        data_dir, 1, telemetry=False, stop_reason="fault", safety=[(0.7, "control_refused", "stop")]
    )
    assert ids(data_dir) == [session_id(0)]
    everything = list_sessions(data_dir, include_hidden=True).rows
    assert [r.session for r in everything] == [session_id(1), session_id(0)]
    assert everything[0].listed is False
    assert everything[0].safety_events == 1


def test_last_names_the_newest_session_worth_listing(data_dir: Path) -> None:
    add(data_dir, 0)
    newest_real = add(data_dir, 1)
    add(data_dir, 2, telemetry=False)
    assert resolve_journal(data_dir, "last") == newest_real
    assert resolve_journal(data_dir, session_id(2)).stem == session_id(2)


def test_session_names_resolve_by_id_and_unique_prefix(data_dir: Path) -> None:
    first = add(data_dir, 0)
    add(data_dir, 10)
    assert resolve_journal(data_dir, session_id(0)) == first
    assert resolve_journal(data_dir, "20260302") == first
    with pytest.raises(InputError, match="matches 2 sessions"):
        resolve_journal(data_dir, "2026")
    with pytest.raises(InputError, match="no such session"):
        resolve_journal(data_dir, "1999")


def test_a_damaged_line_lists_what_could_be_read_with_one_warning(data_dir: Path) -> None:
    sid = session_id(0)
    lines = [e.to_json() for e in session_events(sid, seconds=30, rpe=9)]
    lines[10] = '{"t": 9.0, "event": "telemetry", "speed_mph": "fast"}'
    path = sessions(data_dir) / f"{sid}.jsonl"
    sessions(data_dir).mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n")
    add(data_dir, 1)
    with pytest.raises(InputError):
        SessionLog.read(path)  # the strict reader refuses it; the listing must not
    listing = list_sessions(data_dir)
    assert [r.session for r in listing.rows] == [session_id(1), sid]
    damaged = listing.rows[1]
    assert damaged.bad_lines == (11,)
    assert damaged.complete
    assert damaged.rpe == 9
    assert damaged.backward_s == 30.0  # the lost sample's second is bridged (a 2 s gap)
    assert len(listing.warnings) == 1
    assert f"{path} (line 11)" in listing.warnings[0]
