"""The control point through bleak: every op, every result code, and the order of answers."""

from __future__ import annotations

import pytest
from bleak.exc import BleakGATTProtocolError
from hypothesis import given, settings
from hypothesis import strategies as st

from retrotread.ftms import control_point as cp
from retrotread.ftms.control_point import OpCode, ResultCode, StopControl
from retrotread.ftms.machine_status import MachineStatusOpCode
from simulators.harness import open_simulator
from simulators.profiles import PROFILE_NAMES
from tests.support.central import Central, virtual
from tests.support.virtual_time import advance

ATT_WRITE_RESPONSE = 0x13
ATT_HANDLE_VALUE_INDICATION = 0x1D


@virtual
async def test_writes_are_refused_with_att_0xfd_while_indications_are_off() -> None:
    async with open_simulator() as sim, Central(sim) as central:
        with pytest.raises(BleakGATTProtocolError) as caught:
            await central.write(cp.request_control())
        assert caught.value.code == 0xFD
        assert sim.treadmill.control_log[-1].att_error == 0xFD
        assert not sim.treadmill.controlled


@pytest.mark.parametrize(
    "payload", [cp.set_target_speed(4.0), cp.start_or_resume(), cp.stop(), cp.reset()]
)
@virtual
async def test_commands_before_request_control_are_not_permitted(payload: bytes) -> None:
    async with open_simulator() as sim, Central(sim) as central:
        await central.subscribe()
        answer = await central.request(payload)
        assert answer.request_opcode == payload[0]
        assert answer.result is ResultCode.control_not_permitted
        assert sim.treadmill.target_speed_kmh is None
        assert not sim.treadmill.running


@virtual
async def test_a_session_set_speed_start_pause_resume_stop_reset() -> None:
    async with open_simulator() as sim, Central(sim) as central:
        await central.subscribe()
        treadmill = sim.treadmill
        assert (await central.request(cp.request_control())).result is ResultCode.success
        assert (await central.request(cp.set_target_speed(4.0))).result is ResultCode.success
        assert treadmill.belt_speed_kmh == 0.0  # a target alone does not move the belt
        assert (await central.request(cp.start_or_resume())).result is ResultCode.success
        await advance(1.3)  # 0.3 s lag, then 1.5 km/h/s
        assert treadmill.belt_speed_kmh == pytest.approx(1.5)
        await advance(5)
        assert treadmill.belt_speed_kmh == pytest.approx(4.0)
        assert (await central.request(cp.pause())).result is ResultCode.success
        await advance(5)
        assert treadmill.belt_speed_kmh == 0.0
        assert treadmill.paused
        assert (await central.request(cp.start_or_resume())).result is ResultCode.success
        await advance(5)
        assert treadmill.belt_speed_kmh == pytest.approx(4.0)
        assert (await central.request(cp.stop())).result is ResultCode.success
        await advance(0.3 + 4.0 / 4.0)  # the stop deceleration is 4 km/h/s
        assert treadmill.belt_speed_kmh == 0.0
        assert (await central.request(cp.reset())).result is ResultCode.success
        await advance(0.1)
        assert not treadmill.controlled
        assert [s.opcode for s in central.statuses] == [
            MachineStatusOpCode.target_speed_changed,
            MachineStatusOpCode.started_or_resumed_by_user,
            MachineStatusOpCode.stopped_or_paused_by_user,
            MachineStatusOpCode.started_or_resumed_by_user,
            MachineStatusOpCode.stopped_or_paused_by_user,
            MachineStatusOpCode.reset,
        ]
        assert central.statuses[0].target_speed_kmh == 4.0
        assert [s.control for s in central.statuses if s.control] == [
            StopControl.pause,
            StopControl.stop,
        ]
        after_reset = await central.request(cp.start_or_resume())
        assert after_reset.result is ResultCode.control_not_permitted


@virtual
async def test_speed_changes_while_running_ramp_at_the_profile_rate() -> None:
    async with open_simulator() as sim, Central(sim) as central:
        await central.subscribe()
        await central.take_control_and_run(3.0)
        await central.request(cp.set_target_speed(6.0))
        await advance(0.3 + 1.0)
        assert sim.treadmill.belt_speed_kmh == pytest.approx(4.5)
        await central.request(cp.set_target_speed(5.0))
        await advance(0.3 + 1.0)
        assert sim.treadmill.belt_speed_kmh == pytest.approx(5.0)


@virtual
async def test_incline_moves_at_the_motor_rate_and_is_reported() -> None:
    async with open_simulator() as sim, Central(sim) as central:
        await central.subscribe()
        await central.request(cp.request_control())
        answer = await central.request(cp.set_target_inclination(2.0))
        assert answer.result is ResultCode.success
        await advance(0.3 + 2.0)
        assert sim.treadmill.incline_pct == pytest.approx(1.0)
        await advance(5)
        assert central.data[-1].inclination_pct == 2.0
        assert central.statuses[-1].opcode is MachineStatusOpCode.target_incline_changed
        assert central.statuses[-1].target_inclination_pct == 2.0


