"""A flood of garbage on the command topic can neither starve a `stop` nor fill the log.

At 10,000 garbage messages/s a real `stop` published mid-flood never reached
the session (the incoming queue was full and discarding), and each refused message logged a
warning (19 MB in 45 s). Real mosquitto on 127.0.0.1, bounded flood, no sleeps.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from retrotread.channels.mqtt import MqttBridge
from retrotread.channels.mqtt.bridge import LogThrottle
from retrotread.events import SessionState
from retrotread.logs import configure_logging
from tests.support.broker import Broker, client_for, find_mosquitto
from tests.support.fake_session import StubSession

pytestmark = pytest.mark.mqtt

FLOOD_EACH = 4000  # per garbage-only publisher; two of them
STOP_AFTER = 3000  # the third publisher's garbage before and after its `stop`
GARBAGE_TOTAL = 2 * FLOOD_EACH + 2 * STOP_AFTER
GARBAGE = [b"x" * 40, b"start", b'{"cmd": "resume"}', b"\xff\xfe", b"speed 9"]
# One full warning, then one count per interval (10 s; this test takes about 2 s) and the last
# count when the bridge closes. Generous bounds: the point is "not one line per message".
MAX_REFUSAL_LINES = 4
MAX_LOG_BYTES = 8_000


async def _wait_online(broker: Broker, tid: str) -> None:
    async with client_for(broker) as watcher:
        await watcher.subscribe(f"retrotread/{tid}/availability")
        async for message in watcher.messages:
            if message.payload == b"online":
                return


async def _flood(broker: Broker, topic: str, count: int, *, stop_midway: bool = False) -> None:
    async with client_for(broker) as flooder:
        for i in range(count):
            await flooder.publish(topic, GARBAGE[i % len(GARBAGE)], qos=0)
        if not stop_midway:
            return
        await flooder.publish(topic, b"stop", qos=1)
        for i in range(count):
            await flooder.publish(topic, GARBAGE[i % len(GARBAGE)], qos=0)


@pytest.fixture
def unbounded_broker(tmp_path: Path) -> Iterator[Broker]:
    """A broker of its own that never drops messages for a slow subscriber (mosquitto drops
    beyond 1000 queued by default): every message published then reaches the bridge, so the
    count of refusals says exactly whether the bridge read them all."""
    executable = find_mosquitto()
    if executable is None:
        pytest.skip("Debian's mosquitto is not installed (scripts/test installs it as root)")
    running = Broker(tmp_path, executable, max_queued_messages=0)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def production_logging(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """The log set-up of a real session (JSON lines on stderr), undone afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    ours = logging.getLogger("retrotread")
    our_level = ours.level
    configure_logging("json", 0)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    ours.setLevel(our_level)
    structlog.reset_defaults()


@pytest.mark.usefixtures("production_logging")
async def test_a_stop_in_the_middle_of_a_garbage_flood_reaches_the_session(
    unbounded_broker: Broker, tid: str, capsys: pytest.CaptureFixture[str]
) -> None:
    broker = unbounded_broker
    session = StubSession()
    topic = f"retrotread/{tid}/command"
    async with MqttBridge(broker.config(tid), session) as bridge:
        await _wait_online(broker, tid)
        async with client_for(broker) as coach:
            # Garbage from three publishers at once; the third sends a `stop` midway.
            await asyncio.gather(
                _flood(broker, topic, FLOOD_EACH),
                _flood(broker, topic, FLOOD_EACH),
                _flood(broker, topic, STOP_AFTER, stop_midway=True),
            )
            await asyncio.wait_for(session.stopped.wait(), 10)
            # A marker after the flood: once it is handled, every garbage message was too.
            await coach.publish(topic, b"pause", qos=1)
            await asyncio.wait_for(session.paused.wait(), 10)
        refused = bridge.refused_commands
    err = capsys.readouterr().err
    assert session.stop_sources == ["mqtt"]  # one stop sent, one stop requested
    assert session.state is SessionState.stopped
    # Every garbage message was read and refused (none discarded unread from a full queue) ...
    assert refused == GARBAGE_TOTAL
    # ... and the log says so in a few lines, not one per message.
    assert len(err) < MAX_LOG_BYTES, err[:2000]
    records = [json.loads(line) for line in err.splitlines() if line.strip()]
    refusals = [r for r in records if "refused" in str(r.get("event"))]
    assert 1 <= len(refusals) <= MAX_REFUSAL_LINES
    assert refusals[0]["level"] == "warning"
    assert "reason" in refusals[0]  # the first one in full: what was wrong with it
    counted = sum(int(r.get("count", 1)) for r in refusals)  # a full line stands for one
    assert counted == refused  # the counts add up: nothing hidden, nothing double-counted


def test_log_throttle_reports_the_first_in_full_then_counts() -> None:
    throttle = LogThrottle()
    assert throttle.hit() is True  # the first of a run: log it in full
    assert [throttle.hit() for _ in range(4)] == [False] * 4  # counted, quiet
    assert throttle.flush() == 4  # end of an interval: one line with the count
    assert throttle.hit() is False  # the flood goes on: still counted
    assert throttle.flush() == 1
    assert throttle.flush() == 0  # a quiet interval closes the run ...
    assert throttle.hit() is True  # ... and the next refusal is logged in full again
