"""Writing to a stream never waits for its reader: one writer thread per destination, a bounded
queue that drops (and says so once) when the reader does not read, lines in order, a reader that
went away detected and said once, and a bounded wait for what is queued after the session.

Real pipes in this process: a pipe whose reader does not read is exactly what would block a
plain write. Nothing here sleeps: every wait is on a condition with a deadline.
"""

from __future__ import annotations

import contextlib
import io
import os
import select
import stat
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from retrotread.channels import sinks
from retrotread.channels.sinks import (
    JsonLinesSink,
    QueuedStream,
    StreamWriter,
    drain_outputs,
    queued_std_streams,
    write_line,
    write_text,
    writer_for,
)
from retrotread.errors import SinkClosed
from retrotread.events import ConnectedEvent
from tests.support.waiting import until

CONNECTED = ConnectedEvent(t=0.2, device="sim", speed_range_kmh=(0.5, 20.0, 0.01), features=[])
LIMIT_S = 10.0


def eventually(condition: Callable[[], bool]) -> None:
    """Another thread's progress announces nothing to the test: polled."""
    until(condition, limit_s=LIMIT_S, what="writer progress")


def read_available(fd: int) -> bytes:
    """Whatever the pipe holds now, without waiting for more."""
    got = b""
    while select.select([fd], [], [], 0)[0]:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        got += chunk
    return got


class Pipe:
    """A pipe: its read end, and its write end as a text stream."""

    def __init__(self) -> None:
        self.read_end, write_end = os.pipe()
        self.stream = os.fdopen(write_end, "w")
        self._reading = True

    def reader_leaves(self) -> None:
        if self._reading:
            os.close(self.read_end)
            self._reading = False

    def read_while(self, busy: Callable[[], bool]) -> bytes:
        """Read what comes until `busy` no longer holds, then what is left."""
        got = b""
        deadline = time.monotonic() + LIMIT_S
        while busy():
            assert time.monotonic() < deadline
            if select.select([self.read_end], [], [], 0.01)[0]:
                got += os.read(self.read_end, 65536)
        return got + read_available(self.read_end)

    def close(self) -> None:
        """Every writer serving the pipe ends before its descriptors close (a writer thread
        must never outlive its descriptor, whose number the next file gets)."""
        self.reader_leaves()  # wakes a write that waits (EPIPE)
        for writer in list(sinks._writers.values()):
            if any(served is self.stream for served in writer._streams):
                assert writer.close()
        self.stream.close()


@contextlib.contextmanager
def a_pipe() -> Iterator[Pipe]:
    pipe = Pipe()
    try:
        yield pipe
    finally:
        pipe.close()


def warnings(logs: list[dict[str, object]]) -> list[str]:
    return [str(entry["event"]) for entry in logs if entry["log_level"] == "warning"]


def test_a_reader_that_does_not_read_loses_lines_but_never_holds_up_the_writer() -> None:
    pipe = Pipe()
    writer = StreamWriter(pipe.stream, pipe.stream.fileno(), "stdout", limit_chars=10_000)
    try:
        lines = [f"{n:06d} {'x' * 90}\n" for n in range(2000)]  # 200 KB: pipe and queue overflow
        with capture_logs() as logs:
            for line in lines:
                writer.put(line)  # returns at once, however full the pipe is
        assert writer.dropped > 0
        assert warnings(logs) == [
            "stdout is not being read: lines are dropped while it is full "
            "(the journal keeps every event)"
        ]
        # Once the reader reads, what was queued comes, in order; then new lines get through.
        got = pipe.read_while(lambda: not writer.idle)
        numbers = [int(line.split()[0]) for line in got.decode().splitlines()]
        assert numbers[0] == 0
        assert numbers == sorted(set(numbers))
        assert len(numbers) == len(lines) - writer.dropped
        writer.put("after\n")
        assert pipe.read_while(lambda: not writer.idle) == b"after\n"
    finally:
        pipe.reader_leaves()
        assert writer.close()
        pipe.stream.close()


def test_a_reader_that_went_away_is_said_by_a_later_line_and_only_once() -> None:
    with a_pipe() as pipe:
        sink = JsonLinesSink(pipe.stream, name="stdout")
        sink(CONNECTED)
        writer = writer_for(pipe.stream)
        assert writer is not None
        assert pipe.read_while(lambda: not writer.idle).decode() == CONNECTED.to_json() + "\n"
        pipe.reader_leaves()
        sink(CONNECTED)  # queued: the writer finds the reader gone
        eventually(lambda: not writer.usable)
        with pytest.raises(SinkClosed, match="stdout closed: its events are no longer written"):
            sink(CONNECTED)
        assert writer.unreported_failure() is None  # the sink said it
        # The descriptor now points at /dev/null: later writes (a last log line) cannot fail.
        assert stat.S_ISCHR(os.fstat(pipe.stream.fileno()).st_mode)


