"""The session journal: one JSON Lines file per session, the same events as `run --json`.

Each event is written and flushed on its own, so a crash loses at most the line being written; the
reader ignores such a cut-off last line, and the session still lists and exports. The final
`stopped` and `summary` events are also fsynced: they are what `history` relies on.

The belt matters more than the record: a journal that cannot be written (a full disk, a file-size
limit) raises `SinkClosed` once, so the session says so and goes on, and is silent from then on.
Nothing more is appended after a failed write, so a line cut off by it stays the last line, which
the reader tolerates.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Self

from pydantic import ValidationError

from retrotread.errors import InputError, SinkClosed
from retrotread.events import Event, StoppedEvent, SummaryEvent, parse_event

SESSIONS_SUBDIR = "sessions"
JOURNAL_SUFFIX = ".jsonl"


def sessions_dir(data_dir: Path) -> Path:
    return data_dir / SESSIONS_SUBDIR


def new_session_id(now: datetime | None = None) -> str:
    """A wall-clock stamp (so ids sort by start time) plus random hex (so two sessions started in
    the same second on one machine still get distinct files)."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(2)}"


class JournalWriter:
    """Appends events to `<data_dir>/sessions/<id>.jsonl`; usable as an event sink."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Exclusive creation: a session id is never reused, so an existing file is a bug.
        self._file: IO[str] = path.open("x", encoding="utf-8")
        self._written = 0

    @classmethod
    def create(cls, data_dir: Path, session_id: str) -> Self:
        return cls(sessions_dir(data_dir) / f"{session_id}{JOURNAL_SUFFIX}")

    def __call__(self, event: Event) -> None:
        self.write(event)

    def write(self, event: Event) -> None:
        """Append and flush one event; `SinkClosed` on the first write the disk refuses."""
        if self._file.closed:
            return
        try:
            self._file.write(event.to_json() + "\n")
            self._file.flush()
            self._written += 1
            if isinstance(event, StoppedEvent | SummaryEvent):
                os.fsync(self._file.fileno())
        except OSError as err:
            self.close()
            reason = err.strerror or str(err)
            raise SinkClosed(
                f"the journal {self.path} cannot be written ({reason}): the session goes on "
                "without it"
            ) from err

    def close(self) -> None:
        """Close; never raises. After a failed write the buffer still holds what the disk refused,
        and closing tries to flush it once more: that second refusal says nothing new."""
        if not self._file.closed:
            with contextlib.suppress(OSError):
                self._file.close()

    def discard_if_empty(self) -> None:
        """Remove the file when no event ever reached it (a session refused before it
        connected): an empty journal is no session to list."""
        self.close()
        if self._written == 0:
            with contextlib.suppress(OSError):
                self.path.unlink()


def append_event(path: Path, event: Event) -> None:
    """Add one event to the end of a finished journal (an `rpe` given afterwards): one line,
    flushed and fsynced before it is reported recorded, never over what is there (O_APPEND),
    and never creating a journal that is gone. OSError as raised."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    with os.fdopen(fd, "w", encoding="utf-8") as journal:
        journal.write(event.to_json() + "\n")
        journal.flush()
        os.fsync(journal.fileno())


def read_journal(path: Path) -> list[Event]:
    """All events of a journal. A last line cut off by a crash is ignored; damage anywhere else is
    an InputError naming the line, because silently dropping history would hide a real problem."""
    read = read_journal_leniently(path)
    if read.bad_lines:
        raise InputError(f"{path}: line {read.bad_lines[0]} is not a valid event")
    return list(read.events)


@dataclass(frozen=True)
class JournalRead:
    """A journal's events, and the lines that could not be read (1-based, a cut-off last line
    not counted: a crash leaves one, and it is no damage)."""

    events: tuple[Event, ...]
    bad_lines: tuple[int, ...] = ()


def read_journal_leniently(path: Path) -> JournalRead:
    """Every event of a journal that parses, and the damaged lines before the last (skipped);
    OSError as raised. For a listing, which shows what a journal still holds."""
    lines = path.read_bytes().split(b"\n")
    events: list[Event] = []
    bad: list[int] = []
    last = len(lines) - 1
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            events.append(parse_event(line))
        except ValidationError:
            if number != last:
                bad.append(number + 1)
    return JournalRead(tuple(events), tuple(bad))


@dataclass(frozen=True)
class SessionRecord:
    """One journal on disk: its id, path, and its summary when the session got that far."""

    id: str
    path: Path
    summary: SummaryEvent | None


def list_sessions(data_dir: Path) -> list[SessionRecord]:
    """Journals under `data_dir`, oldest first (ids sort by start time)."""
    directory = sessions_dir(data_dir)
    if not directory.is_dir():
        return []
    return [
        SessionRecord(id=path.stem, path=path, summary=_summary_of(path))
        for path in sorted(directory.glob(f"*{JOURNAL_SUFFIX}"))
    ]


def _summary_of(path: Path) -> SummaryEvent | None:
    # A damaged journal still lists; it just has no summary to show.
    try:
        events = read_journal(path)
    except (InputError, OSError):
        return None
    return next((e for e in reversed(events) if isinstance(e, SummaryEvent)), None)
