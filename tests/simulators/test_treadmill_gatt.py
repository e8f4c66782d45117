"""The simulator as a BLE peripheral, seen through bleak: advertising, GATT layout, reads, data."""

from __future__ import annotations

import pytest
from bleak import BleakClient, BleakScanner

from retrotread.ftms import control_point as cp
from retrotread.ftms import uuids
from retrotread.ftms.advertisement import MachineType, decode_service_data
from retrotread.ftms.feature import decode_feature
from retrotread.ftms.ranges import decode_incline_range, decode_speed_range
from retrotread.ftms.training_status import TrainingStatusCode, decode_training_status
from simulators.harness import open_simulator
from simulators.radio import VirtualRadio
from simulators.treadmill import advertising_data
from tests.support.central import Central, virtual
from tests.support.virtual_time import advance

EXPECTED_PROPERTIES = {
    uuids.FEATURE_UUID: ["read"],
    uuids.TREADMILL_DATA_UUID: ["notify"],
    uuids.TRAINING_STATUS_UUID: ["notify", "read"],
    uuids.SUPPORTED_SPEED_RANGE_UUID: ["read"],
    uuids.SUPPORTED_INCLINATION_RANGE_UUID: ["read"],
    uuids.CONTROL_POINT_UUID: ["indicate", "write"],
    uuids.FITNESS_MACHINE_STATUS_UUID: ["notify"],
}


@virtual
async def test_scan_finds_the_treadmill_by_service_uuid_and_type_bit() -> None:
    async with open_simulator() as sim:
        found = await BleakScanner.discover(
            timeout=0.5,
            return_adv=True,
            service_uuids=[uuids.FTMS_SERVICE_UUID],
            backend=sim.scanner_backend,
        )
        assert list(found) == [sim.address]
        _device, adv = found[sim.address]
        assert adv.local_name == "RetroTread SIM"
        service_data = decode_service_data(adv.service_data[uuids.FTMS_SERVICE_UUID])
        assert service_data.available
        assert MachineType.treadmill in service_data.machine_types


@virtual
async def test_two_simulators_share_one_radio_and_a_filter_keeps_others_out() -> None:
    async with (
        VirtualRadio() as radio,
        open_simulator(radio=radio, name="Left") as left,
        open_simulator("coarse-grid", radio=radio, name="Right") as right,
    ):
        found = await BleakScanner.discover(
            timeout=0.5, service_uuids=[uuids.FTMS_SERVICE_UUID], backend=radio.scanner_backend
        )
        assert {device.address for device in found} == {left.address, right.address}
        assert {device.name for device in found} == {"Left", "Right"}


def test_advertising_data_fits_31_bytes_and_a_long_name_is_refused() -> None:
    assert len(advertising_data("A" * 15)) == 31
    with pytest.raises(ValueError, match="31-byte"):
        advertising_data("A" * 16)


@virtual
async def test_discovery_shows_every_characteristic_with_its_properties() -> None:
    async with open_simulator() as sim, BleakClient(sim.address, backend=sim.client_backend) as c:
        service = c.services.get_service(uuids.FTMS_SERVICE_UUID)
        assert service is not None
        found = {ch.uuid: sorted(ch.properties) for ch in service.characteristics}
        assert found == EXPECTED_PROPERTIES


@virtual
async def test_reads_give_features_ranges_and_idle_status() -> None:
    async with open_simulator() as sim, BleakClient(sim.address, backend=sim.client_backend) as c:
        feature = decode_feature(bytes(await c.read_gatt_char(uuids.FEATURE_UUID)))
        assert {
            "total_distance",
            "inclination",
            "expended_energy",
            "heart_rate_measurement",
            "elapsed_time",
        } <= set(feature.feature_names())
        assert feature.target_names() == ["speed_target", "inclination_target"]
        speed = decode_speed_range(bytes(await c.read_gatt_char(uuids.SUPPORTED_SPEED_RANGE_UUID)))
        assert (speed.minimum_kmh, speed.maximum_kmh, speed.increment_kmh) == (0.5, 20.0, 0.01)
        incline = decode_incline_range(
            bytes(await c.read_gatt_char(uuids.SUPPORTED_INCLINATION_RANGE_UUID))
        )
        assert (incline.minimum_pct, incline.maximum_pct, incline.increment_pct) == (0, 15, 0.5)
        status = decode_training_status(bytes(await c.read_gatt_char(uuids.TRAINING_STATUS_UUID)))
        assert status.status is TrainingStatusCode.idle


