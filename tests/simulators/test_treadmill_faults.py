"""Every `--sim-fault` kind, scheduled at session time through open_simulator or injected now."""

from __future__ import annotations

import asyncio

import pytest
from bleak import BleakClient

from retrotread.ftms import control_point as cp
from retrotread.ftms.control_point import ResultCode, StopControl
from retrotread.ftms.machine_status import MachineStatusOpCode
from retrotread.ftms.uuids import CONTROL_POINT_UUID
from simulators.faults import parse_fault
from simulators.harness import open_simulator
from tests.support.central import Central, virtual
from tests.support.virtual_time import advance


@virtual
async def test_fault_time_counts_from_the_first_connection() -> None:
    async with open_simulator(faults=["hr@5:150"]) as sim:
        await advance(20)  # nobody connected yet: the session clock has not started
        assert sim.treadmill.session_start is None
        async with Central(sim) as central:
            await central.subscribe()
            await advance(4.5)
            assert central.data[-1].heart_rate_bpm != 150
            await advance(1.5)  # data goes out on whole seconds
            assert central.data[-1].heart_rate_bpm == 150
            assert sim.treadmill.session_time_s == pytest.approx(6.0, abs=0.2)


@virtual
async def test_disconnect_drops_the_link_refuses_while_down_then_advertises_again() -> None:
    async with open_simulator(faults=["disconnect@3:2"]) as sim:
        dropped = asyncio.Event()
        client = BleakClient(
            sim.address, backend=sim.client_backend, disconnected_callback=lambda _: dropped.set()
        )
        await client.connect()
        await client.start_notify(CONTROL_POINT_UUID, lambda *_: None)
        await client.write_gatt_char(CONTROL_POINT_UUID, cp.request_control(), response=True)
        await advance(0.1)
        assert sim.treadmill.controlled
        await asyncio.wait_for(dropped.wait(), timeout=5)
        loop = asyncio.get_running_loop()
        dropped_at = loop.time()
        assert not sim.treadmill.controlled
        assert not sim.treadmill.device.is_advertising
        await client.connect(timeout=10.0)  # not connectable until the link is back up
        assert loop.time() >= dropped_at + 2.0 - 0.2
        assert client.is_connected
        assert sim.treadmill.connection_count == 2
        await client.disconnect()


@virtual
async def test_safety_key_halts_the_belt_and_blocks_a_restart() -> None:
    async with open_simulator(faults=["safety-key@20"]) as sim, Central(sim) as central:
        await central.subscribe()
        await central.take_control_and_run(8.0)
        await advance(20.5 - sim.treadmill.session_time_s)  # type: ignore[operator]
        assert central.statuses[-1].opcode is MachineStatusOpCode.stopped_by_safety_key
        # No command lag: 0.5 s at the 4 km/h/s stop deceleration from 8 km/h.
        assert sim.treadmill.belt_speed_kmh == pytest.approx(6.0)
        await advance(1.5)
        assert sim.treadmill.belt_speed_kmh == 0.0
        assert (await central.request(cp.start_or_resume())).result is ResultCode.operation_failed
        sim.treadmill.replace_safety_key()
        assert (await central.request(cp.start_or_resume())).result is ResultCode.success


@virtual
async def test_console_stop_stops_the_belt_and_says_so() -> None:
    async with open_simulator() as sim, Central(sim) as central:
        await central.subscribe()
        await central.take_control_and_run(4.0)
        sim.treadmill.inject(parse_fault("console-stop@0"))
        await advance(2.0)
        last = central.statuses[-1]
        assert last.opcode is MachineStatusOpCode.stopped_or_paused_by_user
        assert last.control is StopControl.stop
        assert sim.treadmill.belt_speed_kmh == 0.0
        assert not sim.treadmill.running


