"""Where past sessions are found: the journals under `<data_dir>/sessions/`, and SESSION names.

SESSION (SPEC.md "history, show, export, ...") is a session id, a unique prefix of one, or
`last`; anything else is an InputError (exit 2) that says what exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from retrotread.errors import InputError
from retrotread.session.journal import JOURNAL_SUFFIX, sessions_dir

LAST = "last"


def iter_journals(data_dir: Path) -> Iterator[Path]:
    """Every journal file, oldest first (ids are UTC start stamps, so names sort by start)."""
    directory = sessions_dir(data_dir)
    if directory.is_dir():
        yield from sorted(directory.glob(f"*{JOURNAL_SUFFIX}"))


def resolve_journal(data_dir: Path, ref: str, *, candidates: list[Path] | None = None) -> Path:
    """The journal SESSION names: `last` (the newest in `candidates`, default every journal),
    an exact id, or a unique prefix of one."""
    journals = list(iter_journals(data_dir)) if candidates is None else candidates
    if not journals:
        raise InputError(f"SESSION {ref!r}: no sessions yet under {sessions_dir(data_dir)}")
    if ref == LAST:
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
