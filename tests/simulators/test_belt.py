"""Belt physics, stepped with explicit dt: lag, bounded ramps, hard stops, distance, incline."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.belt import Belt, BeltDynamics

DYNAMICS = BeltDynamics(
    accel_kmh_per_s=1.0,
    decel_kmh_per_s=1.0,
    stop_decel_kmh_per_s=4.0,
    command_lag_s=0.5,
    incline_rate_pct_per_s=0.5,
    max_speed_kmh=20.0,
)


def test_speed_command_waits_for_the_lag_then_ramps_at_the_acceleration_limit() -> None:
    belt = Belt(DYNAMICS)
    belt.command_speed(4.0)
    belt.advance(0.5)
    assert belt.speed_kmh == 0.0
    belt.advance(1.0)
    assert belt.speed_kmh == pytest.approx(1.0)
    belt.advance(10.0)
    assert belt.speed_kmh == pytest.approx(4.0)


def test_stop_brakes_harder_than_a_speed_decrease() -> None:
    slowing, stopping = Belt(DYNAMICS), Belt(DYNAMICS)
    for belt in (slowing, stopping):
        belt.command_speed(8.0)
        belt.advance(20.0)
    slowing.command_speed(0.0)
    stopping.command_stop()
    for belt in (slowing, stopping):
        belt.advance(0.5 + 1.0)
    assert stopping.speed_kmh == pytest.approx(4.0)
    assert slowing.speed_kmh == pytest.approx(7.0)
    stopping.advance(1.0)
    assert stopping.stopped


def test_halt_has_no_lag_and_drops_pending_commands() -> None:
    belt = Belt(DYNAMICS)
    belt.command_speed(8.0)
    belt.advance(20.0)
    belt.command_speed(12.0)
    belt.halt()
    belt.advance(0.25)
    assert belt.speed_kmh == pytest.approx(7.0)
    belt.advance(5.0)
    assert belt.stopped


def test_distance_is_the_exact_area_under_the_speed_curve() -> None:
    belt = Belt(DYNAMICS)
    belt.command_speed(3.6)  # 1 m/s, reached after 3.6 s of ramp
    belt.advance(0.5 + 3.6 + 10.0)
    ramp_m = 3.6 / 2 / 3.6 * 3.6
    assert belt.distance_m == pytest.approx(ramp_m + 10.0)


def test_distance_does_not_depend_on_the_step_size() -> None:
    coarse, fine = Belt(DYNAMICS), Belt(DYNAMICS)
    for belt in (coarse, fine):
        belt.command_speed(5.0)
    coarse.advance(30.0)
    for _ in range(300):
        fine.advance(0.1)
    assert fine.distance_m == pytest.approx(coarse.distance_m)


def test_incline_moves_at_the_motor_rate() -> None:
    belt = Belt(DYNAMICS)
    belt.command_incline(5.0)
    belt.advance(0.5 + 4.0)
    assert belt.incline_pct == pytest.approx(2.0)
    belt.advance(100.0)
    assert belt.incline_pct == pytest.approx(5.0)


def test_overspeed_factor_runs_the_belt_above_its_target_but_never_above_the_motor_max() -> None:
    belt = Belt(DYNAMICS)
    belt.command_speed(4.0)
    belt.overspeed_factor = 1.5
    belt.advance(30.0)
    assert belt.speed_kmh == pytest.approx(6.0)
    belt.overspeed_factor = 10.0
    belt.advance(30.0)
    assert belt.speed_kmh == pytest.approx(DYNAMICS.max_speed_kmh)


def test_negative_dt_is_refused() -> None:
    with pytest.raises(ValueError, match="dt"):
        Belt(DYNAMICS).advance(-1.0)


@given(
    st.lists(
        st.tuples(st.sampled_from(["speed", "stop", "halt"]), st.floats(0, 20), st.floats(0, 5)),
        max_size=30,
    )
)
def test_speed_never_changes_faster_than_the_limits_and_stays_in_range(
    steps: list[tuple[str, float, float]],
) -> None:
    belt = Belt(DYNAMICS)
    for command, kmh, dt in steps:
        if command == "speed":
            belt.command_speed(kmh)
        elif command == "stop":
            belt.command_stop()
        else:
            belt.halt()
        before_kmh, before_m = belt.speed_kmh, belt.distance_m
        belt.advance(dt)
        assert 0.0 <= belt.speed_kmh <= DYNAMICS.max_speed_kmh
        assert belt.speed_kmh - before_kmh <= DYNAMICS.accel_kmh_per_s * dt + 1e-9
        assert before_kmh - belt.speed_kmh <= DYNAMICS.stop_decel_kmh_per_s * dt + 1e-9
        assert belt.distance_m >= before_m
