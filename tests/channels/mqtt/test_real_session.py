"""Real sessions: `retrotread run --sim --mqtt` processes, and `retrotread stop --mqtt` on them.

Broker settings and secrets reach the processes through the environment, never argv."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from retrotread.channels.mqtt import publish_stop
from retrotread.config import MqttConfig
from tests.support.broker import Broker, Inbox, client_for, free_port, payload_json

pytestmark = [pytest.mark.mqtt, pytest.mark.e2e]
_RUNTIME_DIRS: list[Path] = []


@pytest.fixture(autouse=True)
def _remove_runtime_dirs() -> Iterator[None]:
    yield
    while _RUNTIME_DIRS:
        shutil.rmtree(_RUNTIME_DIRS.pop(), ignore_errors=True)
RETROTREAD = str(Path(sys.executable).with_name("retrotread"))
TIME_SCALE = "50"  # virtual seconds per real second: fast, yet real I/O still reaches the session


def _env(config: MqttConfig, tmp_path: Path, name: str) -> dict[str, str]:
    """A private environment; each process gets its own runtime dir, so `retrotread stop` finds
    no local session and must go through the broker. The runtime dir is short (`mkdtemp` in the
    system temp dir): under pytest's deep tmp_path a socket path would not fit, and retrotread
    would fall back to the per-uid temp dir that every process shares."""
    runtime = Path(tempfile.mkdtemp(prefix=f"rt-{name}-"))
    _RUNTIME_DIRS.append(runtime)
    return {
        **os.environ,
        "RETROTREAD_MQTT__URL": config.url,
        "RETROTREAD_MQTT__USERNAME": config.username or "",
        "RETROTREAD_MQTT__PASSWORD": config.password.get_secret_value() if config.password else "",
        "RETROTREAD_MQTT__ID": config.id or "",
        "RETROTREAD_MQTT__BASE_TOPIC": config.base_topic,
        "RETROTREAD_DATA_DIR": str(tmp_path / "data"),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }


@asynccontextmanager
async def session_process(
    config: MqttConfig, tmp_path: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        *(RETROTREAD, "run", "--sim", "--mqtt", "--time-scale", TIME_SCALE),
        env=_env(config, tmp_path, "session"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


def _state(*states: str) -> Callable[[str], bool]:
    return lambda payload: json.loads(payload)["state"] in states


async def test_stop_on_the_command_topic_ends_a_real_session_with_exit_3(
    broker: Broker, tid: str, inbox: Inbox, tmp_path: Path
) -> None:
    base = f"retrotread/{tid}"
    async with (
        session_process(broker.config(tid), tmp_path) as process,
        client_for(broker) as coach,
    ):
        running = await inbox.expect(f"{base}/state", _state("running"), within_s=30)
        assert payload_json(running)["program"] == "first-steps"
        telemetry = await inbox.expect(f"{base}/telemetry", within_s=30)
        assert {"t", "speed_mph", "speed_kmh"} <= set(payload_json(telemetry))
        for refused in (b"start", b"resume", b'{"cmd": "set_speed", "mph": 3}', b"\x00garbage"):
            await coach.publish(f"{base}/command", refused, qos=1)
        await coach.publish(f"{base}/command", b"stop", qos=1)
        assert await asyncio.wait_for(process.wait(), 30) == 3
    await inbox.expect(f"{base}/state", _state("stopped"))
    await inbox.expect(f"{base}/availability", lambda p: p == "offline")


async def test_stop_on_the_fleet_topic_ends_a_real_session_with_exit_3(
    broker: Broker, tid: str, tmp_path: Path
) -> None:
    fleet = f"fleet-{tid}"
    config = broker.config(tid).model_copy(update={"base_topic": fleet})
    async with session_process(config, tmp_path) as process, client_for(broker) as coach:
        await coach.subscribe(f"{fleet}/{tid}/state")
        async for message in coach.messages:
            if payload_json(message)["state"] == "running":
                break
        await coach.publish(f"{fleet}/all/command", b"stop", qos=1)
        assert await asyncio.wait_for(process.wait(), 30) == 3


async def test_remote_stop_reports_a_real_sessions_acknowledgement(
    broker: Broker, tid: str, inbox: Inbox, tmp_path: Path
) -> None:
    async with session_process(broker.config(tid), tmp_path) as process:
        await inbox.expect(f"retrotread/{tid}/state", _state("running"), within_s=30)
        (report,) = await publish_stop(broker.config("coach"), tid, timeout_s=10.0)
        assert await asyncio.wait_for(process.wait(), 30) == 3
    assert report.id == tid
    assert report.acknowledged
    assert report.state in ("stopped", "fault")


async def test_the_last_will_says_offline_when_a_session_process_is_killed(
    broker: Broker, tid: str, inbox: Inbox, tmp_path: Path
) -> None:
    async with session_process(broker.config(tid), tmp_path) as process:
        await inbox.expect(f"retrotread/{tid}/state", _state("running"), within_s=30)
        mark = inbox.mark()
        process.send_signal(signal.SIGKILL)
        await inbox.expect(f"retrotread/{tid}/availability", lambda p: p == "offline", since=mark)
    async with client_for(broker) as late:
        await late.subscribe(f"retrotread/{tid}/availability")
        async for message in late.messages:
            assert (message.payload, message.retain) == (b"offline", True)
            break


async def _stop_command(config: MqttConfig, tmp_path: Path, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *(RETROTREAD, "stop", "--mqtt", *args),
        env=_env(config, tmp_path, "stop"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_retrotread_stop_mqtt_id_stops_a_session_through_the_broker(
    broker: Broker, tid: str, inbox: Inbox, tmp_path: Path
) -> None:
    config = broker.config(tid)
    async with session_process(config, tmp_path) as process:
        await inbox.expect(f"retrotread/{tid}/state", _state("running"), within_s=30)
        code, output = await _stop_command(broker.config("coach"), tmp_path, "--id", tid)
        assert await asyncio.wait_for(process.wait(), 30) == 3
    assert code == 0, output
    assert f"stopped {tid} over MQTT" in output


async def test_retrotread_stop_mqtt_all_stops_the_fleet(
    broker: Broker, tid: str, tmp_path: Path
) -> None:
    config = broker.config(tid).model_copy(update={"base_topic": f"fleet-{tid}"})
    async with session_process(config, tmp_path) as process, client_for(broker) as watcher:
        await watcher.subscribe(f"fleet-{tid}/{tid}/state")
        async for message in watcher.messages:
            if payload_json(message)["state"] == "running":
                break
        code, output = await _stop_command(
            config.model_copy(update={"id": "coach"}), tmp_path, "--all"
        )
        assert await asyncio.wait_for(process.wait(), 30) == 3
    assert code == 0, output
    assert f"stopped {tid} over MQTT" in output


async def test_retrotread_stop_mqtt_without_a_broker_exits_4(
    broker: Broker, tmp_path: Path
) -> None:
    config = broker.config("x").model_copy(update={"url": f"mqtt://127.0.0.1:{free_port()}"})
    code, output = await _stop_command(config, tmp_path, "--id", "x")
    assert code == 4, output