@virtual
async def test_a_machine_without_incline_has_no_incline_range_nor_target() -> None:
    async with (
        open_simulator("coarse-grid") as sim,
        BleakClient(sim.address, backend=sim.client_backend) as c,
    ):
        service = c.services.get_service(uuids.FTMS_SERVICE_UUID)
        assert service is not None
        assert service.get_characteristic(uuids.SUPPORTED_INCLINATION_RANGE_UUID) is None
        feature = decode_feature(bytes(await c.read_gatt_char(uuids.FEATURE_UUID)))
        assert "inclination" not in feature.feature_names()
        assert feature.target_names() == ["speed_target"]
        speed = decode_speed_range(bytes(await c.read_gatt_char(uuids.SUPPORTED_SPEED_RANGE_UUID)))
        assert (speed.minimum_kmh, speed.maximum_kmh, speed.increment_kmh) == (0.8, 16.0, 0.1)


@virtual
async def test_treadmill_data_arrives_at_the_profile_rate_with_every_field() -> None:
    async with open_simulator() as sim, Central(sim) as central:
        await central.subscribe()
        await central.take_control_and_run(6.0)
        central.data.clear()
        central.data_times.clear()
        await advance(10.0)
        assert len(central.data) == 10
        gaps = [b - a for a, b in zip(central.data_times, central.data_times[1:], strict=False)]
        assert all(gap == pytest.approx(1.0) for gap in gaps)
        last = central.data[-1]
        assert last.instantaneous_speed_kmh == pytest.approx(6.0)
        assert last.total_distance_m is not None
        assert last.total_distance_m > 15
        assert last.inclination_pct == 0.0
        assert last.heart_rate_bpm is not None
        assert last.heart_rate_bpm > 70
        assert last.total_energy_kcal is not None
        assert last.elapsed_time_s is not None
        assert last.elapsed_time_s >= 10
        assert central.data[0].total_distance_m is not None
        assert last.total_distance_m > central.data[0].total_distance_m


@virtual
async def test_training_status_notifies_manual_mode_on_start_and_idle_on_stop() -> None:
    async with open_simulator() as sim, Central(sim) as central:
        await central.subscribe()
        await central.take_control_and_run(3.0)
        await central.request(cp.stop())
        await advance(0.1)
        codes = [decode_training_status(value).status for value in central.training]
        assert codes == [TrainingStatusCode.manual_mode, TrainingStatusCode.idle]


@virtual
async def test_reconnect_after_the_client_disconnects() -> None:
    async with open_simulator() as sim:
        for _ in range(2):
            async with BleakClient(sim.address, backend=sim.client_backend) as client:
                assert client.is_connected
                assert sim.treadmill.connected_count == 1
            await advance(0.1)
            assert sim.treadmill.connected_count == 0
        assert sim.treadmill.connection_count == 2


@virtual
async def test_control_is_lost_when_its_holder_disconnects() -> None:
    async with open_simulator() as sim, Central(sim) as watcher:
        await watcher.subscribe()
        async with Central(sim) as holder:
            await holder.subscribe()
            assert (await holder.request(cp.request_control())).result.name == "success"
            refused = await watcher.request(cp.request_control())
            assert refused.result.name == "control_not_permitted"
        await advance(0.1)
        assert [s.opcode.name for s in watcher.statuses] == ["control_permission_lost"]
        assert (await watcher.request(cp.request_control())).result.name == "success"
