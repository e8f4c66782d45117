"""The simulated walker's steps and the `struggle` fault that shortens them."""

from __future__ import annotations

import pytest

from retrotread import ftms
from simulators.faults import DEFAULT_STRUGGLE_FACTOR, FaultKind, parse_fault
from simulators.profiles import load_profile
from simulators.walker import STEP_LENGTH_M, Walker


def test_steps_follow_the_belt_at_one_step_length_whatever_the_speed() -> None:
    for kmh in (1.0, 2.0, 4.0):
        walker = Walker()
        for _ in range(100):
            walker.advance(1.0, kmh, 0.0)
        assert walker.step_count == int(kmh / 3.6 * 100 / STEP_LENGTH_M)


def test_a_struggling_walker_takes_shorter_quicker_steps() -> None:
    walker = Walker()
    walker.struggle(0.5)
    walker.advance(100.0, 3.6, 0.0)
    assert walker.step_count == int(100 / (STEP_LENGTH_M * 0.5))


def test_no_steps_on_a_stopped_belt_and_the_counter_is_three_bytes() -> None:
    walker = Walker(steps=float((1 << 24) + 5))
    walker.advance(60.0, 0.0, 0.0)
    assert walker.step_count == 5


def test_the_struggle_fault_parses_with_a_default_and_refuses_a_longer_step() -> None:
    assert parse_fault("struggle@60").arg == DEFAULT_STRUGGLE_FACTOR
    spec = parse_fault("struggle@60:0.6")
    assert (spec.kind, spec.at_s, spec.arg) == (FaultKind.STRUGGLE, 60.0, 0.6)
    for bad in ("struggle@60:0", "struggle@60:1.5", "struggle@60:x"):
        with pytest.raises(ValueError, match="struggle"):
            parse_fault(bad)


def test_the_step_count_profile_sets_bit_13() -> None:
    assert load_profile("step-count").step_count
    assert not load_profile("generic").step_count
    packet = ftms.encode_treadmill_data(
        ftms.TreadmillData(instantaneous_speed_kmh=2.0, step_count=70000)
    )
    assert int.from_bytes(packet[:2], "little") & (1 << 13)
    assert ftms.decode_treadmill_data(packet).step_count == 70000
