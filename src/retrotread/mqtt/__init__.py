"""MQTT: a session's state and telemetry out, safe remote commands (`stop`, `pause`) in."""

from retrotread.mqtt.bridge import MqttBridge, bridge_session
from retrotread.mqtt.connection import MqttConfigLike
from retrotread.mqtt.remote_stop import StopReport, publish_stop

__all__ = ["MqttBridge", "MqttConfigLike", "StopReport", "bridge_session", "publish_stop"]
