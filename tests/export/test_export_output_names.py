"""What `-o` may name (SPEC.md: `export SESSION --format fit|tcx|csv -o FILE`, `plot SESSION -o
FILE.png`): a file with its format's suffix, a directory, or `-`. Anything else is one line
naming `-o` and what is allowed (exit 2), before the journal is read, and writes nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from retrotread import export
from retrotread.errors import InputError
from tests.support.export_sessions import Shape, session_events
from tests.support.journals import write_journal
from tests.support.settings import clean_environment

SID = "20260302T080000Z-e1e1"


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    data = clean_environment(monkeypatch, tmp_path)
    write_journal(data / "sessions", SID, session_events(Shape()))
    return data


def _write(fmt: str, output: str) -> export.Written:
    if fmt == "png":
        return export.plot_session(None, "last", output, stdout=io.BytesIO())
    return export.export_session(None, "last", fmt, output, stdout=io.BytesIO())


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("png", "plot.txt"),
        ("png", "plot"),
        ("png", "plot.png.tmp"),
        ("fit", "walk.tcx"),
        ("tcx", "walk.fit"),
        ("csv", "walk.txt"),
        ("fit", "walk"),
    ],
)
def test_a_file_name_without_its_format_s_suffix_is_refused(
    data_dir: Path, tmp_path: Path, fmt: str, name: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InputError) as refused:
        _write(fmt, str(out / name))
    message = str(refused.value)
    assert refused.value.exit_code == 2
    assert "\n" not in message
    assert message.startswith(f"-o {out / name}: ")
    assert f"ending in .{fmt}, a directory, or - for stdout" in message
    assert list(out.iterdir()) == []


def test_the_name_is_checked_before_the_session_is_looked_up(data_dir: Path) -> None:
    with pytest.raises(InputError, match=r"^-o walk\.tcx: a FIT file needs"):
        export.export_session(None, "20990101", "fit", "walk.tcx")


def test_an_empty_name_is_refused_with_what_is_allowed(data_dir: Path) -> None:
    with pytest.raises(InputError, match=r"^-o '': give a file name ending in \.png"):
        export.plot_session(None, "last", "")


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("png", "plot.png"), ("png", "PLOT.PNG"), ("fit", "walk.Fit"), ("tcx", "w.tcx")],
)
def test_the_suffix_in_any_case_is_written_to(
    data_dir: Path, tmp_path: Path, fmt: str, name: str
) -> None:
    written = _write(fmt, str(tmp_path / name))
    assert written.path == tmp_path / name
    assert (tmp_path / name).stat().st_size == written.size > 0


def test_a_directory_and_stdout_need_no_suffix(data_dir: Path, tmp_path: Path) -> None:
    # A directory named like a file of another format is still a directory.
    odd = tmp_path / "plots.txt"
    odd.mkdir()
    assert _write("png", str(odd)).path == odd / f"{SID}.png"
    out = io.BytesIO()
    written = export.export_session(None, "last", "csv", "-", stdout=out)
    assert written.path is None
    assert out.getvalue().startswith(b"t,speed_mph,")
