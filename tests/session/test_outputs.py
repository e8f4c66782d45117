"""Outputs never reach the belt's logic (SPEC "Environment and input").

Every event reaches the sinks and listeners through `Session.emit`, often from inside the
supervisor's stop procedure. A consumer that fails is detached after its first failure with one
warning, and the session runs to its normal end and exit code; the journal, when the disk refuses
it, is one such consumer. Whole sessions on the simulator, on virtual time.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import structlog

from retrotread.channels.sinks import JsonLinesSink, PlainTextSink
from retrotread.errors import SinkClosed
from retrotread.events import (
    CommandEvent,
    ConnectedEvent,
    Event,
    SegmentEvent,
    StoppedEvent,
    SummaryEvent,
    TelemetryEvent,
)
from retrotread.run import SessionAttachment
from retrotread.session.control import SessionControl
from retrotread.session.journal import read_journal
from tests.support.sessions import SHORT_PLAN, simulate, write_plan

CONNECTED = ConnectedEvent(t=0.2, device="sim", speed_range_kmh=(0.5, 20.0, 0.01), features=[])


def listening(listener: Callable[[Event], None]) -> SessionAttachment:
    """An attachment that hands every event of the session to `listener`."""

    @contextlib.asynccontextmanager
    async def attach(control: SessionControl) -> AsyncIterator[None]:
        remove = control.add_listener(listener)
        try:
            yield
        finally:
            remove()

    return attach


def warnings(logs: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str(entry["event"]) for entry in logs if entry["log_level"] == "warning"]


VIRTUAL_DEADLINE_S = 600.0
"""Virtual seconds a SHORT_PLAN session may take at most; it needs about 61."""


@contextlib.asynccontextmanager
async def watchdog(_control: SessionControl) -> AsyncIterator[None]:
    """Turn a hung session into a failure: after VIRTUAL_DEADLINE_S (virtual time, which runs as
    fast as the loop can) the loop stops and the run raises RuntimeError, where it would
    otherwise spin through virtual time for ever."""
    loop = asyncio.get_running_loop()
    timer = loop.call_later(VIRTUAL_DEADLINE_S, loop.stop)
    try:
        yield
    finally:
        timer.cancel()


def test_a_stop_whose_report_fails_still_ends_the_session(tmp_path: Path) -> None:
    """A listener fails on the acknowledged Stop's CommandEvent, which the supervisor emits from
    inside its stop procedure. Before, the guard in `Session.emit` crashed on that failure, the
    crash ended the stop procedure half-way, and the session waited in `stopping` for ever."""

    def fails_on_stop(event: Event) -> None:
        if isinstance(event, CommandEvent) and event.op == "stop":
            raise BrokenPipeError(32, "Broken pipe")

    with structlog.testing.capture_logs() as logs:
        run = simulate(
            tmp_path,
            plan_file=write_plan(tmp_path, SHORT_PLAN),
            attachments=(listening(fails_on_stop), watchdog),
        )
    assert (run.exit_code, run.stopped.reason) == (0, "completed")
    assert isinstance(run.events[-1], SummaryEvent)
    assert run.events[-1].outcome == "completed"
    assert run.journal is not None
    assert read_journal(run.journal) == run.events
    assert len(warnings(logs)) == 1


def test_a_listener_that_raises_is_detached_after_its_first_failure(tmp_path: Path) -> None:
    calls: list[Event] = []

    def broken_listener(event: Event) -> None:
        calls.append(event)
        raise RuntimeError("a bug in a listener")

    with structlog.testing.capture_logs() as logs:
        run = simulate(
            tmp_path,
            plan_file=write_plan(tmp_path, SHORT_PLAN),
            attachments=(listening(broken_listener),),
        )
    assert (run.exit_code, run.stopped.reason) == (0, "completed")
    assert len(calls) == 1
    said = warnings(logs)
    assert len(said) == 1
    assert "detached" in said[0]
    assert run.journal is not None
    assert read_journal(run.journal) == run.events


def _descriptor_of(path: Path) -> int:
    for name in os.listdir("/proc/self/fd"):
        if os.path.realpath(f"/proc/self/fd/{name}") == str(path.resolve()):
            return int(name)
    raise AssertionError(f"{path} is not open")


@contextlib.contextmanager
def _dev_full() -> Iterator[int]:
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        yield fd
    finally:
        os.close(fd)


def test_a_full_disk_loses_the_journal_not_the_session(tmp_path: Path) -> None:
    """From the first telemetry on, the journal's descriptor is /dev/full: every write of it
    fails with ENOSPC, as on a full disk. The session says so once and runs to its end."""
    sessions = tmp_path / "sessions"
    with _dev_full() as full:

        def fill_the_disk(event: Event) -> None:
            if isinstance(event, TelemetryEvent) and not filled:
                (journal,) = sessions.glob("*.jsonl")
                os.dup2(full, _descriptor_of(journal))
                filled.append(journal)

        filled: list[Path] = []
        with structlog.testing.capture_logs() as logs:
            run = simulate(
                tmp_path,
                plan_file=write_plan(tmp_path, SHORT_PLAN),
                attachments=(listening(fill_the_disk),),
            )
    assert filled
    assert (run.exit_code, run.stopped.reason) == (0, "completed")
    assert isinstance(run.events[-1], SummaryEvent)
    said = warnings(logs)
    assert len(said) == 1
    assert "cannot be written (No space left on device)" in said[0]
    assert str(filled[0]) in said[0]
    kept = read_journal(filled[0])
    first_telemetry = next(i for i, e in enumerate(run.events) if isinstance(e, TelemetryEvent))
    assert kept == run.events[: first_telemetry + 1]


class _Gone(io.StringIO):
    """A stream whose reader went away."""

    def write(self, _text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize("stream", [_Gone(), None, io.StringIO()])
def test_a_stream_sink_that_cannot_write_raises_sink_closed_naming_the_journal(
    stream: io.StringIO | None, tmp_path: Path
) -> None:
    if stream is not None and not isinstance(stream, _Gone):
        stream.close()  # a file object closed under the sink: ValueError, not OSError
    journal = tmp_path / "x.jsonl"
    with pytest.raises(SinkClosed, match=f"stdout closed: events go on in the journal {journal}"):
        JsonLinesSink(stream, journal=journal)(CONNECTED)
    with pytest.raises(SinkClosed, match="stderr closed"):
        PlainTextSink(stream)(CONNECTED)


def test_stream_sinks_still_write_one_flushed_line_per_event() -> None:
    out = io.StringIO()
    JsonLinesSink(out)(CONNECTED)
    PlainTextSink(out)(
        SegmentEvent(
            t=1.0, index=0, name="w", direction="backward", target_mph=0.5, duration_s=60.0
        )
    )
    PlainTextSink(out)(StoppedEvent(t=2.0, reason="completed", belt_mph=0.0))
    first, *rest = out.getvalue().splitlines()
    assert first == CONNECTED.to_json()
    assert rest == [
        "[00:01] segment 1: w, backward at 0.5 mph for 01:00",
        "[00:02] Program complete; the belt is stopped",
    ]
