"""Each quirk profile behaves like the machines DESIGN.md describes, seen through bleak."""

from __future__ import annotations

import asyncio

import pytest
from bleak import BleakClient, BleakScanner

from retrotread.ftms import control_point as cp
from retrotread.ftms.control_point import ResultCode, StopControl
from retrotread.ftms.machine_status import MachineStatusOpCode
from retrotread.ftms.ranges import decode_speed_range
from retrotread.ftms.uuids import SUPPORTED_SPEED_RANGE_UUID
from retrotread.units import KMH_PER_MPH
from simulators.harness import open_simulator
from tests.support.central import Central, virtual
from tests.support.virtual_time import advance


@virtual
async def test_start_before_speed_ignores_a_target_until_the_belt_runs() -> None:
    async with open_simulator("start-before-speed") as sim, Central(sim) as central:
        await central.subscribe()
        await central.request(cp.request_control())
        assert (await central.request(cp.set_target_speed(4.0))).result is ResultCode.success
        await central.request(cp.start_or_resume())
        await advance(5)
        assert sim.treadmill.belt_speed_kmh == pytest.approx(0.5)
        await central.request(cp.set_target_speed(4.0))
        await advance(5)
        assert sim.treadmill.belt_speed_kmh == pytest.approx(4.0)


@virtual
async def test_ack_by_status_never_indicates_but_notifies_each_change() -> None:
    async with open_simulator("ack-by-status") as sim, Central(sim) as central:
        await central.subscribe()
        for payload in (cp.request_control(), cp.set_target_speed(3.0), cp.start_or_resume()):
            await central.write(payload)
            await advance(0.5)
        await advance(5)
        assert central.answers == []
        assert [s.opcode for s in central.statuses] == [
            MachineStatusOpCode.target_speed_changed,
            MachineStatusOpCode.started_or_resumed_by_user,
        ]
        assert sim.treadmill.belt_speed_kmh == pytest.approx(3.0)
        assert [e.acknowledged_by_status for e in sim.treadmill.control_log] == [
            False,
            True,
            True,
        ]


@virtual
async def test_control_rejected_yet_commands_work() -> None:
    async with open_simulator("control-rejected") as sim, Central(sim) as central:
        await central.subscribe()
        refused = await central.request(cp.request_control())
        assert refused.result is ResultCode.control_not_permitted
        assert (await central.request(cp.set_target_speed(3.0))).result is ResultCode.success
        assert (await central.request(cp.start_or_resume())).result is ResultCode.success
        await advance(5)
        assert sim.treadmill.belt_speed_kmh == pytest.approx(3.0)


@virtual
async def test_stale_stop_is_replayed_on_subscribe() -> None:
    async with open_simulator("stale-stop") as sim, Central(sim) as central:
        await central.subscribe()
        await advance(0.5)
        assert len(central.statuses) == 1
        assert central.statuses[0].opcode is MachineStatusOpCode.stopped_or_paused_by_user
        assert central.statuses[0].control is StopControl.stop
        assert not sim.treadmill.running


@virtual
async def test_min_speed_1kmh_advertises_less_but_never_runs_slower() -> None:
    async with open_simulator("min-speed-1kmh") as sim, Central(sim) as central:
        await central.subscribe()
        data = await central.client.read_gatt_char(SUPPORTED_SPEED_RANGE_UUID)
        assert decode_speed_range(bytes(data)).minimum_kmh == 0.5
        await central.take_control_and_run(0.8)
        assert central.data[-1].instantaneous_speed_kmh == pytest.approx(1.0)


@virtual
async def test_speed_as_mph_runs_the_belt_1_609_times_faster() -> None:
    async with open_simulator("speed-as-mph") as sim, Central(sim) as central:
        await central.subscribe()
        await central.take_control_and_run(3.0)
        assert sim.treadmill.belt_speed_kmh == pytest.approx(3.0 * KMH_PER_MPH)


@virtual
async def test_single_central_accepts_a_second_central_only_after_the_first_leaves() -> None:
    async with open_simulator("single-central") as sim:
        loop = asyncio.get_running_loop()
        first = BleakClient(sim.address, backend=sim.client_backend)
        await first.connect()
        assert not sim.treadmill.device.is_advertising
        second = BleakClient(sim.address, backend=sim.client_backend)
        attempt = asyncio.create_task(second.connect(timeout=30.0))
        await advance(5.0)
        assert not attempt.done()
        left_at = loop.time()
        await first.disconnect()
        await attempt
        assert second.is_connected
        assert loop.time() - left_at < 1.0
        assert sim.treadmill.connected_count == 1
        await second.disconnect()


@virtual
async def test_start_toggles_pause_pauses_a_running_belt() -> None:
    async with open_simulator("start-toggles-pause") as sim, Central(sim) as central:
        await central.subscribe()
        await central.take_control_and_run(3.0)
        assert (await central.request(cp.start_or_resume())).result is ResultCode.success
        await advance(3)
        assert sim.treadmill.paused
        assert sim.treadmill.belt_speed_kmh == 0.0
        assert central.statuses[-1].control is StopControl.pause
        await central.request(cp.start_or_resume())
        await advance(3)
        assert sim.treadmill.belt_speed_kmh == pytest.approx(3.0)


