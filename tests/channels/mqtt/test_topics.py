"""Pure rules: the command vocabulary, ids, URLs. No broker needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from retrotread.channels.mqtt.connection import broker_address, topics_for
from retrotread.channels.mqtt.topics import RemoteCommand, Topics, parse_command, sanitize_id
from retrotread.config import MqttConfig
from retrotread.errors import InputError


def _config(url: str, **changes: Any) -> MqttConfig:
    fields: dict[str, Any] = {"url": url, "username": "u", "password": SecretStr("p")}
    return MqttConfig(**({"id": "belt1"} | fields | changes))


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"stop", RemoteCommand.stop),
        (b"  Stop\r\n", RemoteCommand.stop),
        (b"pause", RemoteCommand.pause),
        (b'{"cmd": "STOP"}', RemoteCommand.stop),
        (b'{"cmd": "pause", "extra": 1}', RemoteCommand.pause),
    ],
)
def test_stop_and_pause_are_accepted(payload: bytes, expected: RemoteCommand) -> None:
    assert parse_command(payload) == (expected, "")


@pytest.mark.parametrize(
    "payload",
    [
        b"start",
        b"resume",
        b"start_or_resume",
        b"speed 3.0",
        b"3.0",
        b"faster",
        b'{"cmd": "start"}',
        b'{"cmd": "resume"}',
        b'{"cmd": "set_speed", "mph": 2.0}',
        b'{"speed_mph": 2.0}',
        b'["stop"]',
        b'{"cmd": ["stop"]}',
        b"{broken",
        b"\xff\xfe",
        b"",
        b"stop pause",
        b"stop" * 100,
    ],
)
def test_everything_else_is_refused_with_a_reason(payload: bytes) -> None:
    command, reason = parse_command(payload)
    assert command is None
    assert reason


@given(st.binary(max_size=300))
def test_only_a_stop_or_pause_word_is_ever_a_command(payload: bytes) -> None:
    command, _ = parse_command(payload)
    if command is not None:
        text = payload.decode().strip()
        word = json.loads(text)["cmd"] if text.startswith("{") else text
        assert word.strip().lower() == command.value


@given(st.text(max_size=40))
def test_sanitized_ids_are_single_wildcard_free_topic_levels(raw: str) -> None:
    cleaned = sanitize_id(raw)
    assert cleaned
    assert not set(cleaned) & set("/+#")
    assert cleaned == cleaned.lower()
    assert Topics("retrotread", cleaned).id_of(f"retrotread/{cleaned}/state") == cleaned


def test_topics_follow_the_spec() -> None:
    topics = topics_for(_config("mqtt://h"), None)
    assert topics.availability == "retrotread/belt1/availability"
    assert topics.state == "retrotread/belt1/state"
    assert topics.telemetry == "retrotread/belt1/telemetry"
    assert topics.command == "retrotread/belt1/command"
    assert topics.fleet_command == "retrotread/all/command"
    assert topics_for(MqttConfig(url="mqtt://h"), None).id  # host-derived default


def test_broker_address_defaults_ports_and_unwraps_secrets() -> None:
    plain = broker_address(_config("mqtt://broker.lan", password=SecretStr("s3cret")))
    assert (plain.host, plain.port, plain.password, plain.tls) == (
        "broker.lan",
        1883,
        "s3cret",
        None,
    )
    assert "s3cret" not in plain.describe()
    secure = broker_address(_config("mqtts://broker.lan"))
    assert secure.port == 8883
    assert secure.tls is not None


@pytest.mark.parametrize(
    "url", ["http://h:1883", "mqtt://user:pw@h:1883", "mqtt://", "mqtt://h:notaport", "h:1883"]
)
def test_bad_urls_are_refused_by_the_config(url: str) -> None:
    with pytest.raises(ValueError, match="mqtt://host"):
        _config(url)


def test_an_unreadable_ca_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="ca_file"):
        broker_address(_config("mqtts://h", ca_file=tmp_path / "missing.pem"))
