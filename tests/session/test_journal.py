"""The journal: ids that sort by time, one flushed line per event, and crash-tolerant reading."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from retrotread.errors import InputError, SinkClosed
from retrotread.events import (
    CommandEvent,
    Event,
    StoppedEvent,
    SummaryEvent,
    TelemetryEvent,
)
from retrotread.session.journal import (
    JournalWriter,
    list_sessions,
    new_session_id,
    read_journal,
    sessions_dir,
)

EVENTS: list[Event] = [
    CommandEvent(t=0.1, op="request_control", result="success"),
    TelemetryEvent(t=1.0, speed_mph=0.5, speed_kmh=0.8, distance_m=0.2, heart_rate_bpm=90),
    StoppedEvent(t=2.0, reason="completed", belt_mph=0.0),
    SummaryEvent(
        t=2.0, outcome="completed", duration_s=2.0, distance_m=0.4, max_speed_mph=0.5, session="x"
    ),
]


def test_ids_sort_by_start_time_and_do_not_collide() -> None:
    start = datetime(2026, 11, 24, 18, 15, tzinfo=UTC)
    ids = [new_session_id(start + timedelta(seconds=s)) for s in (0, 1, 59, 3600)]
    assert ids == sorted(ids)
    assert ids[0].startswith("20261124T181500Z-")
    same_second = {new_session_id(start) for _ in range(50)}
    assert len(same_second) > 40  # 16 random bits: collisions within one second are rare


def test_every_event_is_on_disk_as_soon_as_it_is_written(tmp_path: Path) -> None:
    writer = JournalWriter.create(tmp_path, "20261124T181500Z-abcd")
    assert writer.path == sessions_dir(tmp_path) / "20261124T181500Z-abcd.jsonl"
    for count, event in enumerate(EVENTS, start=1):
        writer.write(event)
        # Read through a separate handle while the writer is still open: flushed per event.
        assert read_journal(writer.path) == EVENTS[:count]
    writer.close()
    lines = writer.path.read_text().splitlines()
    assert lines == [e.to_json() for e in EVENTS]


def test_an_id_is_never_reused(tmp_path: Path) -> None:
    JournalWriter.create(tmp_path, "same").close()
    with pytest.raises(FileExistsError):
        JournalWriter.create(tmp_path, "same")


def test_a_line_cut_off_by_a_crash_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl"
    full = "".join(e.to_json() + "\n" for e in EVENTS[:3])
    path.write_text(full + EVENTS[3].to_json()[:25])
    assert read_journal(path) == EVENTS[:3]


def test_damage_before_the_last_line_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(EVENTS[0].to_json() + "\n{garbage\n" + EVENTS[1].to_json() + "\n")
    with pytest.raises(InputError, match="line 2"):
        read_journal(path)


def test_list_sessions_oldest_first_with_summaries(tmp_path: Path) -> None:
    complete = JournalWriter.create(tmp_path, "20261124T100000Z-0001")
    for event in EVENTS:
        complete.write(event)
    complete.close()
    crashed = JournalWriter.create(tmp_path, "20261123T100000Z-0002")
    crashed.write(EVENTS[0])
    crashed.close()
    records = list_sessions(tmp_path)
    assert [r.id for r in records] == ["20261123T100000Z-0002", "20261124T100000Z-0001"]
    assert records[0].summary is None
    assert records[1].summary == EVENTS[3]
    assert list_sessions(tmp_path / "nowhere") == []


def test_a_disk_that_refuses_the_journal_raises_sink_closed_once(tmp_path: Path) -> None:
    """The journal's descriptor is pointed at /dev/full, which fails every write with ENOSPC
    like a full disk: one SinkClosed naming the file and the reason, then nothing (a record cut
    off there keeps its cut-off line last), and closing does not raise either."""
    writer = JournalWriter.create(tmp_path, "20261124T181500Z-full")
    writer.write(EVENTS[0])
    descriptor = next(
        int(name)
        for name in os.listdir("/proc/self/fd")
        if os.path.realpath(f"/proc/self/fd/{name}") == str(writer.path.resolve())
    )
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        os.dup2(full, descriptor)
    finally:
        os.close(full)
    with pytest.raises(SinkClosed, match=r"cannot be written \(No space left on device\)") as err:
        writer.write(EVENTS[1])
    assert str(writer.path) in str(err.value)
    for event in EVENTS[2:]:
        writer.write(event)
    writer.close()
    assert read_journal(writer.path) == EVENTS[:1]
