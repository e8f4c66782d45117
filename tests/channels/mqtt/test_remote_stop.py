"""`publish_stop` (behind `retrotread stop --mqtt`) against bridges on a real broker."""

from __future__ import annotations

import contextlib

import pytest

from retrotread.channels.mqtt import MqttBridge, StopReport, publish_stop
from retrotread.errors import ConnectError
from retrotread.events import SessionState
from tests.support.broker import Broker, Inbox, client_for, free_port
from tests.support.fake_session import StubSession

pytestmark = pytest.mark.mqtt


async def _online(inbox: Inbox, tid: str) -> None:
    await inbox.expect(f"retrotread/{tid}/availability", lambda p: p == "online")


async def test_stop_one_treadmill_and_report_its_acknowledgement(
    broker: Broker, tid: str, inbox: Inbox
) -> None:
    session = StubSession()
    session.belt_mph = 1.2
    async with MqttBridge(broker.config(tid), session):
        await _online(inbox, tid)
        reports = await publish_stop(broker.config("someone-else"), tid, timeout_s=5.0)
    assert reports == [StopReport(tid, "stopped", 0.0, acknowledged=True, online=True)]
    assert session.stop_sources == ["mqtt"]


async def test_the_configured_id_is_the_default_target(
    broker: Broker, tid: str, inbox: Inbox
) -> None:
    session = StubSession()
    async with MqttBridge(broker.config(tid), session):
        await _online(inbox, tid)
        reports = await publish_stop(broker.config(tid), None, timeout_s=5.0)
    assert [r.id for r in reports if r.acknowledged] == [tid]


async def test_an_already_stopped_session_still_answers(
    broker: Broker, tid: str, inbox: Inbox
) -> None:
    session = StubSession()
    session.state = SessionState.stopped
    async with MqttBridge(broker.config(tid), session):
        await _online(inbox, tid)
        (report,) = await publish_stop(broker.config(tid), tid, timeout_s=5.0)
    assert report.acknowledged
    assert report.state == "stopped"


async def test_stop_all_waits_for_every_online_treadmill(broker: Broker, tid: str) -> None:
    fleet = f"fleet-{tid}"  # a base topic of its own: no other test's treadmill is in this fleet
    config = broker.config("coach").model_copy(update={"base_topic": fleet})
    sessions = {f"belt{n}": StubSession() for n in range(3)}
    async with contextlib.AsyncExitStack() as stack:
        watcher = await stack.enter_async_context(client_for(broker))
        await watcher.subscribe(f"{fleet}/+/availability")
        for name, session in sessions.items():
            await stack.enter_async_context(
                MqttBridge(config.model_copy(update={"id": name}), session)
            )
        online: set[str] = set()
        async for message in watcher.messages:  # a stop-all only waits for those already online
            if message.payload == b"online":
                online.add(message.topic.value)
            if len(online) == len(sessions):
                break
        reports = await publish_stop(config, None, all_=True, timeout_s=5.0)
    assert [(r.id, r.state, r.acknowledged) for r in reports] == [
        (name, "stopped", True) for name in sorted(sessions)
    ]
    assert all(s.stop_sources == ["mqtt"] for s in sessions.values())


async def test_an_offline_target_returns_at_once_unacknowledged(broker: Broker, tid: str) -> None:
    reports = await publish_stop(broker.config(tid), tid, timeout_s=30.0)  # must not wait 30 s
    assert reports == [StopReport(tid, None, None, acknowledged=False, online=None)]


async def test_an_unreachable_broker_is_a_connect_error(broker: Broker, tid: str) -> None:
    config = broker.config(tid).model_copy(update={"url": f"mqtt://127.0.0.1:{free_port()}"})
    with pytest.raises(ConnectError) as caught:
        await publish_stop(config, tid, timeout_s=2.0)
    assert caught.value.exit_code == 4
