"""A broker that is down, dies or comes back never delays the session; the bridge reconnects."""

from __future__ import annotations

import asyncio

import pytest
import structlog

from retrotread.channels.mqtt import MqttBridge
from retrotread.events import SessionState, TelemetryEvent
from retrotread.session.control import SessionStatus
from tests.support.broker import Broker, client_for, payload_json
from tests.support.fake_session import StubSession

pytestmark = pytest.mark.mqtt


async def _wait_online(broker: Broker, tid: str) -> None:
    async with client_for(broker) as watcher:
        await watcher.subscribe(f"retrotread/{tid}/availability")
        async for message in watcher.messages:
            if message.payload == b"online":
                return


async def test_a_broker_down_at_start_delays_nothing(private_broker: Broker, tid: str) -> None:
    private_broker.stop()
    session = StubSession()
    bridge = MqttBridge(private_broker.config(tid), session, backoff_initial=0.05, backoff_max=0.2)
    async with bridge:
        for _ in range(500):  # the listener only queues: the deque stays bounded, oldest dropped
            session.tick()
        assert bridge.connections == 0
        assert bridge.telemetry_dropped > 0
        await asyncio.to_thread(private_broker.start)
        await _wait_online(private_broker, tid)
        async with client_for(private_broker) as coach:
            await coach.publish(f"retrotread/{tid}/command", b"stop", qos=1)
            await asyncio.wait_for(session.stopped.wait(), 5)
    assert session.stop_sources == ["mqtt"]


async def test_broker_killed_mid_session_then_back_reconnects_and_resubscribes(
    private_broker: Broker, tid: str
) -> None:
    session = StubSession()
    bridge = MqttBridge(private_broker.config(tid), session, backoff_initial=0.05, backoff_max=0.2)
    async with bridge:
        await _wait_online(private_broker, tid)
        private_broker.kill()
        for _ in range(20):  # the session goes on while the broker is gone
            session.tick()
        assert session.state is SessionState.running
        await asyncio.to_thread(private_broker.start)  # no persistence: nothing retained survives
        await _wait_online(private_broker, tid)  # so this `online` is the reconnected bridge's
        assert bridge.connections == 2
        async with client_for(private_broker) as coach:
            await coach.publish(f"retrotread/{tid}/command", b"stop", qos=1)
            await asyncio.wait_for(session.stopped.wait(), 5)
    assert session.stop_sources == ["mqtt"]


async def test_leaving_is_bounded_when_the_broker_never_came(
    private_broker: Broker, tid: str
) -> None:
    private_broker.stop()
    session = StubSession()
    bridge = MqttBridge(private_broker.config(tid), session, shutdown_timeout=0.5)
    async with asyncio.timeout(5):  # leaving waits for no broker
        async with bridge:
            session.tick()
            session.request_stop("local")
    assert bridge.connections == 0


class _BrokenStatus(StubSession):
    def status(self) -> SessionStatus:
        raise RuntimeError("status is broken")


async def test_a_failing_status_never_reaches_the_engine(broker: Broker, tid: str) -> None:
    session = _BrokenStatus()
    async with MqttBridge(broker.config(tid), session), client_for(broker) as coach:
        await coach.subscribe(f"retrotread/{tid}/telemetry")
        session.tick(mph=1.25)  # the listener swallows the status error; telemetry still flows
        async for message in coach.messages:
            assert payload_json(message)["speed_mph"] == 1.25
            break
        await coach.publish(f"retrotread/{tid}/command", b"stop", qos=1)
        await asyncio.wait_for(session.stopped.wait(), 5)
    assert session.stop_sources == ["mqtt"]


class _UnserialisableTelemetry(TelemetryEvent):
    """A reading the bridge cannot turn into JSON: its listener raises inside its guard."""

    def to_json(self) -> str:
        raise ValueError("cannot serialise this reading")


async def test_a_failing_listener_is_isolated_by_its_guard(broker: Broker, tid: str) -> None:
    """The guard once logged with `event=...`, which structlog's own first parameter
    (`event`) refuses with a TypeError, so the guard raised into the session's emit instead."""
    session = StubSession()
    bad = _UnserialisableTelemetry(t=1.0, speed_mph=1.0, speed_kmh=1.61)
    with structlog.testing.capture_logs() as logged:
        async with MqttBridge(broker.config(tid), session), client_for(broker) as coach:
            session.emit(bad)  # must return normally: nothing reaches the engine
            assert session.state is SessionState.running
            session.tick(mph=1.5)  # and the bridge still works afterwards
            await _wait_online(broker, tid)
            await coach.publish(f"retrotread/{tid}/command", b"stop", qos=1)
            await asyncio.wait_for(session.stopped.wait(), 5)
    failures = [e for e in logged if e["event"] == "mqtt listener failed (ignored)"]
    assert len(failures) == 1
    assert failures[0]["event_name"] == "_UnserialisableTelemetry"
    assert failures[0]["log_level"] == "error"
    assert session.stop_sources == ["mqtt"]
