"""Logging: stderr only, JSON lines when asked (or not on a terminal), -v for debug."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
from collections.abc import Iterator
from typing import TextIO

import pytest
import structlog

from retrotread.logs import configure_logging, give_up_stream


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    ours = logging.getLogger("retrotread")
    our_level = ours.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    ours.setLevel(our_level)
    structlog.reset_defaults()


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_json_format_writes_parseable_lines_to_stderr_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json", 0)
    structlog.get_logger("retrotread.test").info("belt started", mph=0.5)
    structlog.get_logger("retrotread.test").warning("slow telemetry", age_s=2.5)
    out, err = capsys.readouterr()
    assert out == ""
    records = json_lines(err)
    assert [r["event"] for r in records] == ["belt started", "slow telemetry"]
    assert records[0]["mph"] == 0.5
    assert records[0]["level"] == "info"
    assert records[0]["logger"] == "retrotread.test"
    assert "timestamp" in records[0]


def test_library_records_share_the_json_format(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", 0)
    logging.getLogger("bleak.backends").warning("adapter %s gone", "hci0")
    logging.getLogger("bleak.backends").info("chatter hidden without -v")
    records = json_lines(capsys.readouterr().err)
    assert records == [
        {**records[0], "event": "adapter hci0 gone", "level": "warning", "logger": "bleak.backends"}
    ]


def test_debug_appears_only_with_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    log = structlog.get_logger("retrotread.test")
    configure_logging("json", 0)
    log.debug("hidden")
    assert capsys.readouterr().err == ""
    configure_logging("json", 1)
    log.debug("shown")
    assert [r["event"] for r in json_lines(capsys.readouterr().err)] == ["shown"]


def test_second_call_replaces_the_handler_instead_of_doubling_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json", 0)
    configure_logging("json", 0)
    structlog.get_logger("retrotread.test").info("once")
    assert len(json_lines(capsys.readouterr().err)) == 1


def test_console_format_is_not_json_and_still_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("console", 0)
    structlog.get_logger("retrotread.test").info("hello walker", mph=1.5)
    out, err = capsys.readouterr()
    assert out == ""
    assert "hello walker" in err
    assert "mph=1.5" in err
    with pytest.raises(json.JSONDecodeError):
        json.loads(err.splitlines()[0])


def test_auto_is_json_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("auto", 0)
    structlog.get_logger("retrotread.test").info("piped")
    assert json_lines(capsys.readouterr().err)[0]["event"] == "piped"


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="auto, console or json"):
        configure_logging("xml", 0)


@pytest.fixture
def reader_gone() -> Iterator[TextIO]:
    """A stream on a pipe whose reader has gone (`retrotread run 2>&1 | head -2`)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    stream = os.fdopen(write_end, "w")
    yield stream
    with contextlib.suppress(OSError):
        stream.close()


def test_a_stderr_whose_reader_went_away_never_raises_and_is_given_up(
    reader_gone: TextIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log call can sit in the supervisor's stop procedure: it must not raise there. The
    descriptor then points at /dev/null, so the interpreter's last flush at exit succeeds too."""
    # In the test itself: pytest's capture puts its own sys.stderr back after fixture set-up.
    monkeypatch.setattr(sys, "stderr", reader_gone)
    configure_logging("json", 0)
    structlog.get_logger("retrotread.test").warning("belt stopped", mph=0.0)
    logging.getLogger("bleak.backends").error("adapter %s gone", "hci0")
    structlog.get_logger("retrotread.test").warning("again")
    assert os.readlink(f"/proc/self/fd/{reader_gone.fileno()}") == os.devnull
    reader_gone.flush()  # what was left in the buffer goes nowhere, quietly


@pytest.mark.parametrize("closed", ["file object", "descriptor"])
def test_a_closed_stderr_never_raises_into_the_caller(
    monkeypatch: pytest.MonkeyPatch, closed: str
) -> None:
    """A closed file object raises ValueError, which `logging.Handler.handleError` lets through;
    Python's sys.stderr is None when descriptor 2 was closed at start (`2>&-`)."""
    configure_logging("json", 0)
    stream = io.StringIO()
    stream.close()
    monkeypatch.setattr(sys, "stderr", stream if closed == "file object" else None)
    structlog.get_logger("retrotread.test").warning("belt stopped", mph=0.0)
    logging.getLogger("bleak.backends").error("adapter %s gone", "hci0")


def test_give_up_stream_leaves_a_stream_without_a_descriptor_alone() -> None:
    stream = io.StringIO()
    give_up_stream(stream)
    stream.write("still here")
    assert stream.getvalue() == "still here"