@virtual
async def test_overspeed_runs_the_belt_faster_than_its_target() -> None:
    async with open_simulator() as sim, Central(sim) as central:
        await central.subscribe()
        await central.take_control_and_run(4.0)
        sim.treadmill.inject(parse_fault("overspeed@0:1.5"))
        await advance(5.0)
        assert central.data[-1].instantaneous_speed_kmh == pytest.approx(6.0)
        assert sim.treadmill.target_speed_kmh == 4.0


@virtual
async def test_stall_stops_the_data_while_the_belt_keeps_running() -> None:
    async with open_simulator() as sim, Central(sim) as central:
        await central.subscribe()
        await central.take_control_and_run(4.0)
        sim.treadmill.inject(parse_fault("stall@0"))
        count = len(central.data)
        await advance(10.0)
        assert len(central.data) == count
        assert sim.treadmill.belt_speed_kmh == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("target", "payload"),
    [
        ("set-speed", cp.set_target_speed(3.0)),
        ("start", cp.start_or_resume()),
        ("stop", cp.stop()),
        ("request-control", cp.request_control()),
    ],
)
@virtual
async def test_reject_makes_that_operation_fail(target: str, payload: bytes) -> None:
    async with open_simulator(faults=[f"reject@0:{target}"]) as sim, Central(sim) as central:
        await central.subscribe()
        if target != "request-control":
            await central.request(cp.request_control())
        assert (await central.request(payload)).result is ResultCode.operation_failed
        if target != "set-speed":
            ok = await central.request(cp.set_target_speed(3.0))
            assert ok.result is (
                ResultCode.control_not_permitted
                if target == "request-control"
                else ResultCode.success
            )


@virtual
async def test_no_indication_leaves_writes_unanswered_and_unapplied() -> None:
    async with open_simulator() as sim, Central(sim) as central:
        await central.subscribe()
        await central.take_control_and_run(4.0)
        sim.treadmill.inject(parse_fault("no-indication@0"))
        before = len(central.answers)
        await central.write(cp.stop())  # the ATT write itself still succeeds
        await advance(10.0)
        assert len(central.answers) == before
        assert not sim.treadmill.control_log[-1].answered
        assert sim.treadmill.belt_speed_kmh == pytest.approx(4.0)


@virtual
async def test_hr_fault_forces_the_reported_heart_rate() -> None:
    async with open_simulator(faults=["hr@2:190"]) as sim, Central(sim) as central:
        await central.subscribe()
        await advance(4.0)
        assert central.data[-1].heart_rate_bpm == 190
        assert sim.treadmill.heart_rate_bpm == 190


def test_a_malformed_fault_spec_is_refused_before_anything_starts() -> None:
    @virtual
    async def scenario() -> None:
        async with open_simulator(faults=["warp@3"]):
            raise AssertionError("should not start")

    with pytest.raises(ValueError, match="unknown kind"):
        scenario()


@virtual
async def test_control_lost_withdraws_control_until_it_is_requested_again() -> None:
    async with open_simulator(faults=["control-lost@20"]) as sim, Central(sim) as central:
        await central.subscribe()
        await central.take_control_and_run(4.0)
        await advance(20.5 - sim.treadmill.session_time_s)  # type: ignore[operator]
        assert central.statuses[-1].opcode is MachineStatusOpCode.control_permission_lost
        assert not sim.treadmill.controlled
        refused = await central.request(cp.set_target_speed(5.0))
        assert refused.result is ResultCode.control_not_permitted
        assert sim.treadmill.target_speed_kmh == 4.0
        assert sim.treadmill.belt_speed_kmh == pytest.approx(4.0)  # the belt itself runs on
        assert (await central.request(cp.request_control())).result is ResultCode.success
        assert (await central.request(cp.stop())).result is ResultCode.success


@virtual
async def test_control_lost_with_nobody_in_control_says_nothing() -> None:
    async with open_simulator() as sim, Central(sim) as central:
        await central.subscribe()
        sim.treadmill.inject(parse_fault("control-lost@0"))
        await advance(1.0)
        assert central.statuses == []
        assert (await central.request(cp.request_control())).result is ResultCode.success
