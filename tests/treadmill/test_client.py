"""The Treadmill client through bleak against the simulator (a real GATT peripheral on a virtual
radio), all on the virtual clock: connect, ranges, the control-point procedure, quirks, events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TypeVar

import pytest

from retrotread import ftms
from retrotread.errors import ConnectError, ControlPointError, ControlPointTimeout, InputError
from retrotread.treadmill import (
    ControlPoint,
    Disconnected,
    MachineStatus,
    Quirks,
    Telemetry,
    Treadmill,
    TreadmillEvent,
    quirks_for_device_name,
    scan_treadmills,
)
from retrotread.units import KMH_PER_MPH
from simulators.clock import run_virtual
from simulators.faults import parse_fault
from simulators.harness import Simulator, open_simulator
from tests.support.virtual_time import advance

T = TypeVar("T")


def on_virtual_clock(coro: Awaitable[T]) -> T:
    async def wrapper() -> T:
        return await coro

    return run_virtual(wrapper())


@asynccontextmanager
async def connected(
    profile: str = "generic", faults: Sequence[str] = (), quirks: Quirks | None = None
) -> AsyncIterator[tuple[Simulator, Treadmill, list[TreadmillEvent]]]:
    async with open_simulator(profile, faults) as sim:
        treadmill = await Treadmill.connect(
            sim.address,
            quirks=quirks if quirks is not None else Quirks.from_names(sim.profile.quirks),
            scanner_backend=sim.scanner_backend,
            client_backend=sim.client_backend,
        )
        events: list[TreadmillEvent] = []
        treadmill.add_listener(events.append)
        try:
            yield sim, treadmill, events
        finally:
            await treadmill.disconnect()


def run(body: Callable[[], Awaitable[T]]) -> T:
    return on_virtual_clock(body())


# -- connecting and reading -------------------------------------------------------------------


def test_connect_by_address_reads_features_and_ranges() -> None:
    async def body() -> None:
        async with connected() as (sim, treadmill, _):
            info = treadmill.info
            assert info.address == sim.address
            assert info.name == "RetroTread SIM"
            assert info.speed_range_kmh == (0.5, 20.0, 0.01)
            assert info.incline_range_pct == (0.0, 15.0, 0.5)
            assert "speed_target" in info.target_settings
            assert "total_distance" in info.features
            assert treadmill.is_connected

    run(body)


def test_connect_by_name_and_a_grid_without_incline() -> None:
    async def body() -> None:
        async with open_simulator("coarse-grid") as sim:
            treadmill = await Treadmill.connect(
                "sim coarse",  # names match case-insensitively
                scanner_backend=sim.scanner_backend,
                client_backend=sim.client_backend,
            )
            try:
                assert treadmill.info.speed_range_kmh == (0.8, 16.0, 0.1)
                assert treadmill.info.incline_range_pct is None
            finally:
                await treadmill.disconnect()

    run(body)


def test_an_absent_treadmill_is_a_connect_error_suggesting_sim() -> None:
    async def body() -> None:
        async with open_simulator() as sim:
            with pytest.raises(ConnectError, match="--sim") as err:
                await Treadmill.connect(
                    "Nobody Here",
                    scanner_backend=sim.scanner_backend,
                    client_backend=sim.client_backend,
                    scan_timeout=2.0,
                )
            assert err.value.exit_code == 4

    run(body)


def test_scan_finds_the_treadmill_with_its_machine_type() -> None:
    async def body() -> None:
        async with open_simulator() as sim:
            found = await scan_treadmills(2.0, backend=sim.scanner_backend)
            assert [(f.address, f.name, f.machine_types) for f in found] == [
                (sim.address, "RetroTread SIM", ["treadmill"])
            ]
            assert found[0].rssi is not None

    run(body)


def test_telemetry_is_decoded_and_stamped_with_the_loop_clock() -> None:
    async def body() -> None:
        async with connected() as (_, _treadmill, events):
            await advance(3.5)
            data = [e for e in events if isinstance(e, Telemetry)]
            assert len(data) >= 3
            assert all(e.speed_kmh == 0.0 for e in data)
            stamps = [e.received_at for e in data]
            assert stamps == sorted(stamps)
            assert stamps[-1] <= asyncio.get_running_loop().time()

    run(body)


# -- the control-point procedure ----------------------------------------------------------------


def test_commands_succeed_once_in_control() -> None:
    async def body() -> None:
        async with connected() as (sim, treadmill, _):
            cp = treadmill.claim_control_point()
            await cp.request_control()
            await cp.set_speed(161)
            await cp.start()
            await advance(5)
            assert sim.treadmill.belt_speed_kmh == pytest.approx(1.61)
            await cp.stop()
            assert [x.result for x in sim.treadmill.control_log] == [ftms.ResultCode.success] * 4

    run(body)


def test_the_control_point_can_be_claimed_only_once() -> None:
    async def body() -> None:
        async with connected() as (_, treadmill, _events):
            treadmill.claim_control_point()
            with pytest.raises(RuntimeError, match="already claimed"):
                treadmill.claim_control_point()

    run(body)


@pytest.mark.parametrize(
    ("profile", "faults", "prepare", "command", "result"),
    [
        ("generic", (), False, "start", "control_not_permitted"),
        ("generic", (), True, "set_speed:too_fast", "invalid_parameter"),
        ("coarse-grid", (), True, "set_incline", "op_code_not_supported"),
        ("generic", ("reject@0:set-speed",), True, "set_speed", "operation_failed"),
        ("generic", ("reject@0:request-control",), False, "request_control", "operation_failed"),
    ],
)
def test_each_result_code_becomes_a_typed_error(
    profile: str, faults: tuple[str, ...], prepare: bool, command: str, result: str
) -> None:
    async def body() -> None:
        async with connected(profile, faults) as (_, treadmill, _events):
            cp = treadmill.claim_control_point()
            if prepare:
                await cp.request_control()
            calls = {
                "start": cp.start,
                "request_control": cp.request_control,
                "set_speed:too_fast": lambda: cp.set_speed(2500),
                "set_speed": lambda: cp.set_speed(100),
                "set_incline": lambda: cp.set_incline(20),
            }
            with pytest.raises(ControlPointError) as err:
                await calls[command]()
            assert err.value.result == result
            assert err.value.op == command.split(":")[0]

    run(body)


def test_a_silent_control_point_times_out() -> None:
    async def body() -> None:
        async with connected(faults=["no-indication@0"]) as (_, treadmill, _events):
            cp = treadmill.claim_control_point()
            started = asyncio.get_running_loop().time()
            with pytest.raises(ControlPointTimeout) as err:
                await cp.request_control()
            assert err.value.result == "timeout"
            assert asyncio.get_running_loop().time() - started == pytest.approx(2.0, abs=0.1)

    run(body)


def test_an_indication_that_arrives_before_the_write_returns_is_not_lost() -> None:
    async def body() -> None:
        cp: ControlPoint | None = None

        async def write_then_answer_early(_uuid: str, payload: bytes) -> None:
            # The answer is delivered inside the write, before write_gatt_char returns.
            assert cp is not None
            cp.on_indication(bytes([0x80, payload[0], ftms.ResultCode.success]))
            await advance(0.5)

        cp = ControlPoint(write_then_answer_early, Quirks(), timeout_s=2.0)
        await cp.request_control()  # would time out if the waiter were armed after the write
        assert asyncio.get_running_loop().time() == pytest.approx(0.5)

    run(body)


def test_a_stop_is_answered_while_another_command_awaits_its_answer() -> None:
    async def body() -> None:
        answers: list[bytes] = []
        cp: ControlPoint | None = None

        async def write(_uuid: str, payload: bytes) -> None:
            answers.append(payload)
            if payload[0] == ftms.OpCode.stop_or_pause:
                assert cp is not None
                cp.on_indication(bytes([0x80, payload[0], ftms.ResultCode.success]))

        cp = ControlPoint(write, Quirks(), timeout_s=2.0)
        slow = asyncio.ensure_future(cp.set_speed(100))  # never answered
        await asyncio.sleep(0)
        await cp.stop()
        assert not slow.done()
        assert answers == [ftms.set_target_speed(1.0), ftms.stop()]
        with pytest.raises(ControlPointTimeout):
            await slow

    run(body)


# -- quirks -------------------------------------------------------------------------------------


def test_quirk_names_and_the_device_name_table() -> None:
    assert Quirks.from_names(["zero_packets", "single-central"]).active() == [
        "zero_packets",
        "single_central",
    ]
    with pytest.raises(InputError, match="unknown quirk bogus"):
        Quirks.from_names(["bogus"])
    assert quirks_for_device_name("KS-ST-A1P").single_central
    assert quirks_for_device_name("RetroTread SIM") == Quirks()
    assert quirks_for_device_name(None) == Quirks()


def test_ack_by_machine_status_device_answers_without_indications() -> None:
    async def body() -> None:
        async with connected("ack-by-status") as (sim, treadmill, _):
            cp = treadmill.claim_control_point()
            await cp.request_control()
            await cp.set_speed(200)
            await cp.start()
            await cp.stop()
            log = sim.treadmill.control_log
            assert len(log) == 4
            assert all(x.response is None for x in log)  # not one indication was sent

    run(body)


def test_ack_by_machine_status_without_the_quirk_times_out() -> None:
    async def body() -> None:
        async with connected("ack-by-status", quirks=Quirks()) as (_, treadmill, _events):
            cp = treadmill.claim_control_point()
            with pytest.raises(ControlPointTimeout):
                await cp.request_control()

    run(body)


@pytest.mark.parametrize(("quirks", "replayed_seen"), [(None, False), (Quirks(), True)])
def test_a_stale_stop_replayed_on_subscribe_is_dropped(
    quirks: Quirks | None, replayed_seen: bool
) -> None:
    async def body() -> None:
        async with connected("stale-stop", quirks=quirks) as (sim, treadmill, events):
            # The replay comes on every subscription: resubscribe with our listener attached.
            sim.treadmill.inject(parse_fault("disconnect@0:1"))
            await advance(2)
            await treadmill.reconnect()
            await advance(1)
            stops = [
                e
                for e in events
                if isinstance(e, MachineStatus) and e.kind == "stopped_or_paused_by_user"
            ]
            assert bool(stops) == replayed_seen

    run(body)


def test_all_zero_packets_are_dropped() -> None:
    async def body() -> None:
        async with connected("zero-packets") as (sim, _treadmill, events):
            await advance(10)
            data = [e for e in events if isinstance(e, Telemetry)]
            assert sim.treadmill.data_notifications >= 10
            assert 0 < len(data) < sim.treadmill.data_notifications  # some were dropped
            assert all(isinstance(e.raw, ftms.TreadmillData) and e.raw.flags for e in data)

    run(body)


def test_speed_param_mph_device_gets_the_speed_in_mph() -> None:
    async def body() -> None:
        async with connected("speed-as-mph") as (sim, treadmill, _):
            cp = treadmill.claim_control_point()
            await cp.request_control()
            await cp.set_speed(200)  # the parameter in the device's unit: 2.00 mph
            await cp.start()
            await advance(5)
            assert sim.treadmill.control_log[1].request == ftms.set_target_speed(2.0)
            assert sim.treadmill.belt_speed_kmh == pytest.approx(2.0 * KMH_PER_MPH, abs=0.01)

    run(body)


def test_a_second_central_is_refused_by_a_single_central_device() -> None:
    async def body() -> None:
        async with connected("single-central") as (sim, _treadmill, _events):
            with pytest.raises(ConnectError):
                await Treadmill.connect(
                    sim.address,
                    scanner_backend=sim.scanner_backend,
                    client_backend=sim.client_backend,
                    scan_timeout=2.0,
                )

    run(body)


# -- disconnects --------------------------------------------------------------------------------


def test_a_dropped_link_is_reported_and_pending_commands_fail_at_once() -> None:
    async def body() -> None:
        async with connected(faults=["no-indication@0"]) as (sim, treadmill, events):
            cp = treadmill.claim_control_point()
            pending = asyncio.ensure_future(cp.request_control())
            await advance(0.1)
            sim.treadmill.inject(parse_fault("disconnect@0:3"))
            with pytest.raises(ControlPointError) as err:
                await pending
            assert err.value.result == "disconnected"
            assert any(isinstance(e, Disconnected) for e in events)
            assert not treadmill.is_connected
            await advance(4)
            await treadmill.reconnect()
            assert treadmill.is_connected

    run(body)


def test_our_own_disconnect_is_not_reported_as_a_dropped_link() -> None:
    async def body() -> None:
        async with connected() as (_, treadmill, events):
            await treadmill.disconnect()
            assert not any(isinstance(e, Disconnected) for e in events)

    run(body)


