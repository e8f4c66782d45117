"""Home Assistant discovery: payload shape; published, retained and re-published on a broker."""

from __future__ import annotations

import json

import pytest

from retrotread.channels.mqtt import MqttBridge
from retrotread.channels.mqtt.discovery import STATE_OPTIONS, discovery_messages
from retrotread.channels.mqtt.topics import Topics
from retrotread.channels.mqtt.triggers import SAFETY_SUBTYPES, TRIGGERS
from tests.support.broker import Broker, Inbox, client_for, payload_json
from tests.support.fake_session import StubSession

TOPICS = Topics("retrotread", "belt-1")


def _by_component(*, energy_estimate: bool = True) -> dict[str, dict[str, object]]:
    return {
        topic: json.loads(payload)
        for topic, payload in discovery_messages(TOPICS, energy_estimate=energy_estimate)
        if payload
    }


def _entities() -> dict[str, dict[str, object]]:
    return {t: p for t, p in _by_component().items() if "/device_automation/" not in t}


def _triggers() -> dict[str, dict[str, object]]:
    return {t: p for t, p in _by_component().items() if "/device_automation/" in t}


def test_discovery_topics_follow_the_home_assistant_layout() -> None:
    for topic in _by_component():
        prefix, component, node, object_id, leaf = topic.split("/")
        assert (prefix, leaf) == ("homeassistant", "config")
        assert component in {"sensor", "button", "device_automation"}
        assert node == "retrotread_belt_1"
        assert object_id.replace("_", "").isalnum()


def test_every_entity_has_the_keys_home_assistant_needs() -> None:
    payloads = list(_entities().values())
    unique_ids = [p["unique_id"] for p in payloads]
    assert len(set(unique_ids)) == len(unique_ids) == 9
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
    assert set(sensors) == {
        "speed",
        "distance",
        "heart_rate",
        "heart_rate_source",
        "state",
        "session_duration",
        "backward_time",
        "kcal",
    }
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


def _sensor(key: str, *, energy_estimate: bool = True) -> dict[str, object]:
    return _by_component(energy_estimate=energy_estimate)[
        f"homeassistant/sensor/retrotread_belt_1/{key}/config"
    ]


def test_the_energy_sensor_is_an_estimate_in_kcal_that_only_grows_in_a_session() -> None:
    kcal = _sensor("kcal")
    assert kcal["name"] == "Energy (estimate)"
    assert (kcal["device_class"], kcal["unit_of_measurement"]) == ("energy", "kcal")
    assert kcal["state_class"] == "total_increasing"
    assert kcal["state_topic"] == TOPICS.totals
    assert kcal["value_template"] == "{{ value_json.kcal }}"


def test_without_a_weight_the_energy_sensor_is_removed_not_advertised() -> None:
    messages = dict(discovery_messages(TOPICS, energy_estimate=False))
    assert messages["homeassistant/sensor/retrotread_belt_1/kcal/config"] == ""  # removes it
    assert [t for t, p in messages.items() if p == ""] == [
        "homeassistant/sensor/retrotread_belt_1/kcal/config"
    ]


@pytest.mark.parametrize(("key", "field"), [("session_duration", "duration_s"),
                                            ("backward_time", "backward_s")])  # fmt: skip
def test_duration_sensors_are_seconds_of_the_current_session(key: str, field: str) -> None:
    sensor = _sensor(key, energy_estimate=False)
    assert (sensor["device_class"], sensor["unit_of_measurement"]) == ("duration", "s")
    assert sensor["state_topic"] == TOPICS.totals
    assert sensor["value_template"] == f"{{{{ value_json.{field} }}}}"
    assert sensor["state_class"] == "total_increasing"


def test_device_triggers_cover_start_completion_end_and_each_safety_stop() -> None:
    triggers = _triggers()
    pairs = {(p["type"], p["subtype"]) for p in triggers.values()}
    assert {("started", "session"), ("completed", "session"), ("ended", "session")} <= pairs
    assert {("safety_stop", reason) for reason in (*SAFETY_SUBTYPES, "any")} <= pairs
    assert {"estop", "safety_key", "console_stop", "overspeed", "fault"} <= {
        subtype for kind, subtype in pairs if kind == "safety_stop"
    }
    assert len(triggers) == len(pairs) == len(TRIGGERS)
    for topic, config in triggers.items():
        assert config["automation_type"] == "trigger"
        assert config["topic"] == TOPICS.event
        assert isinstance(config["payload"], str)
        assert config["payload"]
        assert isinstance(config["value_template"], str)
        assert config["value_template"]
        device = config["device"]
        assert isinstance(device, dict)
        assert device["identifiers"] == ["retrotread_belt_1"]  # the same device as the sensors
        assert topic.startswith("homeassistant/device_automation/retrotread_belt_1/")


def test_the_started_trigger_matches_the_started_message() -> None:
    started = _triggers()["homeassistant/device_automation/retrotread_belt_1/started/config"]
    assert started["value_template"] == "{{ value_json.type }} {{ value_json.subtype }}"
    assert started["payload"] == "started session"
    anything = _triggers()[
        "homeassistant/device_automation/retrotread_belt_1/safety_stop_any/config"
    ]
    assert (anything["value_template"], anything["payload"]) == (
        "{{ value_json.type }}",
        "safety_stop",
    )


@pytest.mark.mqtt
async def test_sensors_and_triggers_are_retained_on_the_broker(
    broker: Broker, tid: str, inbox: Inbox
) -> None:
    node = f"retrotread_{tid}"
    kcal_topic = f"homeassistant/sensor/{node}/kcal/config"
    trigger_topic = f"homeassistant/device_automation/{node}/safety_stop_overspeed/config"
    async with MqttBridge(broker.config(tid), StubSession(), weight_kg=70.0):
        kcal = await inbox.expect(kcal_topic)
        await inbox.expect(trigger_topic)
    assert payload_json(kcal)["unique_id"] == f"{node}_kcal"
    async with client_for(broker) as late:  # a Home Assistant started later sees them retained
        await late.subscribe([(kcal_topic, 1), (trigger_topic, 1)])
        seen: dict[str, object] = {}
        async for message in late.messages:
            assert message.retain
            seen[message.topic.value] = payload_json(message)
            if len(seen) == 2:
                break
    trigger = seen[trigger_topic]
    assert isinstance(trigger, dict)
    assert (trigger["type"], trigger["subtype"]) == ("safety_stop", "overspeed")
    assert trigger["topic"] == f"retrotread/{tid}/event"


@pytest.mark.mqtt
async def test_a_run_without_a_weight_clears_a_retained_energy_sensor(
    broker: Broker, tid: str, inbox: Inbox
) -> None:
    topic = f"homeassistant/sensor/retrotread_{tid}/kcal/config"
    async with MqttBridge(broker.config(tid), StubSession(), weight_kg=70.0):
        await inbox.expect(topic, lambda p: p != "")
    mark = inbox.mark()
    async with MqttBridge(broker.config(tid), StubSession()):
        await inbox.expect(topic, lambda p: p == "", since=mark)
    async with client_for(broker) as late:  # nothing retained any more: the sensor is gone
        await late.subscribe([(topic, 1), (f"retrotread/{tid}/availability", 1)])
        async for message in late.messages:
            assert message.topic.value != topic
            break
