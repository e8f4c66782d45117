"""Home Assistant MQTT discovery: the config messages that make a treadmill appear unconfigured.

Sensors read the bridge's own `state` / `telemetry` / `totals` JSON with value templates: speed,
distance, heart rate and its source (so a user sees whether the strap or the console measured it),
state, and the current session's duration, backward time and energy. The energy is labelled an
estimate in its name ("Energy (estimate)", net kcal of `retrotread.energy`, never the treadmill's
own figure) and is advertised only when `user.weight_kg` is set: without a weight there is no
estimate, and an empty retained config removes a sensor left from a run that had one. One button
publishes `stop` to the command topic -- the only command Home Assistant gets, since a remote
peer may only make the belt safer. Device triggers (`device_automation`, one per type and
subtype of `triggers.py`) fire on the messages of `<base>/event`: session started, completed,
ended, and safety stop by reason, so "fan on when a session starts" needs no template. Every
entity shares the device block and the availability topic, so Home Assistant greys the treadmill
out when its controller goes away (last will); device triggers take no availability.
"""

from __future__ import annotations

import json
from importlib import metadata
from typing import Any

from retrotread.channels.mqtt.topics import HA_PREFIX, OFFLINE, ONLINE, RemoteCommand, Topics
from retrotread.channels.mqtt.triggers import TRIGGERS

STATE_OPTIONS = ("idle", "starting", "running", "paused", "stopping", "stopped", "fault")


def _optional(key: str) -> str:
    """A template that keeps the last value when the telemetry leaves the field out."""
    return f"{{{{ value_json.{key} if value_json.{key} is defined else this.state }}}}"


def _version() -> str:
    try:
        return metadata.version("retrotread")
    except metadata.PackageNotFoundError:
        return "unknown"


def discovery_messages(topics: Topics, *, energy_estimate: bool = False) -> list[tuple[str, str]]:
    """(topic, JSON payload) pairs to publish retained under `homeassistant/`; an empty payload
    removes an entity. `energy_estimate`: a weight is known, so the kcal sensor has a value."""
    node = f"retrotread_{topics.id.replace('-', '_')}"
    device = {
        "identifiers": [node],
        "name": f"Retrotread {topics.id}",
        "manufacturer": "retrotread",
        "model": "FTMS treadmill controller",
        "sw_version": _version(),
    }
    common: dict[str, Any] = {
        "availability_topic": topics.availability,
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
        "device": device,
    }
    sensors: dict[str, dict[str, Any]] = {
        "speed": {
            "name": "Speed",
            "state_topic": topics.telemetry,
            "value_template": "{{ value_json.speed_mph }}",
            "unit_of_measurement": "mph",
            "device_class": "speed",
            "state_class": "measurement",
        },
        "distance": {
            "name": "Distance",
            "state_topic": topics.telemetry,
            "value_template": _optional("distance_m"),
            "unit_of_measurement": "m",
            "device_class": "distance",
            "state_class": "total_increasing",
        },
        "heart_rate": {
            "name": "Heart rate",
            "state_topic": topics.telemetry,
            "value_template": _optional("heart_rate_bpm"),
            "unit_of_measurement": "bpm",
            "state_class": "measurement",
            "icon": "mdi:heart-pulse",
        },
        "heart_rate_source": {
            # `strap` or `treadmill`: a strap's heart rate wins over the console's, and the two
            # can differ a lot, so a reading is judged knowing its source. A plain text sensor,
            # not an enum: before the first heart rate the kept state is "unknown".
            "name": "Heart rate source",
            "state_topic": topics.telemetry,
            "value_template": _optional("heart_rate_source"),
            "icon": "mdi:heart-cog",
        },
        "session_duration": {
            "name": "Session duration",
            "state_topic": topics.totals,
            "value_template": "{{ value_json.duration_s }}",
            "unit_of_measurement": "s",
            "device_class": "duration",
            "state_class": "total_increasing",  # back to 0 at the next session: a new cycle
        },
        "backward_time": {
            "name": "Backward time",
            "state_topic": topics.totals,
            "value_template": "{{ value_json.backward_s }}",
            "unit_of_measurement": "s",
            "device_class": "duration",
            "state_class": "total_increasing",
            "icon": "mdi:walk",
        },
        "kcal": {
            "name": "Energy (estimate)",
            "state_topic": topics.totals,
            "value_template": "{{ value_json.kcal }}",
            "unit_of_measurement": "kcal",
            "device_class": "energy",
            "state_class": "total_increasing",
            "icon": "mdi:fire",
        },
        "state": {
            "name": "State",
            "state_topic": topics.state,
            "value_template": "{{ value_json.state }}",
            "device_class": "enum",
            "options": list(STATE_OPTIONS),
            "icon": "mdi:treadmill",
        },
    }
    messages = [
        (
            f"{HA_PREFIX}/sensor/{node}/{key}/config",
            json.dumps({**fields, **common, "unique_id": f"{node}_{key}"})
            if energy_estimate or key != "kcal"
            else "",
        )
        for key, fields in sensors.items()
    ]
    button = {
        "name": "Emergency stop",
        "command_topic": topics.command,
        "payload_press": RemoteCommand.stop.value,
        "icon": "mdi:stop-circle",
        "unique_id": f"{node}_emergency_stop",
        **common,
    }
    messages.append((f"{HA_PREFIX}/button/{node}/emergency_stop/config", json.dumps(button)))
    for trigger in TRIGGERS:
        config = {
            "automation_type": "trigger",
            "topic": topics.event,
            "type": trigger.type,
            "subtype": trigger.subtype,
            "value_template": trigger.value_template,
            "payload": trigger.payload,
            "device": device,
        }
        topic = f"{HA_PREFIX}/device_automation/{node}/{trigger.object_id}/config"
        messages.append((topic, json.dumps(config)))
    return messages