def test_a_failure_after_the_last_line_is_said_once_after_the_session() -> None:
    with a_pipe() as pipe:
        writer = writer_for(pipe.stream)
        assert writer is not None
        pipe.reader_leaves()
        write_line(pipe.stream, "the last line\n", "stdout closed: the last line was lost")
        eventually(lambda: not writer.usable)
        with capture_logs() as logs:
            drain_outputs(stall_s=0.1, limit_s=1.0)
            drain_outputs(stall_s=0.1, limit_s=1.0)
        assert warnings(logs) == ["stdout closed: the last line was lost"]


def test_the_wait_after_the_session_is_bounded_and_gives_a_stalled_reader_up() -> None:
    with a_pipe() as pipe:
        writer = writer_for(pipe.stream)
        assert writer is not None
        for n in range(200):
            write_line(pipe.stream, f"{n} {'y' * 500}\n", "")  # 100 KB: more than the pipe holds
        # The writer has filled the pipe and waits for room before the drain starts judging it.
        eventually(lambda: writer.writing)
        started = time.monotonic()
        with capture_logs() as logs:
            drain_outputs(stall_s=1.0, limit_s=LIMIT_S)
        assert time.monotonic() - started < LIMIT_S
        assert not writer.usable
        said = warnings(logs)
        assert len(said) == 1
        assert said[0].startswith(f"{writer.name} is not being read: ")
        assert said[0].endswith(" lines were not written (the journal keeps every event)")
        assert stat.S_ISCHR(os.fstat(pipe.stream.fileno()).st_mode)  # given up: /dev/null
        assert read_available(pipe.read_end).startswith(b"0 yyy")  # it took what it had room for


def test_text_after_the_session_waits_for_every_queued_line() -> None:
    with a_pipe() as pipe:
        for n in range(50):
            write_line(pipe.stream, f"line {n}\n", "")
        assert write_text(pipe.stream, "the summary")
        got = read_available(pipe.read_end).decode().splitlines()
        assert got == [f"line {n}" for n in range(50)] + ["the summary"]


def test_streams_on_the_same_pipe_share_one_writer_so_their_lines_stay_in_order() -> None:
    with a_pipe() as pipe, a_pipe() as other:
        twin = os.fdopen(os.dup(pipe.stream.fileno()), "w")  # `2>&1`: another descriptor
        shared = writer_for(pipe.stream)
        try:
            assert shared is not None
            assert writer_for(twin) is shared
            assert writer_for(QueuedStream(twin)) is shared
            assert writer_for(other.stream) not in (None, shared)
            for n in range(100):
                write_line(pipe.stream if n % 2 else twin, f"{n}\n", "")
            got = pipe.read_while(lambda: not shared.idle).decode().split()
            assert got == [str(n) for n in range(100)]
        finally:
            pipe.reader_leaves()
            assert shared is not None
            assert shared.close()
            twin.close()


def test_a_stream_in_memory_is_written_in_place() -> None:
    out = io.StringIO()
    assert writer_for(out) is None
    write_line(out, "now\n", "")
    assert out.getvalue() == "now\n"
    queued = QueuedStream(out)
    print("also now", file=queued)
    assert out.getvalue() == "now\nalso now\n"


def test_std_streams_queue_while_inside_and_are_put_back_after() -> None:
    saved = sys.stdout, sys.stderr
    with a_pipe() as pipe:
        sys.stdout = pipe.stream
        try:
            with queued_std_streams():
                assert isinstance(sys.stdout, QueuedStream)
                assert isinstance(sys.stderr, QueuedStream)
                assert sys.stdout.queued_stream is pipe.stream
                print("through the queue")
            assert sys.stdout is pipe.stream
            assert sys.stderr is saved[1]
            assert read_available(pipe.read_end) == b"through the queue\n"  # drained on leaving
        finally:
            sys.stdout, sys.stderr = saved


def test_stdout_and_stderr_into_one_file_keep_their_order(tmp_path: Path) -> None:
    """`run > log 2>&1`: both descriptors reach one file, so one writer keeps the order."""
    path = tmp_path / "log"
    with path.open("w") as first:
        second_fd = os.dup(first.fileno())
        with os.fdopen(second_fd, "w") as second:
            writer = writer_for(first)
            assert writer is not None
            assert writer_for(second) is writer
            for n in range(400):
                write_line(first if n % 2 == 0 else second, f"{n}\n", "")
            drain_outputs(limit_s=LIMIT_S)
    assert path.read_text().split() == [str(n) for n in range(400)]
