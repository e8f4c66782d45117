"""MQTT: a session's state and telemetry out, safe remote commands (`stop`, `pause`) in."""

from retrotread.channels.mqtt.bridge import MqttBridge, bridge_session
from retrotread.channels.mqtt.remote_stop import StopReport, publish_stop

__all__ = ["MqttBridge", "StopReport", "bridge_session", "publish_stop"]
