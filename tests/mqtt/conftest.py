"""Fixtures for the MQTT tests: a real Mosquitto broker and a subscriber to watch what it carries.

The broker is shared per test session (per xdist worker); tests stay independent by using their
own treadmill id (`tid`), hence their own topics. Tests that kill the broker use `private_broker`.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from tests.mqtt.broker import ADMIN, HOST, Broker, find_mosquitto


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


class Inbox:
    """Everything a subscriber received, and a way to wait for one message without sleeping."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.received: list[aiomqtt.Message] = []
        self._arrived = asyncio.Event()

    async def pump(self) -> None:
        async for message in self.client.messages:
            self.received.append(message)
            self._arrived.set()

    def mark(self) -> int:
        return len(self.received)

    def on(self, topic: str, since: int = 0) -> list[str]:
        return [_text(m) for m in self.received[since:] if m.topic.value == topic]

    async def expect(
        self,
        topic: str,
        match: Callable[[str], bool] = lambda _payload: True,
        *,
        since: int = 0,
        within_s: float = 5.0,
    ) -> aiomqtt.Message:
        async with asyncio.timeout(within_s):
            index = since
            while True:
                for message in self.received[index:]:
                    if message.topic.value == topic and match(_text(message)):
                        return message
                index = len(self.received)
                self._arrived.clear()
                await self._arrived.wait()


def payload_json(message: aiomqtt.Message) -> Any:
    return json.loads(_text(message))


def _text(message: aiomqtt.Message) -> str:
    payload = message.payload
    return payload.decode() if isinstance(payload, bytes) else str(payload)


def client_for(broker: Broker, user: tuple[str, str] | None = ADMIN) -> aiomqtt.Client:
    return aiomqtt.Client(
        HOST,
        broker.port,
        username=user[0] if user else None,
        password=user[1] if user else None,
        identifier=f"test-{uuid.uuid4().hex[:8]}",
        timeout=5,
    )


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