@virtual
async def test_zero_packets_at_wake_and_after_a_stop() -> None:
    async with open_simulator("zero-packets") as sim, Central(sim) as central:
        await central.subscribe()
        await central.take_control_and_run(3.0)
        zeros = [not any(packet) for packet in central.raw_data]
        assert zeros[:3] == [True, True, False]
        assert all(len(packet) == len(central.raw_data[-1]) for packet in central.raw_data)
        count = len(central.raw_data)
        await central.request(cp.stop())
        await advance(3.5)
        assert [not any(packet) for packet in central.raw_data[count:]] == [True, True, False]


@virtual
async def test_weak_signal_scans_weak_and_drops_the_link_but_reconnects() -> None:
    async with open_simulator("weak-signal") as sim:
        found = await BleakScanner.discover(
            timeout=0.5, return_adv=True, backend=sim.scanner_backend
        )
        assert found[sim.address][1].rssi == -80
        loop = asyncio.get_running_loop()
        dropped = asyncio.Event()
        client = BleakClient(
            sim.address, backend=sim.client_backend, disconnected_callback=lambda _: dropped.set()
        )
        await client.connect()
        connected_at = loop.time()
        await dropped.wait()
        assert loop.time() - connected_at == pytest.approx(30.0, abs=0.5)
        await client.connect(timeout=5.0)
        assert client.is_connected
        await client.disconnect()


@pytest.mark.parametrize(
    ("profile", "written", "snapped"),
    [
        ("offset-grid", 4.8, 4.8),  # 0.6 + 6 * 0.7
        ("offset-grid", 4.83, 4.8),
        ("offset-grid", 5.2, 5.5),  # 0.6 + 7 * 0.7
        ("offset-grid-multiples", 4.8, 4.9),  # 7 * 0.7: 3.04 mph from a 2.98 mph write
        ("offset-grid-multiples", 4.5, 4.2),  # 6 * 0.7
        ("coarse-grid", 4.83, 4.8),  # the default snap: multiples of 0.1
    ],
)
@virtual
async def test_a_written_speed_snaps_to_the_profile_s_grid_and_the_belt_runs_there(
    profile: str, written: float, snapped: float
) -> None:
    async with open_simulator(profile) as sim, Central(sim) as central:
        await central.subscribe()
        await central.take_control_and_run(written)
        assert sim.treadmill.target_speed_kmh == snapped
        assert central.statuses[0].target_speed_kmh == snapped
        assert sim.treadmill.belt_speed_kmh == pytest.approx(snapped)
        assert central.data[-1].instantaneous_speed_kmh == pytest.approx(snapped)


@virtual
async def test_mph_coarse_reads_the_parameter_as_mph_and_reports_real_km_h() -> None:
    async with open_simulator("mph-coarse") as sim, Central(sim) as central:
        await central.subscribe()
        data = await central.client.read_gatt_char(SUPPORTED_SPEED_RANGE_UUID)
        advertised = decode_speed_range(bytes(data))
        assert (advertised.minimum_kmh, advertised.maximum_kmh) == (0.45, 12.0)  # mph, really
        assert advertised.increment_kmh == pytest.approx(0.1)
        await central.take_control_and_run(0.53)  # snaps to 0.5 mph
        assert sim.treadmill.target_speed_kmh == 0.5
        assert sim.treadmill.belt_speed_kmh == pytest.approx(0.5 * KMH_PER_MPH)
        assert central.data[-1].instantaneous_speed_kmh == pytest.approx(0.80)


@virtual
async def test_an_mph_machine_s_belt_is_not_capped_at_its_range_read_as_km_h() -> None:
    """12 on a machine that reads mph is 19.3 km/h: the belt runs (and reports) that."""
    async with open_simulator("mph-coarse") as sim, Central(sim) as central:
        await central.subscribe()
        await central.take_control_and_run(12.0)
        await advance(10)
        assert sim.treadmill.belt_speed_kmh == pytest.approx(12.0 * KMH_PER_MPH)
        assert central.data[-1].instantaneous_speed_kmh == pytest.approx(19.31)


@virtual
async def test_laggy_moves_the_belt_only_two_seconds_after_a_start() -> None:
    async with open_simulator("laggy") as sim, Central(sim) as central:
        await central.subscribe()
        await central.request(cp.request_control())
        await central.request(cp.set_target_speed(3.0))
        await central.write(cp.start_or_resume())
        await advance(1.9)
        assert sim.treadmill.running
        assert sim.treadmill.belt_speed_kmh == 0.0
        assert central.data[-1].instantaneous_speed_kmh == 0.0
        await advance(0.6)
        assert sim.treadmill.belt_speed_kmh > 0.0