@pytest.mark.parametrize(
    "payload",
    [
        cp.set_target_speed(0.49),
        cp.set_target_speed(20.01),
        cp.set_target_inclination(-0.5),
        cp.set_target_inclination(15.5),
        bytes([OpCode.set_target_speed, 0x90]),  # parameter one byte short
        bytes([OpCode.set_target_speed, 0x90, 0x01, 0x00]),  # one byte too many
        bytes([OpCode.stop_or_pause, 0x03]),
        bytes([OpCode.stop_or_pause]),
    ],
)
@virtual
async def test_parameters_outside_the_ranges_or_malformed_are_invalid(payload: bytes) -> None:
    async with open_simulator() as sim, Central(sim) as central:
        await central.subscribe()
        await central.request(cp.request_control())
        answer = await central.request(payload)
        assert answer.request_opcode == payload[0]
        assert answer.result is ResultCode.invalid_parameter
        assert sim.treadmill.target_speed_kmh is None
        assert sim.treadmill.target_incline_pct is None


@pytest.mark.parametrize(
    ("profile", "payload"),
    [
        ("generic", bytes([0x30])),  # no such op code
        ("generic", bytes([OpCode.set_target_power, 0x10, 0x00])),
        ("generic", bytes([OpCode.set_target_heart_rate, 120])),
        ("coarse-grid", cp.set_target_inclination(1.0)),
    ],
)
@virtual
async def test_ops_the_machine_lacks_are_not_supported(profile: str, payload: bytes) -> None:
    async with open_simulator(profile) as sim, Central(sim) as central:
        await central.subscribe()
        await central.request(cp.request_control())
        answer = await central.request(payload)
        assert answer.request_opcode == payload[0]
        assert answer.result is ResultCode.op_code_not_supported


@virtual
async def test_target_speed_is_snapped_to_the_machine_grid() -> None:
    async with open_simulator("coarse-grid") as sim, Central(sim) as central:
        await central.subscribe()
        await central.request(cp.request_control())
        await central.request(cp.set_target_speed(4.83))
        await advance(0.1)
        assert sim.treadmill.target_speed_kmh == 4.8
        assert central.statuses[-1].target_speed_kmh == 4.8


@virtual
async def test_the_write_response_goes_out_before_the_indication() -> None:
    async with open_simulator() as sim, Central(sim) as central:
        await central.subscribe()
        sent: list[int] = []
        server = sim.treadmill.device.gatt_server
        send = server.send_gatt_pdu

        def record(bearer: object, pdu: bytes) -> None:
            sent.append(pdu[0])
            send(bearer, pdu)

        server.send_gatt_pdu = record
        await central.request(cp.request_control())
        assert sent[:2] == [ATT_WRITE_RESPONSE, ATT_HANDLE_VALUE_INDICATION]


REQUESTS = st.one_of(
    st.builds(cp.set_target_speed, st.floats(0, 25, allow_nan=False)),
    st.builds(cp.set_target_inclination, st.floats(-5, 20, allow_nan=False)),
    st.sampled_from(
        [cp.request_control(), cp.start_or_resume(), cp.stop(), cp.pause(), cp.reset()]
    ),
    st.binary(min_size=1, max_size=4),
)


# Machines that answer every write on the control point (ack-by-status never indicates, and
# weak-signal drops its link mid-sequence).
ANSWERING_PROFILES = [
    name for name in PROFILE_NAMES if name not in ("ack-by-status", "weak-signal")
]


# Each example connects a fresh central (~0.2 s of wall time): fewer, longer sequences.
@settings(max_examples=20, deadline=None)
@given(
    st.sampled_from(ANSWERING_PROFILES),
    st.lists(st.tuples(REQUESTS, st.floats(0, 3)), min_size=1, max_size=20),
)
def test_any_write_sequence_keeps_the_machine_in_range_and_answers_each_write_once(
    profile: str, steps: list[tuple[bytes, float]]
) -> None:
    @virtual
    async def scenario() -> None:
        async with open_simulator(profile) as sim, Central(sim) as central:
            await central.subscribe()
            treadmill = sim.treadmill
            speed, incline = sim.profile.speed, sim.profile.incline
            for payload, pause_s in steps:
                answer = await central.request(payload)
                assert answer.request_opcode == payload[0]
                await advance(pause_s)
                assert 0.0 <= treadmill.belt_speed_kmh <= sim.profile.belt_max_kmh
                if treadmill.target_speed_kmh is not None:
                    assert speed.min_kmh <= treadmill.target_speed_kmh <= speed.max_kmh
                if incline is not None:
                    assert incline.min_pct <= treadmill.incline_pct <= incline.max_pct
            await advance(1.0)
            assert len(central.answers) == len(steps)
            assert all(exchange.answered for exchange in treadmill.control_log)

    scenario()
