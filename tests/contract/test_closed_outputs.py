"""SPEC "Environment and input" and "Files": an output that goes away never affects the belt.

A closed stdout (`run --json | head -2`), a closed stderr (`run 2>&1 | head -2`) and a journal the
disk refuses (a file-size limit) each leave the session running to its normal end and exit code,
with one line on stderr saying what was lost (when stderr is still there to say it). The console
script runs in a subprocess, because these are facts about file descriptors: a pipe whose reader
has gone (its read end closed before the session writes, or after two lines like `head -2`) and a
real RLIMIT_FSIZE, under which the kernel refuses the journal's writes with EFBIG.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import resource
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.support.cli import CONSOLE_SCRIPT, FAST, Sandbox
from tests.support.schema import check_session, of_kind

RUN = (str(CONSOLE_SCRIPT), "run", "--sim", *FAST)
TIMEOUT_S = 60


@contextlib.contextmanager
def reader_gone() -> Iterator[int]:
    """The write end of a pipe whose reader has already gone: every write fails with EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        yield write_end
    finally:
        os.close(write_end)


def the_journal(sandbox: Sandbox) -> Path:
    journals = sorted(sandbox.sessions_dir.glob("*.jsonl"))
    assert len(journals) == 1, journals
    return journals[0]


def journal_events(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [json.loads(line) for line in the_journal(sandbox).read_text().splitlines()]


def assert_completed(events: list[dict[str, Any]]) -> None:
    check_session(events)
    assert events[-1]["outcome"] == "completed"
    assert [s["reason"] for s in of_kind(events, "stopped")] == ["completed"]
    assert not of_kind(events, "safety")


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_a_closed_stdout_is_said_once_and_the_session_completes(sandbox: Sandbox) -> None:
    with reader_gone() as stdout:
        done = subprocess.run(
            [*RUN, "--json"],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            env=sandbox.env,
            timeout=TIMEOUT_S,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    journal = the_journal(sandbox)
    said = [line for line in lines(done.stderr) if "stdout closed" in line]
    assert len(said) == 1, done.stderr
    assert str(journal) in said[0]
    # Only the human lines of the session besides that one (no log line per lost event).
    assert len(lines(done.stderr)) < 40, done.stderr
    assert_completed(journal_events(sandbox))


def test_a_reader_that_leaves_after_two_lines_loses_only_its_copy(sandbox: Sandbox) -> None:
    """`run --json | head -2`: two lines read, then the reader goes. The pipe holds one page,
    far less than the session writes, so the writes after the reader left do fail."""
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)  # before the session can fill it
    process = subprocess.Popen(
        [*RUN, "--json"],
        stdin=subprocess.DEVNULL,
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        env=sandbox.env,
    )
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        head = [reader.readline() for _ in range(2)]
    _, err = process.communicate(timeout=TIMEOUT_S)
    assert process.returncode == 0, err[-2000:]
    assert "Traceback" not in err
    assert len([line for line in lines(err) if "stdout closed" in line]) == 1, err
    events = journal_events(sandbox)
    assert [json.loads(line) for line in head] == events[:2]
    assert_completed(events)


def test_a_closed_stderr_never_affects_the_belt(sandbox: Sandbox) -> None:
    """`run 2>&1 | head -2` with the reader gone: human lines and logs have nowhere to go, the
    program still runs out and the journal holds all of it."""
    with reader_gone() as both:
        done = subprocess.run(
            RUN,
            stdin=subprocess.DEVNULL,
            stdout=both,
            stderr=both,
            env=sandbox.env,
            timeout=TIMEOUT_S,
            check=False,
        )
    assert done.returncode == 0
    assert_completed(journal_events(sandbox))


def test_a_closed_stderr_leaves_the_json_stream_whole(sandbox: Sandbox) -> None:
    with reader_gone() as stderr:
        done = subprocess.run(
            [*RUN, "--json"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=sandbox.env,
            timeout=TIMEOUT_S,
            check=False,
        )
    assert done.returncode == 0
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert_completed(events)
    assert journal_events(sandbox) == events


def file_size_limit(limit_bytes: int) -> Callable[[], None]:
    """For `preexec_fn`: the child may write files of at most `limit_bytes`. SIGXFSZ is ignored
    (Python ignores it anyway), so a write past the limit fails with EFBIG instead of killing."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, hard))

    return apply


def test_a_journal_the_disk_refuses_is_said_once_and_the_session_completes(
    sandbox: Sandbox,
) -> None:
    limit = 4096  # a few dozen events: the journal fails early in the program
    done = subprocess.run(
        [*RUN, "--json"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=sandbox.env,
        timeout=TIMEOUT_S,
        check=False,
        preexec_fn=file_size_limit(limit),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert_completed(events)

    journal = the_journal(sandbox)
    said = [line for line in lines(done.stderr) if "cannot be written" in line]
    assert len(said) == 1, done.stderr
    assert str(journal) in said[0]
    assert "File too large" in said[0]
    # What the disk took is a clean prefix of the stream (a cut-off last line at most).
    assert journal.stat().st_size <= limit
    kept = journal.read_text().splitlines()
    whole = [json.loads(line) for line in kept[:-1]]
    assert 2 <= len(whole) < len(events)
    assert whole == events[: len(whole)]
