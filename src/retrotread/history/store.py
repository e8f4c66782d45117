"""Where past sessions are found: the journals under `<data_dir>/sessions/`, an index over them,
and SESSION names.

The journals (JSON Lines) are the source of truth; the index (`<data_dir>/index.sqlite3`,
stdlib sqlite3) only saves reading them again. Each row is one journal file, keyed by its name
and checked against the file's (size, mtime_ns): a journal that changed since (`rate` appended
an `rpe` event, a session still being written) is read again, a new one is added, a deleted one
dropped. So `history` on an unchanged data dir stats the files and runs one query: nothing is
parsed, and neither the journal reader nor the event models are imported.

The index can always be thrown away: one that is corrupt, of another version, or derived by
other code (the fingerprint of the modules that compute its rows) is rebuilt; one that cannot
be opened, or written when it must be (a read-only data dir), is replaced by one in memory, read
from the journals each time, with a warning. History is never lost to the index.

A journal with a damaged line before its last (a disk error, an edit by hand) lists with what
could be read, and the listing carries a warning naming the file and the line: the strict
reader (`session.journal.read_journal`) would refuse it, and one bad line must not hide a
session from `history`.

SESSION (SPEC.md "history, show, export, ...") is a session id, a unique prefix of one, or
`last`; anything else is an InputError (exit 2) that says what exists.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from retrotread.energy import kcal_from_met_minutes
from retrotread.errors import InputError

if TYPE_CHECKING:
    from retrotread.history.record import SessionLog
    from retrotread.session.journal import JournalRead

LAST = "last"
# `session.journal`'s names, repeated so that listing an unchanged data dir does not import the
# journal and the event models (a test keeps them equal).
SESSIONS_SUBDIR = "sessions"
JOURNAL_SUFFIX = ".jsonl"
INDEX_FILE = "index.sqlite3"
# Bump when the rows' columns or their meaning change; the fingerprint below also catches a
# change in the code that computes them.
INDEX_VERSION = 1
# The modules whose code decides what a row holds (relative to this package's directory).
_DERIVED_FROM = ("store.py", "record.py", "../energy.py", "../events.py", "../session/journal.py")
_BATCH = 64  # journals parsed per write transaction: short locks, progress kept if interrupted
_BUSY_TIMEOUT_S = 5.0
_T = TypeVar("_T")


def sessions_dir(data_dir: Path) -> Path:
    return data_dir / SESSIONS_SUBDIR


def iter_journals(data_dir: Path) -> Iterator[Path]:
    """Every journal file, oldest first (ids are UTC start stamps, so names sort by start)."""
    directory = sessions_dir(data_dir)
    if directory.is_dir():
        yield from sorted(directory.glob(f"*{JOURNAL_SUFFIX}"))


def resolve_journal(data_dir: Path, ref: str, *, candidates: list[Path] | None = None) -> Path:
    """The journal SESSION names: `last` (the newest in `candidates`, default the newest session
    `history` lists, else the newest journal), an exact id, or a unique prefix of one."""
    journals = list(iter_journals(data_dir)) if candidates is None else candidates
    if not journals:
        raise InputError(f"SESSION {ref!r}: no sessions yet under {sessions_dir(data_dir)}")
    if ref == LAST:
        if candidates is None:
            # A failed start (no telemetry) is no session to show, rate or export as "last".
            listed = list_sessions(data_dir, limit=1).rows
            if listed:
                return listed[0].path
        return journals[-1]
    exact = [p for p in journals if p.stem == ref]
    if exact:
        return exact[0]
    matches = [p for p in journals if p.stem.startswith(ref)] if ref else []
    if len(matches) == 1:
        return matches[0]
    if matches:
        shown = ", ".join(p.stem for p in matches[:3])
        raise InputError(
            f"SESSION {ref!r} matches {len(matches)} sessions ({shown}, ...): give more of the id"
        )
    raise InputError(
        f"SESSION {ref!r}: no such session (a session id, a unique prefix of one, or 'last'; "
        "`retrotread history` lists them)"
    )


def index_path(data_dir: Path) -> Path:
    return data_dir / INDEX_FILE


# -- reading a journal leniently ------------------------------------------------------------------


def read_events(path: Path) -> JournalRead:
    """Every event of a journal that parses; OSError as raised. Unlike
    `session.journal.read_journal`, a damaged line before the last is skipped and reported,
    not raised: a listing shows what the journal still holds."""
    from retrotread.session.journal import read_journal_leniently

    return read_journal_leniently(path)


def read_session(path: Path) -> tuple[SessionLog, tuple[int, ...]]:
    """One journal as a `SessionLog`, read leniently (`read_events`), and its damaged lines."""
    from retrotread.history.record import SessionLog

    read = read_events(path)
    return SessionLog.of_journal(path, read.events), read.bad_lines


# -- the rows -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRow:
    """One session as `history` lists it: SPEC's `history --json` fields, with the energy kept
    weight-free (`net_met_minutes`) so that kcal follow the weight configured when read."""

    session: str
    path: Path
    started_at: str  # ISO 8601 UTC, "2026-12-01T09:49:15Z"
    program: str | None
    outcome: str  # completed / stopped / incomplete (cut off)
    stop_reason: str | None
    duration_s: float
    distance_m: float
    max_speed_mph: float
    avg_speed_mph: float | None  # backward segments, while the belt moved
    backward_s: float
    forward_s: float
    net_met_minutes: float
    avg_heart_rate_bpm: float | None
    max_heart_rate_bpm: int | None
    heart_rate_source: str | None  # strap / treadmill: where most heart-rate samples came from
    rpe: int | None
    device: str | None
    complete: bool
    listed: bool  # has telemetry: a failed start is shown only by `history --all`
    safety_events: int
    bad_lines: tuple[int, ...] = field(default=())

    def kcal(self, weight_kg: float | None) -> float | None:
        """The energy estimate for `weight_kg`; None without a weight (SPEC.md)."""
        return kcal_from_met_minutes(self.net_met_minutes, weight_kg)


def row_of(log: SessionLog, path: Path, bad_lines: Sequence[int] = ()) -> SessionRow:
    """The index row of one session read back from its journal."""
    return SessionRow(
        session=log.id,
        path=path,
        started_at=log.started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        program=log.program,
        outcome=log.outcome,
        stop_reason=log.stop_reason,
        duration_s=log.duration_s,
        distance_m=log.distance_m,
        max_speed_mph=log.max_speed_mph,
        avg_speed_mph=log.avg_backward_mph,
        backward_s=log.backward_s,
        forward_s=log.forward_s,
        net_met_minutes=log.net_met_minutes,
        avg_heart_rate_bpm=log.avg_heart_rate_bpm,
        max_heart_rate_bpm=log.max_heart_rate_bpm,
        heart_rate_source=next(iter(log.heart_rate_sources), None),
        rpe=log.rpe,
        device=log.device,
        complete=log.complete,
        listed=log.worth_listing,
        safety_events=len(log.safety),
        bad_lines=tuple(bad_lines),
    )


# The columns after the key (file, size, mtime_ns), in SessionRow's order but `path`.
_COLUMNS = (
    ("session", "TEXT NOT NULL"),
    ("started_at", "TEXT NOT NULL"),
    ("program", "TEXT"),
    ("outcome", "TEXT NOT NULL"),
    ("stop_reason", "TEXT"),
    ("duration_s", "REAL NOT NULL"),
    ("distance_m", "REAL NOT NULL"),
    ("max_speed_mph", "REAL NOT NULL"),
    ("avg_speed_mph", "REAL"),
    ("backward_s", "REAL NOT NULL"),
    ("forward_s", "REAL NOT NULL"),
    ("net_met_minutes", "REAL NOT NULL"),
    ("avg_heart_rate_bpm", "REAL"),
    ("max_heart_rate_bpm", "INTEGER"),
    ("heart_rate_source", "TEXT"),
    ("rpe", "INTEGER"),
    ("device", "TEXT"),
    ("complete", "INTEGER NOT NULL"),
    ("listed", "INTEGER NOT NULL"),
    ("safety_events", "INTEGER NOT NULL"),
    ("bad_lines", "TEXT NOT NULL"),  # comma-separated line numbers
)
_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE journals (file TEXT PRIMARY KEY, size INTEGER NOT NULL, "
    "mtime_ns INTEGER NOT NULL, " + ", ".join(f"{name} {kind}" for name, kind in _COLUMNS) + ")",
    "CREATE INDEX journals_by_start ON journals (started_at DESC, mtime_ns DESC, session DESC)",
)


_COLUMN_NAMES = tuple(name for name, _ in _COLUMNS)
_SELECTED = ", ".join(_COLUMN_NAMES)


def _values(row: SessionRow) -> tuple[object, ...]:
    values: list[object] = []
    for name in _COLUMN_NAMES:
        value = getattr(row, name)
        if isinstance(value, bool):
            value = int(value)
        elif name == "bad_lines":
            value = ",".join(map(str, value))
        values.append(value)
    return tuple(values)


def _row(directory: Path, file: str, values: Sequence[Any]) -> SessionRow:
    fields: dict[str, Any] = dict(zip(_COLUMN_NAMES, values, strict=True))
    fields["complete"] = bool(fields["complete"])
    fields["listed"] = bool(fields["listed"])
    bad = fields["bad_lines"]
    fields["bad_lines"] = tuple(int(n) for n in bad.split(",")) if bad else ()
    return SessionRow(path=directory / file, **fields)


# -- the index ------------------------------------------------------------------------------------


@dataclass
class Listing:
    """Sessions newest first, and what a person should know about how they were read."""

    rows: list[SessionRow]
    warnings: list[str] = field(default_factory=list)

    @property
    def damaged(self) -> list[SessionRow]:
        return [row for row in self.rows if row.bad_lines]


def list_sessions(
    data_dir: Path, *, include_hidden: bool = False, limit: int | None = None
) -> Listing:
    """The sessions under `data_dir`, newest first, from the index brought up to date with the
    journals; failed starts (no telemetry) only with `include_hidden`. OSError when the
    sessions directory cannot be read."""
    directory = sessions_dir(data_dir)
    on_disk = _scan(directory)
    if not on_disk:
        return Listing([])
    warnings: list[str] = []

    def query(index: sqlite3.Connection) -> list[SessionRow]:
        warnings.extend(_refresh(index, directory, on_disk))
        return _select(index, directory, include_hidden=include_hidden, limit=limit)

    rows = _with_index(index_path(data_dir), query, warnings)
    damaged = [row for row in rows if row.bad_lines]
    if damaged:
        warnings.append(damage_warning(damaged))
    return Listing(rows, warnings)


def damage_warning(damaged: Sequence[SessionRow]) -> str:
    """One line for every listed journal with damaged lines."""
    shown = ", ".join(f"{row.path} (line {row.bad_lines[0]})" for row in damaged[:3])
    more = f" and {len(damaged) - 3} more" if len(damaged) > 3 else ""
    if len(damaged) == 1:
        what = "1 journal has a damaged line"
    else:
        what = f"{len(damaged)} journals have damaged lines"
    return f"{what}, listed with what could be read: {shown}{more}"


def _scan(directory: Path) -> dict[str, tuple[int, int]]:
    """Every journal file in `directory` with its (size, mtime_ns); empty when it is missing."""
    found: dict[str, tuple[int, int]] = {}
    try:
        entries = os.scandir(directory)
    except FileNotFoundError:
        return found
    with entries:
        for entry in entries:
            if not entry.name.endswith(JOURNAL_SUFFIX):
                continue
            try:
                st = entry.stat()
            except OSError:
                continue  # removed while we looked
            if stat.S_ISREG(st.st_mode):
                found[entry.name] = (st.st_size, st.st_mtime_ns)
    return found


def _fingerprint() -> str:
    """Which code derived the rows: the index version and the size and mtime of each module
    that computes them, so an upgrade (or an edit) that changes a row's meaning rebuilds."""
    here = Path(__file__).resolve().parent
    parts = [f"v{INDEX_VERSION}"]
    for name in _DERIVED_FROM:
        try:
            st = (here / name).stat()
        except OSError:
            parts.append(f"{name}:?")
        else:
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    return " ".join(parts)


