"""`rate` writes to a journal after its session: one line appended, nothing rewritten, and never
into a journal a session is still writing or one whose last line a crash cut off."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest

from retrotread import review
from retrotread.errors import InputError
from tests.support.journals import session_events, session_id, write_journal
from tests.support.settings import clean_environment


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return clean_environment(monkeypatch, tmp_path)


def journal(data_dir: Path, day: int = 0, *, ended: bool = True, tail: str = "") -> Path:
    sid = session_id(day)
    events = session_events(sid, seconds=20, rpe=11)
    if not ended:
        events = events[:-4]  # cut before stop, stopped, summary and the rpe
    return write_journal(data_dir / "sessions", sid, events, tail=tail)


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_rate_appends_one_line_at_the_journals_last_t(data_dir: Path) -> None:
    path = journal(data_dir)
    before = path.read_bytes()
    rating = review.rate(None, "last", "13")
    assert (rating.session, rating.rpe, rating.previous, rating.path) == (
        path.stem,
        13,
        11,
        path,
    )
    after = path.read_bytes()
    assert after.startswith(before)
    added = after[len(before) :].decode()
    assert added.count("\n") == 1
    assert added.endswith("\n")
    assert json.loads(added) == {
        "t": json.loads(before.splitlines()[-1])["t"],
        "event": "rpe",
        "rpe": 13,
        "source": "rate",
    }


@pytest.mark.parametrize("text", ["6", "13", "20"])
def test_rpe_within_borgs_scale_is_taken(text: str) -> None:
    assert review.parse_rpe(text) == int(text)


@pytest.mark.parametrize("text", ["5", "21", "", "13.0", "x", "-7"])
def test_rpe_outside_borgs_scale_is_refused_naming_the_range(text: str) -> None:
    with pytest.raises(InputError, match=r"RPE .*6\.\.20"):
        review.parse_rpe(text)


def test_a_journal_ending_in_a_cut_off_line_is_not_appended_to(data_dir: Path) -> None:
    path = journal(data_dir, ended=False, tail='{"t":21.0,"event":"tele')
    age(path, 3600)
    before = path.read_bytes()
    with pytest.raises(InputError, match="cut off"):
        review.rate(None, path.stem, "12")
    assert path.read_bytes() == before


def test_a_session_still_writing_its_journal_is_not_rated(data_dir: Path) -> None:
    path = journal(data_dir, ended=False)
    before = path.read_bytes()
    with pytest.raises(InputError, match="still running"):
        review.rate(None, path.stem, "12")
    assert path.read_bytes() == before


def test_a_crashed_session_is_rated_once_its_journal_is_quiet(data_dir: Path) -> None:
    path = journal(data_dir, ended=False)
    age(path, review.STILL_WRITING_S + 5)
    assert review.rate(None, path.stem, "12").rpe == 12
    assert json.loads(path.read_text().splitlines()[-1])["rpe"] == 12


def test_a_session_whose_control_socket_answers_is_not_rated(data_dir: Path) -> None:
    """A session at its end (summary written, still asking for the RPE) still holds the file."""
    path = journal(data_dir)
    age(path, 3600)
    control = Path(os.environ["XDG_RUNTIME_DIR"]) / "retrotread"
    control.mkdir(mode=0o700, exist_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listening:
        listening.bind(str(control / f"{path.stem}.sock"))
        listening.listen()
        with pytest.raises(InputError, match="still running"):
            review.rate(None, path.stem, "12")
    # The session is gone, its socket stale: now it can be rated.
    assert review.rate(None, path.stem, "12").rpe == 12
