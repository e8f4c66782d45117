"""SPEC "Environment and input": an output never affects the belt, nor does one whose reader
stops reading. The session's loop runs the supervisor, its watchdogs and every remote stop; a
write that waited for a full pipe or a terminal that takes no output would hold all of them up.

Real sessions in their own processes, each with a private runtime directory (`retrotread stop`
reaches every session under it): stdout a pipe nobody reads (`run --json | (sleep 600; cat)`),
and the live view on a pseudo-terminal whose output is suspended (what Ctrl-S does under flow
control, or a stalled connection) or that gets a panicked Ctrl-S.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import subprocess
import termios
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.support.cli import CONSOLE_SCRIPT, LONG_PLAN, Sandbox, console
from tests.support.schema import check_session, only
from tests.support.terminal import read_until
from tests.support.waiting import until

LIMIT_S = 60.0
RUN = (str(CONSOLE_SCRIPT), "run", "--sim", "--plan")


def wait_until(condition: Callable[[], bool], process: subprocess.Popen[Any], what: str) -> None:
    """Poll `condition` (a file growing) until it holds; the session ending first, or LIMIT_S
    passing, fails the test."""
    until(
        condition,
        limit_s=LIMIT_S,
        what=what,
        fail_if=lambda: None if process.poll() is None else f"the session ended before {what}",
        interval_s=0.05,
    )


def the_journal(sandbox: Sandbox, process: subprocess.Popen[Any]) -> Path:
    found: list[Path] = []

    def exists() -> bool:
        found[:] = sorted(sandbox.sessions_dir.glob("*.jsonl"))
        return bool(found)

    wait_until(exists, process, "a journal")
    assert len(found) == 1, found
    return found[0]


def size(path: Path) -> int:
    return path.stat().st_size


def journal_events(journal: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in journal.read_text().splitlines()]


def assert_stopped_by(journal: Path, source: str) -> None:
    events = journal_events(journal)
    check_session(events)
    stopped = only(events, "stopped")
    assert (stopped["reason"], stopped["source"]) == ("estop", source)
    assert stopped["belt_mph"] == 0.0
    assert only(events, "summary")["outcome"] == "stopped"


def test_a_stdout_nobody_reads_never_holds_up_a_stop(sandbox: Sandbox) -> None:
    plan = sandbox.plan(LONG_PLAN)
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)  # one page: full at once
    capacity = fcntl.fcntl(write_end, fcntl.F_GETPIPE_SZ)
    with (sandbox.root / "stderr").open("w+") as err:
        process = subprocess.Popen(
            [*RUN, str(plan), "--json", "--time-scale", "100"],
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=err,
            env=sandbox.env,
        )
        os.close(write_end)
        try:
            journal = the_journal(sandbox, process)
            # stdout carries the journal's lines: once the journal holds more than the pipe
            # can, the pipe is full and its writes wait; 32 KB more and the session went on
            # well past that.
            wait_until(lambda: size(journal) > capacity + 32 * 1024, process, "32 KB of events")
            assert not [e for e in journal_events(journal) if e["event"] == "stopped"]
            stop = console(sandbox.env, "stop", timeout=LIMIT_S)
            assert stop.code == 0, stop.err
            assert "stopped session" in stop.out + stop.err
            assert process.wait(timeout=LIMIT_S) == 3  # though stdout was never read
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
            with os.fdopen(read_end, "rb") as reader:
                got = reader.read()
        err.seek(0)
        said = err.read()
    assert "Traceback" not in said
    assert len([line for line in said.splitlines() if "stdout is not being read" in line]) == 1
    assert_stopped_by(journal, "control-socket")
    # What the pipe took is the journal's beginning, in order (a cut-off last line at most).
    whole = got.decode().splitlines()[:-1]
    assert whole
    assert [json.loads(line) for line in whole] == journal_events(journal)[: len(whole)]


@contextlib.contextmanager
def live_view_on_a_pty(sandbox: Sandbox) -> Iterator[tuple[subprocess.Popen[bytes], int, int]]:
    """`run --sim --plan LONG_PLAN` at x50 with stdin, stdout and stderr a pseudo-terminal, read
    until the belt has started (the view offers `p`): the process, the end a person types into
    and reads, and a descriptor of the terminal itself (for its flow control)."""
    plan = sandbox.plan(LONG_PLAN)
    controller, terminal = pty.openpty()
    env = {**sandbox.env, "TERM": "xterm", "COLUMNS": "100", "LINES": "30"}
    process = subprocess.Popen(
        [*RUN, str(plan), "--time-scale", "50", "--cues", "off", "--rpe", "11"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
    )
    try:
        read_until(controller, b"p: pause", limit_s=LIMIT_S)
        yield process, controller, terminal
    finally:
        with contextlib.suppress(termios.error):
            termios.tcflow(terminal, termios.TCOON)
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        os.close(controller)
        os.close(terminal)


def test_a_panicked_ctrl_s_stops_the_belt(sandbox: Sandbox) -> None:
    """Under the terminal's flow control Ctrl-S would pause its output, the next redraw would
    wait, and no key would stop anything; in the live view Ctrl-S is a stop key."""
    with live_view_on_a_pty(sandbox) as (process, controller, _terminal):
        os.write(controller, b"\x13")
        read_until(controller, b"Stopped by you (a key in the live view)", limit_s=LIMIT_S)
        assert process.wait(timeout=LIMIT_S) == 3
    assert_stopped_by(the_journal(sandbox, process), "keyboard")


def test_a_terminal_that_takes_no_output_never_holds_up_a_stop(sandbox: Sandbox) -> None:
    """The terminal's output suspended (as Ctrl-S does under flow control; or a connection
    that stalled): the view's redraws wait in a queue, the session goes on, `retrotread stop`
    is acknowledged and the session ends, all while the terminal still takes nothing."""
    with live_view_on_a_pty(sandbox) as (process, _controller, terminal):
        termios.tcflow(terminal, termios.TCOOFF)
        journal = the_journal(sandbox, process)
        # The view redraws about ten times a (real) second: 8 KB of events at x50 is seconds
        # of redraws that the terminal never took.
        grown = size(journal) + 8 * 1024
        wait_until(lambda: size(journal) > grown, process, "8 KB more events")
        stop = console(sandbox.env, "stop", timeout=LIMIT_S)
        assert stop.code == 0, stop.err
        assert process.wait(timeout=LIMIT_S) == 3
    assert_stopped_by(journal, "control-socket")
