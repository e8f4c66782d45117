"""FTMS runs one control-point procedure at a time: on a profile that enforces it, a write made
before the previous write's indication went out is refused with ATT error 0xFE and not acted on."""

from __future__ import annotations

import pytest
from bleak.exc import BleakGATTProtocolError

from retrotread.ftms import control_point as cp
from retrotread.ftms.control_point import ResultCode
from simulators.harness import open_simulator
from simulators.profiles import ControlSettings, load_profile
from tests.support.central import Central, virtual
from tests.support.virtual_time import advance

PROCEDURE_ALREADY_IN_PROGRESS = 0xFE


@pytest.mark.parametrize("profile", ["strict-procedure", "laggy"])
@virtual
async def test_a_write_before_the_previous_answer_is_refused_with_0xfe_and_ignored(
    profile: str,
) -> None:
    async with open_simulator(profile) as sim, Central(sim) as central:
        await central.subscribe()
        await central.request(cp.request_control())
        await central.write(cp.set_target_speed(4.0))  # accepted; its answer is still to come
        with pytest.raises(BleakGATTProtocolError) as caught:
            await central.write(cp.start_or_resume())
        assert caught.value.code == PROCEDURE_ALREADY_IN_PROGRESS
        refused = sim.control_log[-1]
        assert refused.att_error == PROCEDURE_ALREADY_IN_PROGRESS
        assert refused.outcome == "att_error_0xfe"
        assert refused.result is None
        await advance(5)
        assert not sim.treadmill.running  # the refused Start was not acted on
        assert sim.treadmill.target_speed_kmh == 4.0  # the accepted write was
        assert [answer.request_opcode for answer in central.answers] == [
            cp.OpCode.request_control,
            cp.OpCode.set_target_speed,
        ]


@virtual
async def test_a_write_sent_once_the_answer_arrived_is_taken() -> None:
    """The procedure ends as its indication goes out, so a client that waits for each answer
    (as every well-behaved one does) never meets 0xFE, even writing the moment it arrives."""
    async with open_simulator("strict-procedure") as sim, Central(sim) as central:
        await central.subscribe()
        await central.take_control_and_run(4.0)
        assert (await central.request(cp.set_target_speed(5.0))).result is ResultCode.success
        assert (await central.request(cp.stop())).result is ResultCode.success
        assert all(exchange.att_error is None for exchange in sim.control_log)


@virtual
async def test_answers_come_after_the_profile_s_delay() -> None:
    async with open_simulator("strict-procedure") as sim, Central(sim) as central:
        await central.subscribe()
        await central.write(cp.request_control())
        await advance(0.2)
        assert central.answers == []
        await advance(0.1)
        assert [answer.result for answer in central.answers] == [ResultCode.success]


@virtual
async def test_without_the_rule_overlapping_writes_are_both_taken() -> None:
    """The rule is the profile's choice: a machine that does not enforce it acts on both."""
    slow = load_profile("generic").model_copy(
        update={"control": ControlSettings(one_procedure_at_a_time=False, answer_delay_s=0.25)}
    )
    async with open_simulator(slow) as sim, Central(sim) as central:
        await central.subscribe()
        await central.request(cp.request_control())
        await central.write(cp.set_target_speed(4.0))
        await central.write(cp.start_or_resume())
        await advance(5)
        assert sim.treadmill.running
        assert [exchange.outcome for exchange in sim.control_log] == ["success"] * 3


@virtual
async def test_a_refused_write_does_not_end_the_procedure_in_progress() -> None:
    async with open_simulator("strict-procedure") as sim, Central(sim) as central:
        await central.subscribe()
        await central.write(cp.request_control())
        for _ in range(2):
            with pytest.raises(BleakGATTProtocolError):
                await central.write(cp.stop())
        await advance(1)
        assert (await central.request(cp.stop())).result is ResultCode.success
        assert [exchange.outcome for exchange in sim.control_log] == [
            "success",
            "att_error_0xfe",
            "att_error_0xfe",
            "success",
        ]


@pytest.mark.parametrize("profile", ["generic", "ack-by-status", "coarse-grid"])
def test_existing_profiles_keep_answering_at_once_without_the_rule(profile: str) -> None:
    control = load_profile(profile).control
    assert not control.one_procedure_at_a_time
    assert control.answer_delay_s == 0.0