def _connect(path: Path | str) -> sqlite3.Connection:
    # Autocommit: the writes below open their own short transactions.
    index = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
    try:
        _ensure_schema(index)
    except BaseException:
        index.close()
        raise
    return index


def _ensure_schema(index: sqlite3.Connection) -> None:
    """Create the tables, or drop and create them when they were made by other code."""
    fingerprint = _fingerprint()
    if _schema_matches(index, fingerprint):
        return
    with _transaction(index):
        if _schema_matches(index, fingerprint):
            return  # another process made it while we waited for the lock
        for (table,) in index.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall():
            index.execute(f'DROP TABLE "{table}"')
        for statement in _SCHEMA:
            index.execute(statement)
        index.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (fingerprint,))


def _schema_matches(index: sqlite3.Connection, fingerprint: str) -> bool:
    tables = {r[0] for r in index.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"meta", "journals"} <= tables:
        return False
    found = index.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
    return found is not None and found[0] == fingerprint


def _with_index(path: Path, work: Callable[[sqlite3.Connection], _T], warnings: list[str]) -> _T:
    """`work` on the index at `path`; on a corrupt one, again on a fresh one; when the index
    cannot be used at all, on one in memory (built from the journals, as slow as that is)."""
    for attempt in range(2):
        try:
            index = _connect(path)
        except sqlite3.DatabaseError as err:
            problem: sqlite3.Error = err
        else:
            try:
                return work(index)
            except sqlite3.DatabaseError as err:
                problem = err
            finally:
                index.close()
        if attempt == 0 and _is_corrupt(problem) and _remove_index(path):
            continue  # a damaged cache: throw it away and build it again
        break
    warnings.append(
        f"the history index {path} cannot be used ({problem}); reading the journals instead"
    )
    with contextlib.closing(_connect(":memory:")) as memory:
        return work(memory)


