"""`export` and `plot` as use cases: SESSION resolved as everywhere, the file written whole or
not at all (a temporary file renamed over the target), `-o` a file, a directory or stdout, and
every foreseeable failure one InputError line (exit 2)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from retrotread import export
from retrotread.errors import InputError
from tests.support.export_sessions import Shape, fit_messages, png_size, session_events
from tests.support.journals import write_journal
from tests.support.settings import clean_environment

SID = "20260302T080000Z-e1e1"


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    data = clean_environment(monkeypatch, tmp_path)
    write_journal(data / "sessions", SID, session_events(Shape()))
    return data


def test_fit_to_a_file_by_id_prefix_and_last(data_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "walk.fit"
    for ref in (SID, SID[:12], "last"):
        written = export.export_session(None, ref, "fit", str(target))
        assert (written.session, written.path, written.fmt) == (SID, target, "fit")
        assert written.size == target.stat().st_size
        assert written.complete
    assert fit_messages(target.read_bytes())["session"][0]["sport"] == "walking"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_directory_gets_the_session_s_own_name(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    written = export.export_session(None, "last", "tcx", str(out))
    assert written.path == out / f"{SID}.tcx"
    assert (out / f"{SID}.tcx").read_bytes().startswith(b"<?xml")
    written = export.plot_session(None, "last", str(out))
    assert written.path == out / f"{SID}.png"
    assert png_size((out / f"{SID}.png").read_bytes()) == (1200, 600)


def test_an_existing_file_is_replaced_whole(data_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "walk.csv"
    target.write_text("old")
    inode = target.stat().st_ino
    export.export_session(None, "last", "csv", str(target))
    assert target.read_text().startswith("t,speed_mph,")
    assert target.stat().st_ino != inode  # a new file renamed over it, not rewritten in place


def test_an_unwritable_output_is_one_line_and_leaves_nothing(
    data_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(InputError) as missing:
        export.export_session(None, "last", "fit", str(tmp_path / "no" / "such" / "x.fit"))
    assert "no directory" in str(missing.value)
    locked = tmp_path / "locked"
    locked.mkdir()
    target = locked / "x.fit"
    target.write_text("keep")
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root writes anywhere: use a path that cannot exist
            target = Path("/proc/x.fit")
        with pytest.raises(InputError) as refused:
            export.export_session(None, "last", "fit", str(target))
        assert refused.value.exit_code == 2
        assert "\n" not in str(refused.value)
        assert str(target) in str(refused.value)
    finally:
        locked.chmod(0o700)
    assert (locked / "x.fit").read_text() == "keep"
    assert [p.name for p in locked.iterdir()] == ["x.fit"]


def test_stdout_takes_text_and_refuses_binary_on_a_terminal(data_dir: Path) -> None:
    out = io.BytesIO()
    written = export.export_session(None, "last", "csv", "-", stdout=out)
    assert written.path is None
    assert out.getvalue().startswith(b"t,speed_mph,speed_kmh,")
    binary = io.BytesIO()
    export.export_session(None, "last", "fit", "-", stdout=binary, stdout_is_terminal=False)
    assert fit_messages(binary.getvalue())["file_id"][0]["type"] == "activity"
    with pytest.raises(InputError, match="binary"):
        export.export_session(
            None, "last", "fit", "-", stdout=io.BytesIO(), stdout_is_terminal=True
        )


def test_unknown_session_or_format_is_an_input_error(data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such session"):
        export.export_session(None, "20990101", "fit", str(tmp_path / "x.fit"))
    with pytest.raises(InputError, match="--format 'gpx'"):
        export.export_session(None, "last", "gpx", str(tmp_path / "x.gpx"))
    assert not (tmp_path / "x.fit").exists()


def test_a_cut_off_journal_exports_and_says_so(data_dir: Path, tmp_path: Path) -> None:
    cut = "20260303T080000Z-c0c0"
    events = session_events(Shape(cut_off_at=100.0))
    write_journal(data_dir / "sessions", cut, events, tail='{"t": 100.5, "event": "tele')
    written = export.export_session(None, cut, "fit", str(tmp_path / "cut.fit"))
    assert not written.complete
    found = fit_messages((tmp_path / "cut.fit").read_bytes())
    assert len(found["record"]) == sum(1 for e in events if e.event == "telemetry")
