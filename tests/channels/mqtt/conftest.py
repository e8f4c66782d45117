"""Fixtures for the MQTT tests: a real Mosquitto broker and a subscriber to watch what it carries.

The broker is shared per test session (per xdist worker); tests stay independent by using their
own treadmill id (`tid`), hence their own topics. Tests that kill the broker use `private_broker`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.broker import Broker, Inbox, client_for, find_mosquitto


def _mosquitto() -> str:
    executable = find_mosquitto()
    if executable is None:
        pytest.skip("Debian's mosquitto is not installed (scripts/test installs it as root)")
    return executable


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    running = Broker(tmp_path_factory.mktemp("mosquitto"), _mosquitto())
    running.start()
    yield running
    running.stop()


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[Broker]:
    """A broker of its own for a test that kills or restarts it."""
    running = Broker(tmp_path, _mosquitto())
    running.start()
    yield running
    running.stop()


@pytest.fixture
def tid() -> str:
    """A treadmill id no other test uses: its topics are this test's alone."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def inbox(broker: Broker, tid: str) -> AsyncIterator[Inbox]:
    """An admin subscriber to this test's topics, the fleet topic and its discovery messages."""
    async with client_for(broker) as client:
        box = Inbox(client)
        await client.subscribe(
            [
                (f"retrotread/{tid}/#", 1),
                ("retrotread/all/command", 1),
                (f"homeassistant/+/retrotread_{tid}/#", 1),
            ]
        )
        pump = asyncio.create_task(box.pump())
        yield box
        pump.cancel()
