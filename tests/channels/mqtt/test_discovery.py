"""Home Assistant discovery: payload shape; published, retained and re-published on a broker."""

from __future__ import annotations

import json

import pytest

from retrotread.channels.mqtt import MqttBridge
from retrotread.channels.mqtt.discovery import STATE_OPTIONS, discovery_messages
from retrotread.channels.mqtt.topics import Topics
from tests.support.broker import Broker, Inbox, client_for, payload_json
from tests.support.fake_session import StubSession

TOPICS = Topics("retrotread", "belt-1")


def _by_component() -> dict[str, dict[str, object]]:
    return {topic: json.loads(payload) for topic, payload in discovery_messages(TOPICS)}


def test_discovery_topics_follow_the_home_assistant_layout() -> None:
    for topic in _by_component():
        prefix, component, node, object_id, leaf = topic.split("/")
        assert (prefix, leaf) == ("homeassistant", "config")
        assert component in {"sensor", "button"}
        assert node == "retrotread_belt_1"
        assert object_id.replace("_", "").isalnum()


def test_every_entity_has_the_keys_home_assistant_needs() -> None:
    payloads = list(_by_component().values())
    unique_ids = [p["unique_id"] for p in payloads]
    assert len(set(unique_ids)) == len(unique_ids) == 6
    for payload in payloads:
        assert payload["name"]
        assert payload["availability_topic"] == TOPICS.availability
        assert (payload["payload_available"], payload["payload_not_available"]) == (
            "online",
            "offline",
        )
        device = payload["device"]
        assert isinstance(device, dict)
        assert device["identifiers"] == ["retrotread_belt_1"]
        assert device["name"]


def test_sensors_cover_speed_distance_heart_rate_its_source_and_state() -> None:
    sensors = {
        topic.split("/")[3]: payload
        for topic, payload in _by_component().items()
        if topic.startswith("homeassistant/sensor/")
    }
    assert set(sensors) == {"speed", "distance", "heart_rate", "heart_rate_source", "state"}
    assert sensors["speed"]["state_topic"] == TOPICS.telemetry
    assert sensors["speed"]["unit_of_measurement"] == "mph"
    assert "speed_mph" in str(sensors["speed"]["value_template"])
    assert "distance_m" in str(sensors["distance"]["value_template"])
    assert "heart_rate_bpm" in str(sensors["heart_rate"]["value_template"])
    source = sensors["heart_rate_source"]
    assert source["state_topic"] == TOPICS.telemetry
    assert "value_json.heart_rate_source" in str(source["value_template"])
    # Not an enum: the value kept before the first heart rate ("unknown") is no option of it.
    assert "device_class" not in source
    assert "unit_of_measurement" not in source
    assert sensors["state"]["state_topic"] == TOPICS.state
    assert sensors["state"]["options"] == list(STATE_OPTIONS)


def test_the_button_is_an_emergency_stop_and_nothing_else() -> None:
    (button,) = [p for t, p in _by_component().items() if t.startswith("homeassistant/button/")]
    assert button["command_topic"] == TOPICS.command
    assert button["payload_press"] == "stop"


@pytest.mark.mqtt
async def test_discovery_is_retained_and_republished_when_home_assistant_comes_online(
    broker: Broker, tid: str, inbox: Inbox
) -> None:
    button_topic = f"homeassistant/button/retrotread_{tid}/emergency_stop/config"
    async with MqttBridge(broker.config(tid), StubSession()), client_for(broker) as hass:
        first = await inbox.expect(button_topic)
        assert payload_json(first)["command_topic"] == f"retrotread/{tid}/command"
        mark = inbox.mark()
        await hass.publish("homeassistant/status", b"online", qos=1)
        again = await inbox.expect(button_topic, since=mark)
        assert again.payload == first.payload
        async with client_for(broker) as late:  # a Home Assistant started later sees it retained
            await late.subscribe(button_topic)
            async for message in late.messages:
                assert message.retain
                break


@pytest.mark.mqtt
async def test_the_heart_rate_source_sensor_is_published_on_the_broker(
    broker: Broker, tid: str, inbox: Inbox
) -> None:
    topic = f"homeassistant/sensor/retrotread_{tid}/heart_rate_source/config"
    async with MqttBridge(broker.config(tid), StubSession()):
        message = await inbox.expect(topic)
    config = payload_json(message)
    assert config["state_topic"] == f"retrotread/{tid}/telemetry"
    assert config["unique_id"] == f"retrotread_{tid}_heart_rate_source"
    assert config["name"] == "Heart rate source"


@pytest.mark.mqtt
async def test_discovery_can_be_switched_off(broker: Broker, tid: str, inbox: Inbox) -> None:
    async with MqttBridge(broker.config(tid, discovery=False), StubSession()):
        await inbox.expect(f"retrotread/{tid}/state")
    assert not [m for m in inbox.received if m.topic.value.startswith("homeassistant/")]