def _is_corrupt(err: sqlite3.Error) -> bool:
    """A damaged index file (rebuild it), as opposed to one that is busy or not writable."""
    if not isinstance(err, sqlite3.OperationalError):
        return True  # "file is not a database", "database disk image is malformed"
    text = str(err).lower()
    return "malformed" in text or "not a database" in text or "no such" in text


def _remove_index(path: Path) -> bool:
    try:
        for leftover in (path, path.with_name(path.name + "-journal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    except OSError:
        return False
    return True


def _refresh(
    index: sqlite3.Connection, directory: Path, on_disk: dict[str, tuple[int, int]]
) -> list[str]:
    """Bring the index in line with the journals on disk; warnings for unreadable ones."""
    known = {
        file: (size, mtime_ns)
        for file, size, mtime_ns in index.execute("SELECT file, size, mtime_ns FROM journals")
    }
    gone = [file for file in known if file not in on_disk]
    stale = sorted(file for file, signature in on_disk.items() if known.get(file) != signature)
    warnings: list[str] = []
    if gone:
        with _transaction(index):
            index.executemany("DELETE FROM journals WHERE file = ?", [(f,) for f in gone])
    for start in range(0, len(stale), _BATCH):
        batch: list[tuple[object, ...]] = []
        vanished: list[tuple[str]] = []
        for file in stale[start : start + _BATCH]:
            path = directory / file
            try:
                signature, row = _read_row(path)
            except FileNotFoundError:
                vanished.append((file,))
                continue
            except OSError as err:
                warnings.append(f"journal {path} cannot be read ({err.strerror or err})")
                continue
            batch.append((file, *signature, *_values(row)))
        with _transaction(index):
            index.executemany("DELETE FROM journals WHERE file = ?", vanished)
            index.executemany(
                f"INSERT OR REPLACE INTO journals (file, size, mtime_ns, {_SELECTED}) "
                f"VALUES ({', '.join('?' * (3 + len(_COLUMNS)))})",
                batch,
            )
    return warnings


def _read_row(path: Path) -> tuple[tuple[int, int], SessionRow]:
    """A journal's row and the (size, mtime_ns) it was read at. Taken before reading, so a
    journal that grows meanwhile (a session still writing) differs next time and is read again."""
    st = path.stat()
    log, bad_lines = read_session(path)
    return (st.st_size, st.st_mtime_ns), row_of(log, path, bad_lines)


@contextlib.contextmanager
def _transaction(index: sqlite3.Connection) -> Iterator[None]:
    index.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        index.execute("ROLLBACK")
        raise
    index.execute("COMMIT")


def _select(
    index: sqlite3.Connection, directory: Path, *, include_hidden: bool, limit: int | None
) -> list[SessionRow]:
    where = "" if include_hidden else "WHERE listed = 1"
    # Ids stamp the start to the second: of two sessions started in the same second, the one
    # whose journal was written last comes first.
    order = "started_at DESC, mtime_ns DESC, session DESC"
    sql = f"SELECT file, {_SELECTED} FROM journals {where} ORDER BY {order}"
    params: tuple[int, ...] = ()
    if limit is not None:
        sql += " LIMIT ?"
        params = (limit,)
    return [_row(directory, values[0], values[1:]) for values in index.execute(sql, params)]
