"""The bridge against a real broker, with a real (small) SessionControl."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from retrotread.channels.mqtt import MqttBridge
from retrotread.events import (
    CommandEvent,
    SafetyEvent,
    SessionState,
    StoppedEvent,
    SummaryEvent,
    TelemetryEvent,
)
from tests.support.broker import Broker, Inbox, client_for, payload_json
from tests.support.fake_session import StubSession

pytestmark = pytest.mark.mqtt


def _state_is(*states: str) -> Callable[[str], bool]:
    return lambda payload: json.loads(payload)["state"] in states


async def test_availability_state_and_telemetry_arrive(
    broker: Broker, tid: str, inbox: Inbox
) -> None:
    session = StubSession()
    async with MqttBridge(broker.config(tid), session):
        await inbox.expect(f"retrotread/{tid}/availability", lambda p: p == "online")
        state = await inbox.expect(f"retrotread/{tid}/state")
        assert state.retain is False  # live copy; the broker keeps the retained one
        body = payload_json(state)
        assert body["state"] == "running"
        assert body["program"] == "first-steps"
        assert body["segment"] == "backward"
        sent = session.tick(mph=1.5)
        message = await inbox.expect(f"retrotread/{tid}/telemetry")
        assert payload_json(message) == json.loads(sent.to_json())
    offline = await inbox.expect(f"retrotread/{tid}/availability", lambda p: p == "offline")
    assert offline.retain is False


async def test_telemetry_says_which_device_measured_the_heart_rate(
    broker: Broker, tid: str, inbox: Inbox
) -> None:
    """A strap's heart rate wins over the treadmill's: the telemetry names the source, and
    leaves it out when no heart rate was measured."""
    session = StubSession()
    topic = f"retrotread/{tid}/telemetry"
    async with MqttBridge(broker.config(tid), session):
        await inbox.expect(f"retrotread/{tid}/availability", lambda p: p == "online")
        for t, bpm, source in ((1.0, 98, "strap"), (2.0, 97, "treadmill"), (3.0, None, None)):
            session.emit(
                TelemetryEvent(
                    t=t, speed_mph=1.0, speed_kmh=1.61, heart_rate_bpm=bpm, heart_rate_source=source
                )
            )
        await inbox.expect(topic, lambda p: json.loads(p)["t"] == 3.0)
    bodies = [json.loads(p) for p in inbox.on(topic)]
    assert [(b.get("heart_rate_bpm"), b.get("heart_rate_source")) for b in bodies] == [
        (98, "strap"),
        (97, "treadmill"),
        (None, None),
    ]


async def test_state_is_retained_for_late_subscribers(
    broker: Broker, tid: str, inbox: Inbox
) -> None:
    session = StubSession()
    async with MqttBridge(broker.config(tid), session):
        await inbox.expect(f"retrotread/{tid}/availability", lambda p: p == "online")
        session.state = SessionState.paused
        session.tick()
        await inbox.expect(f"retrotread/{tid}/state", _state_is("paused"))
        async with client_for(broker) as late:
            await late.subscribe(f"retrotread/{tid}/state")
            async for message in late.messages:
                assert message.retain
                assert payload_json(message)["state"] == "paused"
                break


async def test_telemetry_is_rate_limited_by_session_time(
    broker: Broker, tid: str, inbox: Inbox
) -> None:
    session = StubSession()
    async with MqttBridge(broker.config(tid, telemetry_hz=1.0), session):
        await inbox.expect(f"retrotread/{tid}/availability", lambda p: p == "online")
        start = inbox.mark()
        for _ in range(11):  # t = 0.1 ... 1.1: at 1 Hz only t=0.1 and t=1.1 may go out
            session.tick(dt=0.1)
        session.tick(dt=1.0, mph=2.0)  # t = 2.1 -> published; also the marker we wait for
        await inbox.expect(f"retrotread/{tid}/telemetry", lambda p: '"speed_mph":2.0' in p)
    times = [json.loads(p)["t"] for p in inbox.on(f"retrotread/{tid}/telemetry", start)]
    assert times == pytest.approx([0.1, 1.1, 2.1])


@pytest.mark.parametrize("payload", [b"stop", b" STOP\n", b'{"cmd": "stop"}'])
async def test_stop_on_the_command_topic_stops_the_session(
    broker: Broker, tid: str, inbox: Inbox, payload: bytes
) -> None:
    session = StubSession()
    async with MqttBridge(broker.config(tid), session), client_for(broker) as coach:
        await inbox.expect(f"retrotread/{tid}/availability", lambda p: p == "online")
        await coach.publish(f"retrotread/{tid}/command", payload, qos=1)
        await inbox.expect(f"retrotread/{tid}/state", _state_is("stopped"))
    assert session.stop_sources == ["mqtt"]
    assert session.state is SessionState.stopped


async def test_stop_on_the_fleet_topic_stops_every_bridge(broker: Broker, tid: str) -> None:
    sessions = [StubSession(), StubSession()]
    ids = [f"{tid}-a", f"{tid}-b"]
    async with (
        MqttBridge(broker.config(ids[0]), sessions[0]),
        MqttBridge(broker.config(ids[1]), sessions[1]),
        client_for(broker) as coach,
    ):
        for tid in ids:
            await coach.subscribe(f"retrotread/{tid}/availability")
        online: set[str] = set()
        async for message in coach.messages:
            if message.payload == b"online":
                online.add(message.topic.value)
            if len(online) == 2:
                break
        await coach.publish("retrotread/all/command", b"stop", qos=1)
        for session in sessions:
            await session.stopped.wait()
    assert [s.stop_sources for s in sessions] == [["mqtt"], ["mqtt"]]


async def test_unsafe_and_malformed_commands_never_reach_the_session(
    broker: Broker, tid: str, inbox: Inbox
) -> None:
    session = StubSession()
    refused = [
        b"start",
        b"resume",
        b"speed 3.0",
        b"3.0",
        b'{"cmd": "start"}',
        b'{"cmd": "set_speed", "mph": 2.5}',
        b'{"cmd": ["stop"]}',
        b"{not json",
        b"\xff\xfe\x00",
        b"",
        b"stop" * 100,
    ]
    async with MqttBridge(broker.config(tid), session) as bridge, client_for(broker) as coach:
        await inbox.expect(f"retrotread/{tid}/availability", lambda p: p == "online")
        for payload in refused:
            await coach.publish(f"retrotread/{tid}/command", payload, qos=1)
        # Same publisher, same subscription: the pause arrives after every refused payload.
        await coach.publish(f"retrotread/{tid}/command", b"pause", qos=1)
        await session.paused.wait()
        assert bridge.refused_commands == len(refused)
    assert session.stop_sources == []
    assert session.pause_sources == ["mqtt"]
    assert session.state is SessionState.paused


async def test_a_retained_command_is_ignored(broker: Broker, tid: str, inbox: Inbox) -> None:
    """A stale retained `stop` would hit every future session the moment it connects."""
    async with client_for(broker) as coach:
        await coach.publish(f"retrotread/{tid}/command", b"stop", qos=1, retain=True)
    session = StubSession()
    async with MqttBridge(broker.config(tid), session) as bridge, client_for(broker) as coach:
        await inbox.expect(f"retrotread/{tid}/availability", lambda p: p == "online")
        await coach.publish(f"retrotread/{tid}/command", b"pause", qos=1)
        await session.paused.wait()
        assert bridge.refused_commands == 1
        await coach.publish(f"retrotread/{tid}/command", b"", qos=1, retain=True)  # clear it
    assert session.stop_sources == []


async def test_totals_and_session_moments_reach_the_broker(
    broker: Broker, tid: str, inbox: Inbox
) -> None:
    """The sensors' `<base>/totals` (0 at the start, then growing) and the triggers'
    `<base>/event`: started at the first Start, a safety stop named by its reason, the end."""
    session = StubSession(session_id="s-42")
    base = f"retrotread/{tid}"
    async with MqttBridge(broker.config(tid), session, weight_kg=70.0):
        first = await inbox.expect(f"{base}/totals")
        assert payload_json(first) == {
            "session": "s-42",
            "duration_s": 0.0,
            "backward_s": 0.0,
            "kcal": 0.0,
        }
        session.emit(CommandEvent(t=0.5, op="start", result="success"))
        for _ in range(5):
            session.tick(mph=1.5)
        session.emit(SafetyEvent(t=5.5, reason="overspeed", action="stop", detail="2.5 mph"))
        session.emit(StoppedEvent(t=6.0, reason="fault", belt_mph=0.0))
        session.emit(
            SummaryEvent(
                t=6.0,
                outcome="stopped",
                duration_s=6.0,
                distance_m=3.4,
                max_speed_mph=1.5,
                session="s-42",
            )
        )
        await inbox.expect(f"{base}/event", lambda p: json.loads(p)["type"] == "ended")
    totals = [json.loads(p) for p in inbox.on(f"{base}/totals")]
    kcal = [t["kcal"] for t in totals]
    assert kcal == sorted(kcal)
    assert kcal[-1] > 0
    assert totals[-1]["duration_s"] == 6.0
    assert totals[-1]["backward_s"] == 4.0  # five samples one second apart
    moments = [json.loads(p) for p in inbox.on(f"{base}/event")]
    assert [(m["type"], m["subtype"]) for m in moments] == [
        ("started", "session"),
        ("safety_stop", "overspeed"),
        ("ended", "session"),
    ]
    assert {m["session"] for m in moments} == {"s-42"}
    assert {m["program"] for m in moments} == {"first-steps"}
    assert moments[1]["reason"] == "fault"
    assert moments[1]["detail"] == "2.5 mph"
    assert moments[2]["outcome"] == "stopped"


async def test_without_a_weight_the_totals_carry_no_energy(
    broker: Broker, tid: str, inbox: Inbox
) -> None:
    session = StubSession()
    async with MqttBridge(broker.config(tid), session):
        await inbox.expect(f"retrotread/{tid}/availability", lambda p: p == "online")
        session.tick()
        session.tick()
        message = await inbox.expect(
            f"retrotread/{tid}/totals", lambda p: json.loads(p)["duration_s"] == 2.0
        )
    assert message.retain is False  # the live copy; the broker keeps the retained one
    assert payload_json(message)["kcal"] is None
    assert payload_json(message)["backward_s"] == 1.0
