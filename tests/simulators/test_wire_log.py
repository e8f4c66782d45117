"""The wire log (`run --sim-wire-log FILE`): one JSON line per control-point write the simulated
machine received, with session time, bytes, op, result and belt speed, flushed as it happens."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from bleak.exc import BleakGATTProtocolError

from retrotread.errors import InputError
from retrotread.ftms import control_point as cp
from retrotread.run import RunOptions, prepare, run_to_result
from simulators.faults import parse_fault
from simulators.harness import Simulator, open_simulator, read_wire_log
from tests.support.central import Central, virtual
from tests.support.virtual_time import advance

SHORT_PLAN = '[[segments]]\nname = "a"\nduration_s = 20\ntarget_mph = 1.0\n'


@virtual
async def test_every_write_is_one_line_with_op_result_and_belt_speed(tmp_path: Path) -> None:
    path = tmp_path / "wire.jsonl"
    async with open_simulator("strict-procedure", wire_log=path) as sim, Central(sim) as central:
        with pytest.raises(BleakGATTProtocolError):
            await central.write(cp.request_control())  # indications still off: 0xFD
        await central.subscribe()
        await central.take_control_and_run(4.0)
        await central.write(cp.set_target_speed(5.0))
        with pytest.raises(BleakGATTProtocolError):
            await central.write(cp.stop())  # the speed change is still being answered: 0xFE
        await advance(1)
        await central.request(bytes([0x30]))  # no such op code
        sim.treadmill.inject(parse_fault("no-indication@0"))
        await central.write(cp.stop())
        await advance(1)

        records = read_wire_log(path)  # the machine still runs: each line is out already
        assert records == sim.wire_log()
        assert [(record["op"], record["result"]) for record in records] == [
            ("request_control", "att_error_0xfd"),
            ("request_control", "success"),
            ("set_target_speed", "success"),
            ("start_or_resume", "success"),
            ("set_target_speed", "success"),
            ("stop_or_pause", "att_error_0xfe"),
            (None, "op_code_not_supported"),
            ("stop_or_pause", "no_answer"),
        ]
        assert records[2]["hex"] == cp.set_target_speed(4.0).hex() == "029001"
        assert [record["belt_kmh"] for record in records[:4]] == [0.0] * 4
        assert records[4]["belt_kmh"] == pytest.approx(4.0)
        start = sim.treadmill.session_start
        assert start is not None
        for record, exchange in zip(records, sim.control_log, strict=True):
            assert record["t"] == pytest.approx(exchange.t - start, abs=1e-6)
        assert records == sorted(records, key=lambda record: record["t"])


@virtual
async def test_t_is_session_time_the_clock_of_the_fault_schedule(tmp_path: Path) -> None:
    async with open_simulator(faults=["control-lost@30"], wire_log=tmp_path / "w") as sim:
        await advance(100)  # before anyone connects: no session time passes
        async with Central(sim) as central:
            await central.subscribe()
            await central.take_control_and_run(3.0)
            await advance(30 - sim.treadmill.session_time_s + 0.5)  # type: ignore[operator]
            await central.request(cp.stop())  # control was withdrawn at t = 30
        last = sim.wire_log()[-1]
        assert last["result"] == "control_not_permitted"
        assert last["t"] == pytest.approx(30.5, abs=0.1)


def test_a_log_cut_off_mid_line_keeps_every_complete_line(tmp_path: Path) -> None:
    path = tmp_path / "wire.jsonl"
    complete = {"t": 1.0, "hex": "07", "op": "start_or_resume", "result": "success", "belt_kmh": 0}
    path.write_text(json.dumps(complete) + '\n{"t": 2.0, "hex": "08')
    assert read_wire_log(path) == [complete]


def test_a_wire_log_that_cannot_be_created_is_bad_input(tmp_path: Path) -> None:
    @virtual
    async def scenario() -> None:
        async with open_simulator(wire_log=tmp_path / "missing" / "wire.jsonl"):
            raise AssertionError("should not start")

    with pytest.raises(ValueError, match=r"wire log .*missing.*No such file"):
        scenario()


def test_the_flag_works_only_with_sim(tmp_path: Path) -> None:
    options = RunOptions(device="AA:BB:CC:DD:EE:FF", sim_wire_log=tmp_path / "w.jsonl", yes=True)
    with pytest.raises(InputError, match="--sim-wire-log works only with --sim"):
        prepare(options)


def test_a_session_writes_what_reached_the_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no user config
    plan = tmp_path / "plan.toml"
    plan.write_text(SHORT_PLAN)
    path = tmp_path / "wire.jsonl"
    machines: list[Simulator] = []
    result = run_to_result(
        RunOptions(
            sim=True,
            plan_file=plan,
            sim_wire_log=path,
            control_socket=False,
            data_dir=tmp_path / "data",
            on_simulator=machines.append,
        )
    )
    assert result.exit_code == 0
    records = read_wire_log(path)
    assert records == machines[0].wire_log()
    assert records[0]["op"] == "request_control"
    assert "start_or_resume" in [record["op"] for record in records]
    assert records[-1]["op"] == "stop_or_pause"
    assert all(record["result"] == "success" for record in records)


def test_a_killed_session_leaves_every_line_written_so_far(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(SHORT_PLAN)
    path = tmp_path / "wire.jsonl"
    env = {**os.environ, "RETROTREAD_DATA_DIR": str(tmp_path / "data")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    command = [sys.executable, "-c", "from retrotread.cli import main; main()", "run", "--sim"]
    command += ["--plan", str(plan), "--json", "--time-scale", "1", "--sim-wire-log", str(path)]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            event = json.loads(line)
            if event.get("event") == "command" and event.get("op") == "start":
                break
        process.send_signal(signal.SIGKILL)  # no chance to flush or close anything
    ops = [record["op"] for record in read_wire_log(path)]
    assert ops[0] == "request_control"
    assert "start_or_resume" in ops
