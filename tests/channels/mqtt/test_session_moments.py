"""Real simulated sessions (`retrotread run --sim --mqtt` processes) as Home Assistant sees them:
the energy estimate growing on `<base>/totals` and agreeing with the journal, the device-trigger
messages on `<base>/event` at the start, at the end and on a safety stop, and the heart rate
with its source in the telemetry."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from retrotread.config import MqttConfig
from retrotread.history.record import SessionLog
from tests.support.broker import Broker, Inbox

pytestmark = [pytest.mark.mqtt, pytest.mark.e2e]
RETROTREAD = str(Path(sys.executable).with_name("retrotread"))
TIME_SCALE = "50"  # virtual seconds per real second: a 40 s plan in about a second
WEIGHT_KG = 70.0
PLAN = """
name = "moments"
[[segments]]
name = "warm"
duration_s = 20
target_mph = 0.8
[[segments]]
name = "brisk"
duration_s = 20
target_mph = 1.2
"""


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    """Short (a socket path must fit) and private: no other session's control socket."""
    path = Path(tempfile.mkdtemp(prefix="rt-moments-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def _run(config: MqttConfig, tmp_path: Path, runtime: Path, *args: str) -> tuple[int, Path]:
    """One session to its end; the exit code and the data dir it journaled to."""
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN, encoding="utf-8")
    data = tmp_path / "data"
    env = {
        **os.environ,
        "RETROTREAD_MQTT__URL": config.url,
        "RETROTREAD_MQTT__USERNAME": config.username or "",
        "RETROTREAD_MQTT__PASSWORD": config.password.get_secret_value() if config.password else "",
        "RETROTREAD_MQTT__ID": config.id or "",
        "RETROTREAD_USER__WEIGHT_KG": str(WEIGHT_KG),
        "RETROTREAD_DATA_DIR": str(data),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    process = await asyncio.create_subprocess_exec(
        *(RETROTREAD, "run", "--sim", "--mqtt", "--cues", "off", "--time-scale", TIME_SCALE),
        *("--plan", str(plan), *args),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        code = await asyncio.wait_for(process.wait(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return code, data


def _ended(payload: str) -> bool:
    return bool(json.loads(payload)["type"] == "ended")


def _moments(inbox: Inbox, base: str) -> list[dict[str, Any]]:
    return [json.loads(p) for p in inbox.on(f"{base}/event")]


async def test_a_completed_session_grows_its_estimate_and_fires_started_completed_ended(
    broker: Broker, tid: str, inbox: Inbox, tmp_path: Path, runtime_dir: Path
) -> None:
    base = f"retrotread/{tid}"
    code, data = await _run(broker.config(tid), tmp_path, runtime_dir, "--sim-hr-strap")
    assert code == 0
    await inbox.expect(f"{base}/event", _ended, within_s=10)

    moments = _moments(inbox, base)
    assert [(m["type"], m["subtype"]) for m in moments] == [
        ("started", "session"),
        ("completed", "session"),
        ("ended", "session"),
    ]
    (journal,) = (data / "sessions").glob("*.jsonl")
    log = SessionLog.read(journal)
    assert {m["session"] for m in moments} == {log.id}
    assert {m["program"] for m in moments} == {"moments"}
    start = next(c for c in log.commands if c.op == "start" and c.result == "success")
    assert moments[0]["t"] == pytest.approx(start.t)
    assert moments[1]["outcome"] == "completed"

    totals = [json.loads(p) for p in inbox.on(f"{base}/totals")]
    assert totals[0]["kcal"] == 0.0  # a new session starts its sensors from 0
    kcal = [t["kcal"] for t in totals]
    assert kcal == sorted(kcal)
    assert len(set(kcal)) > 10  # it grew while the session ran, not only at its end
    final = totals[-1]
    assert final["session"] == log.id
    # The live figures are the ones `history` reads back from the journal.
    expected_kcal = log.kcal(WEIGHT_KG)
    assert expected_kcal is not None
    assert expected_kcal > 0
    assert final["kcal"] == pytest.approx(expected_kcal, abs=0.01)
    assert final["backward_s"] == pytest.approx(log.backward_s, abs=0.1)
    assert final["duration_s"] == pytest.approx(log.duration_s, abs=0.1)

    # Heart rate shows with its source: the strap's wins over the treadmill's.
    telemetry = [json.loads(p) for p in inbox.on(f"{base}/telemetry")]
    with_heart_rate = [t for t in telemetry if t.get("heart_rate_bpm") is not None]
    assert with_heart_rate
    assert {t.get("heart_rate_source") for t in with_heart_rate} == {"strap"}


async def test_a_fault_fires_a_safety_stop_named_by_its_reason_and_no_completion(
    broker: Broker, tid: str, inbox: Inbox, tmp_path: Path, runtime_dir: Path
) -> None:
    base = f"retrotread/{tid}"
    config = broker.config(tid)
    code, _ = await _run(config, tmp_path, runtime_dir, "--sim-fault", "overspeed@25:1.5")
    assert code == 3
    await inbox.expect(f"{base}/event", _ended, within_s=10)
    moments = _moments(inbox, base)
    assert [(m["type"], m["subtype"]) for m in moments] == [
        ("started", "session"),
        ("safety_stop", "overspeed"),
        ("ended", "session"),
    ]
    assert moments[1]["reason"] == "fault"
    assert moments[1]["t"] >= 25
    assert moments[2]["outcome"] == "stopped"
