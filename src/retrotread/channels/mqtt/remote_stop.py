"""`retrotread stop --mqtt`: publish a stop and report the states that acknowledge it.

How acknowledgements are told from history: we subscribe to the targets' `state` and
`availability` before publishing. The broker sends retained messages (flag set) right after the
SUBACK and before it handles our PUBLISH, so once our QoS-1 stop is acknowledged the retained
picture (who is online, what state each is in) is complete; every later message without the retain
flag is live. A live `stopping` / `stopped` / `fault` is an acknowledgement (a bridge re-publishes
its state on every remote stop, so an already stopped session answers too).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import aiomqtt

from retrotread.channels.mqtt.connection import broker_address, topics_for
from retrotread.channels.mqtt.topics import ACK_STATES, FINAL_STATES, OFFLINE, ONLINE, RemoteCommand
from retrotread.config import MqttConfig
from retrotread.errors import ConnectError


@dataclass(frozen=True)
class StopReport:
    """What one treadmill answered: its last state, the belt speed it saw, and whether it acked."""

    id: str
    state: str | None
    belt_mph: float | None
    acknowledged: bool
    online: bool | None


@dataclass
class _Target:
    online: bool | None = None
    state: str | None = None
    belt_mph: float | None = None
    acknowledged: bool = False
    gone: bool = False

    @property
    def settled(self) -> bool:
        return self.gone or (self.acknowledged and self.state in FINAL_STATES)


async def publish_stop(
    config: MqttConfig,
    target_id: str | None = None,
    all_: bool = False,
    timeout_s: float = 5.0,
) -> list[StopReport]:
    """Publish `stop` to one treadmill (default: the configured id) or the fleet and wait, at most
    `timeout_s` seconds, until every online target reached stopped/fault. ConnectError (exit 4) when
    the broker cannot be reached or refuses us."""
    address = broker_address(config)
    topics = topics_for(config, target_id)
    client = aiomqtt.Client(
        address.host,
        address.port,
        username=address.username,
        password=address.password,
        identifier=f"retrotread-stop-{secrets.token_hex(4)}",
        tls_context=address.tls,
        timeout=timeout_s,
    )
    filters = (
        [(topics.all_state, 1), (topics.all_availability, 1)]
        if all_
        else [(topics.state, 1), (topics.availability, 1)]
    )
    command_topic = topics.fleet_command if all_ else topics.command
    targets: dict[str, _Target] = {} if all_ else {topics.id: _Target()}
    try:
        async with client:
            await client.subscribe(filters)
            await client.publish(command_topic, RemoteCommand.stop.value, qos=1)
            await _watch(client, topics.id_of, targets, only_known=not all_, wait_s=timeout_s)
    except aiomqtt.MqttError as err:
        raise ConnectError(f"MQTT broker {address.describe()} not reachable: {err}") from err
    return [
        StopReport(name, t.state, t.belt_mph, t.acknowledged, t.online)
        for name, t in sorted(targets.items())
        if not all_ or t.online or t.acknowledged
    ]


async def _watch(
    client: aiomqtt.Client,
    id_of: Callable[[str], str | None],
    targets: dict[str, _Target],
    *,
    only_known: bool,
    wait_s: float,
) -> None:
    messages = client.messages
    # Retained history already queued before our PUBACK: take it without waiting.
    while len(messages):
        _record(await messages.__anext__(), id_of, targets, only_known=only_known)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while not _all_settled(targets):
        remaining = deadline - loop.time()
        if remaining <= 0:
            return
        try:
            message = await asyncio.wait_for(messages.__anext__(), remaining)
        except TimeoutError:
            return
        _record(message, id_of, targets, only_known=only_known)


def _all_settled(targets: dict[str, _Target]) -> bool:
    waiting = [t for t in targets.values() if t.online or t.acknowledged]
    return all(t.settled for t in waiting)


def _record(
    message: aiomqtt.Message,
    id_of: Callable[[str], str | None],
    targets: dict[str, _Target],
    *,
    only_known: bool,
) -> None:
    topic = message.topic.value
    name = id_of(topic)
    if name is None or (only_known and name not in targets):
        return
    target = targets.setdefault(name, _Target())
    payload = message.payload
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
    if topic.endswith("/availability"):
        if message.retain:
            target.online = text == ONLINE
        elif text == OFFLINE and target.online:
            target.gone = True
        return
    try:
        state = json.loads(text)
    except ValueError:
        return
    if not isinstance(state, dict):
        return
    target.state = str(state.get("state"))
    belt = state.get("belt_mph")
    target.belt_mph = float(belt) if isinstance(belt, int | float) else target.belt_mph
    if not message.retain and target.state in ACK_STATES:
        target.acknowledged = True
