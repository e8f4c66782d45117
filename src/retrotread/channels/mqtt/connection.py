"""From the `[mqtt]` config to the arguments of an `aiomqtt.Client`: URL, credentials, TLS.

Secrets only ever come from the config object (file or environment); nothing here reads argv.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from retrotread.channels.mqtt.topics import Topics, sanitize_id
from retrotread.config import MqttConfig
from retrotread.errors import InputError


@dataclass(frozen=True)
class BrokerAddress:
    """Where and how to connect; `describe()` is safe to log (no secret)."""

    host: str
    port: int
    username: str | None
    password: str | None
    tls: ssl.SSLContext | None

    def describe(self) -> str:
        scheme = "mqtts" if self.tls else "mqtt"
        return f"{scheme}://{self.host}:{self.port}"


def broker_address(config: MqttConfig) -> BrokerAddress:
    """Where the validated `[mqtt]` config points, with its TLS context; InputError (exit 2)
    for a CA file that cannot be read. The URL itself was checked once, by the config."""
    tls = _tls_context(config.ca_file) if config.tls else None
    password = config.password.get_secret_value() if config.password is not None else None
    return BrokerAddress(config.host, config.port, config.username or None, password, tls)


def topics_for(config: MqttConfig, target_id: str | None = None) -> Topics:
    """Topics of `target_id` (`stop --mqtt --id`), else of the configured id."""
    return Topics(config.base_topic.strip("/"), sanitize_id(target_id) if target_id else config.id)


def _tls_context(ca_file: Path | str | None) -> ssl.SSLContext:
    if ca_file is None:
        return ssl.create_default_context()
    path = Path(ca_file).expanduser()
    try:
        return ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as err:
        raise InputError(f"mqtt.ca_file {str(path)!r} is not a readable CA file: {err}") from err
