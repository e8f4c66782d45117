"""Who may talk to the broker and what they may do: authentication, ACL, TLS."""

from __future__ import annotations

import pytest
from aiomqtt.exceptions import MqttConnectError

from retrotread.channels.mqtt import MqttBridge, publish_stop
from retrotread.errors import ConnectError
from tests.support.broker import ADMIN, VIEWER, Broker, Inbox, client_for
from tests.support.fake_session import StubSession

pytestmark = pytest.mark.mqtt


@pytest.mark.parametrize("user", [None, ("admin", "wrong"), ("nobody", "x")])
async def test_clients_without_valid_credentials_are_refused(
    broker: Broker, user: tuple[str, str] | None
) -> None:
    with pytest.raises(MqttConnectError):
        async with client_for(broker, user):
            pass


async def test_remote_stop_with_bad_credentials_is_a_connect_error(
    broker: Broker, tid: str
) -> None:
    config = broker.config(tid, user=("admin", "wrong"))
    with pytest.raises(ConnectError, match="not reachable") as caught:
        await publish_stop(config, tid, timeout_s=2.0)
    assert caught.value.exit_code == 4


async def test_a_user_without_publish_rights_cannot_stop_anything(
    broker: Broker, tid: str, inbox: Inbox
) -> None:
    session = StubSession()
    async with (
        MqttBridge(broker.config(tid), session),
        client_for(broker, VIEWER) as intruder,
        client_for(broker, ADMIN) as witness,
    ):
        await witness.subscribe(f"probe/{tid}")
        await inbox.expect(f"retrotread/{tid}/availability", lambda p: p == "online")
        mark = inbox.mark()
        await intruder.publish(f"retrotread/{tid}/command", b"stop", qos=1)
        await intruder.publish("retrotread/all/command", b"stop", qos=1)
        # The broker handles one client's packets in order: once the marker is routed, the
        # stops were dropped (ACL), not merely late.
        await intruder.publish(f"probe/{tid}", b"marker", qos=1)
        async for message in witness.messages:
            assert message.payload == b"marker"
            break
        assert inbox.on(f"retrotread/{tid}/command", mark) == []
        assert inbox.on("retrotread/all/command", mark) == []
    assert session.stop_sources == []


async def test_remote_stop_by_a_viewer_is_not_acknowledged(broker: Broker, tid: str) -> None:
    session = StubSession()
    async with MqttBridge(broker.config(tid), session), client_for(broker) as watcher:
        await watcher.subscribe(f"retrotread/{tid}/availability")
        async for message in watcher.messages:
            if message.payload == b"online":
                break
        reports = await publish_stop(broker.config(tid, user=VIEWER), tid, timeout_s=0.5)
    assert [(r.id, r.online, r.acknowledged) for r in reports] == [(tid, True, False)]
    assert session.stop_sources == []


async def test_tls_with_the_test_ca(broker: Broker, tid: str, inbox: Inbox) -> None:
    session = StubSession()
    async with MqttBridge(broker.config(tid, tls=True), session):
        await inbox.expect(f"retrotread/{tid}/availability", lambda p: p == "online")
        reports = await publish_stop(broker.config(tid, tls=True), tid, timeout_s=5.0)
    assert [(r.id, r.state, r.acknowledged) for r in reports] == [(tid, "stopped", True)]
    assert session.stop_sources == ["mqtt"]


async def test_tls_refuses_a_server_the_ca_does_not_vouch_for(broker: Broker, tid: str) -> None:
    untrusting = broker.config(tid, tls=True).model_copy(update={"ca_file": None})  # system CAs
    with pytest.raises(ConnectError):
        await publish_stop(untrusting, tid, timeout_s=2.0)
