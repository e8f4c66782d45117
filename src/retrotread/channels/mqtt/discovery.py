"""Home Assistant MQTT discovery: the config messages that make a treadmill appear unconfigured.

Five sensors read the bridge's own `state` / `telemetry` JSON with value templates (the heart
rate's source among them, so a user sees whether the strap or the console measured it), and one
button publishes `stop` to the command topic -- the only command Home Assistant gets, since a
remote peer may only make the belt safer. Every entity shares the device block and the
availability topic, so Home Assistant greys the treadmill out when its controller goes away
(last will).
"""

from __future__ import annotations

import json
from importlib import metadata
from typing import Any

from retrotread.channels.mqtt.topics import HA_PREFIX, OFFLINE, ONLINE, RemoteCommand, Topics

STATE_OPTIONS = ("idle", "starting", "running", "paused", "stopping", "stopped", "fault")


def _optional(key: str) -> str:
    """A template that keeps the last value when the telemetry leaves the field out."""
    return f"{{{{ value_json.{key} if value_json.{key} is defined else this.state }}}}"


def _version() -> str:
    try:
        return metadata.version("retrotread")
    except metadata.PackageNotFoundError:
        return "unknown"


def discovery_messages(topics: Topics) -> list[tuple[str, str]]:
    """(topic, JSON payload) pairs to publish retained under `homeassistant/`."""
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
            json.dumps({**fields, **common, "unique_id": f"{node}_{key}"}),
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
    return messages
