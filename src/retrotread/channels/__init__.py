"""Every way in and out of a running session: the control socket, MQTT, cues and the sinks."""
