"""From the `[mqtt]` config to the arguments of an `aiomqtt.Client`: URL, credentials, TLS.

Secrets only ever come from the config object (file or environment); nothing here reads argv.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from pydantic import SecretStr

from retrotread.channels.mqtt.topics import Topics, default_id, sanitize_id
from retrotread.errors import InputError

_DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


class MqttConfigLike(Protocol):
    """What the bridge reads from the `[mqtt]` config section (SPEC.md); read-only."""

    @property
    def url(self) -> str: ...
    @property
    def username(self) -> str | None: ...
    @property
    def password(self) -> SecretStr | str | None: ...
    @property
    def ca_file(self) -> Path | str | None: ...
    @property
    def id(self) -> str | None: ...
    @property
    def telemetry_hz(self) -> float: ...
    @property
    def discovery(self) -> bool: ...
    @property
    def base_topic(self) -> str: ...


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


def broker_address(config: MqttConfigLike) -> BrokerAddress:
    """Validate the URL and build the TLS context; InputError (exit 2) names what is wrong."""
    parts = urlsplit(config.url.strip())
    if parts.scheme not in _DEFAULT_PORTS:
        raise InputError(f"mqtt.url must start with mqtt:// or mqtts://, got {config.url!r}")
    if parts.username is not None or parts.password is not None:
        raise InputError("mqtt.url must not carry credentials: set mqtt.username / mqtt.password")
    if not parts.hostname:
        raise InputError(f"mqtt.url has no host: {config.url!r}")
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError as err:
        raise InputError(f"mqtt.url has a bad port: {config.url!r}") from err
    tls = _tls_context(config.ca_file) if parts.scheme == "mqtts" else None
    password = config.password
    if isinstance(password, SecretStr):
        password = password.get_secret_value()
    return BrokerAddress(parts.hostname, port, config.username or None, password, tls)


def topics_for(config: MqttConfigLike, target_id: str | None = None) -> Topics:
    """Topics of `target_id`, else of the configured id, else of this host."""
    raw_id = target_id or config.id
    return Topics(config.base_topic.strip("/"), sanitize_id(raw_id) if raw_id else default_id())


def _tls_context(ca_file: Path | str | None) -> ssl.SSLContext:
    if ca_file is None:
        return ssl.create_default_context()
    path = Path(ca_file).expanduser()
    try:
        return ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as err:
        raise InputError(f"mqtt.ca_file {str(path)!r} is not a readable CA file: {err}") from err
