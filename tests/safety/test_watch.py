"""The supervisor's verdicts, swept exhaustively without a treadmill or an event loop.

The limits are class constants; every check walks values across and beyond them (every belt
speed from 0 to 6 mph in the telemetry's own unit, 0.01 km/h, against commanded speeds across
each direction's band, with and without a recent decrease; every heart rate a strap can send,
with time passing; every machine status op code) and compares the verdict with the rule as
SPEC.md states it, written out here on its own.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from typing import ClassVar

import pytest

from retrotread.ftms import MachineStatusOpCode
from retrotread.safety.limits import mph_to_centi
from retrotread.safety.watch import (
    OVERSPEED_GRACE_S,
    PAUSE_ECHO_WINDOW_S,
    HeartRate,
    HeartRateVerdict,
    Overspeed,
    StatusVerdict,
    StatusWatch,
)
from retrotread.treadmill.events import StopControl


class Limits:
    TOLERANCE_C = int(mph_to_centi(0.3))  # safety.overspeed_tolerance_mph, as the supervisor has it
    CEILING_C: ClassVar[dict[str, Fraction]] = {
        "backward": mph_to_centi(3.0),
        "forward": mph_to_centi(4.0),  # safety.forward_max_mph
    }
    # Telemetry speaks integer hundredths of km/h: every belt speed from 0 to 6 mph.
    BELT_C: ClassVar[range] = range(0, round(6 * 160.9344) + 1)
    # Commanded speeds (0: nothing commanded, or paused) across and beyond both bands: a speed
    # left behind by a decrease can lie above the ceiling of the direction now faced (a forward
    # segment slowed to the floor, then a turn-around).
    # 0.5 to 6 mph, 0.25 apart; the decreases between them, 0.5 apart.
    COMMANDED_C: ClassVar[list[Fraction]] = [
        Fraction(0),
        *(mph_to_centi(x / 4) for x in range(2, 6 * 4 + 1)),
    ]
    DECREASED_C: ClassVar[list[Fraction]] = [
        Fraction(0),
        *(mph_to_centi(x / 2) for x in range(1, 6 * 2 + 1)),
    ]
    # Moments after a decrease: at once, just before, at and after the end of the grace.
    AFTER_DECREASE_S = (0.0, OVERSPEED_GRACE_S - 0.01, OVERSPEED_GRACE_S, 20.0)
    HEART_RATE_LIMIT = 150
    HEART_RATE_SLOW_S = 30.0
    HEART_RATES: ClassVar[range] = range(0, 256)  # every value of the u8 field
    CONTROLS: ClassVar[tuple[StopControl | None, ...]] = (None, "stop", "pause")


_PAUSED = MachineStatusOpCode.stopped_or_paused_by_user


def overspeed_by_the_rule(
    belt_c: int, commanded_c: Fraction, ceiling_c: Fraction, left_c: Fraction | None
) -> bool:
    """SPEC.md: above the direction's hard ceiling by more than the tolerance is an overspeed,
    whatever was commanded; so is a belt above the commanded speed by more than the tolerance,
    unless a decrease from `left_c` is still in its grace (then `left_c` is the speed allowed)."""
    if belt_c > ceiling_c + Limits.TOLERANCE_C:
        return True
    allowed = commanded_c if left_c is None else max(commanded_c, left_c)
    return belt_c > allowed + Limits.TOLERANCE_C


# -- overspeed ----------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["backward", "forward"])
def test_a_steady_command_allows_the_belt_up_to_it_plus_the_tolerance(direction: str) -> None:
    ceiling = Limits.CEILING_C[direction]
    for commanded in Limits.COMMANDED_C:
        for belt in Limits.BELT_C:
            watch = Overspeed(Limits.TOLERANCE_C)
            limit = watch.check(belt, commanded, ceiling, now=100.0)
            expected = overspeed_by_the_rule(belt, commanded, ceiling, None)
            assert (limit is not None) == expected, (direction, commanded, belt)
            if limit is not None:
                assert limit == min(commanded, ceiling) + Limits.TOLERANCE_C


@pytest.mark.parametrize("after_s", Limits.AFTER_DECREASE_S)
@pytest.mark.parametrize("direction", ["backward", "forward"])
def test_a_decrease_keeps_the_speed_left_allowed_for_the_grace_only(
    direction: str, after_s: float
) -> None:
    ceiling = Limits.CEILING_C[direction]
    in_grace = after_s < OVERSPEED_GRACE_S
    # Every decrease old -> new.
    for old, new in itertools.combinations(reversed(Limits.DECREASED_C), 2):
        left = old if in_grace else None
        for belt in Limits.BELT_C:
            watch = Overspeed(Limits.TOLERANCE_C)
            watch.commanded(old, new, now=50.0)
            limit = watch.check(belt, new, ceiling, now=50.0 + after_s)
            expected = overspeed_by_the_rule(belt, new, ceiling, left)
            assert (limit is not None) == expected, (direction, old, new, after_s, belt)


@pytest.mark.parametrize("direction", ["backward", "forward"])
def test_an_increase_allows_no_more_than_the_new_speed(direction: str) -> None:
    ceiling = Limits.CEILING_C[direction]
    for old, new in itertools.combinations(Limits.DECREASED_C, 2):  # every increase old -> new
        for belt in Limits.BELT_C:
            watch = Overspeed(Limits.TOLERANCE_C)
            watch.commanded(old, new, now=0.0)
            limit = watch.check(belt, new, ceiling, now=0.5)
            assert (limit is not None) == overspeed_by_the_rule(belt, new, ceiling, None)


def test_the_grace_never_reaches_above_the_ceiling_of_the_direction_faced() -> None:
    """Forward at 3.5 mph, slowed to the floor and turned around: facing backward, the belt
    may still be running down from 3.5 mph, but never above 3.0 mph plus the tolerance."""
    backward = Limits.CEILING_C["backward"]
    floor = mph_to_centi(0.5)
    watch = Overspeed(Limits.TOLERANCE_C)
    watch.commanded(mph_to_centi(3.5), floor, now=0.0)
    assert watch.check(int(backward + Limits.TOLERANCE_C), floor, backward, now=1.0) is None
    limit = watch.check(int(backward + Limits.TOLERANCE_C) + 1, floor, backward, now=1.0)
    assert limit == backward + Limits.TOLERANCE_C


def test_a_belt_seen_at_the_new_speed_ends_the_grace() -> None:
    ceiling = Limits.CEILING_C["backward"]
    old, new = mph_to_centi(2.5), mph_to_centi(1.0)
    for caught_up in range(0, int(new + Limits.TOLERANCE_C) + 1):  # every belt at the new speed
        watch = Overspeed(Limits.TOLERANCE_C)
        watch.commanded(old, new, now=0.0)
        assert watch.check(int(old), new, ceiling, now=1.0) is None  # still lagging: allowed
        assert watch.check(caught_up, new, ceiling, now=2.0) is None
        # Back up at the old speed, well within the grace: an overspeed now.
        assert watch.check(int(old), new, ceiling, now=3.0) == new + Limits.TOLERANCE_C


def test_decreases_while_the_belt_lags_keep_the_fastest_speed_left() -> None:
    ceiling = Limits.CEILING_C["backward"]
    fast, middle, slow = mph_to_centi(3.0), mph_to_centi(2.0), mph_to_centi(1.0)
    watch = Overspeed(Limits.TOLERANCE_C)
    watch.commanded(fast, middle, now=0.0)
    watch.commanded(middle, slow, now=10.0)  # the belt has not caught up with the first one
    assert watch.check(int(fast), slow, ceiling, now=24.9) is None  # 15 s after the second
    assert watch.check(int(fast), slow, ceiling, now=25.0) is not None


def test_a_decrease_after_the_grace_ran_out_allows_only_the_speed_just_left() -> None:
    ceiling = Limits.CEILING_C["backward"]
    fast, middle, slow = mph_to_centi(3.0), mph_to_centi(2.0), mph_to_centi(1.0)
    watch = Overspeed(Limits.TOLERANCE_C)
    watch.commanded(fast, middle, now=0.0)
    watch.commanded(middle, slow, now=OVERSPEED_GRACE_S + 1)  # the first grace is over
    assert watch.check(int(middle), slow, ceiling, now=OVERSPEED_GRACE_S + 2) is None
    limit = watch.check(int(fast), slow, ceiling, now=OVERSPEED_GRACE_S + 2)
    assert limit == middle + Limits.TOLERANCE_C


def test_a_pause_lets_the_belt_run_down_from_the_speed_it_had() -> None:
    """A pause commands nothing (0): the belt decelerates within the grace, not at once."""
    ceiling = Limits.CEILING_C["backward"]
    walking = mph_to_centi(2.0)
    watch = Overspeed(Limits.TOLERANCE_C)
    watch.commanded(walking, Fraction(0), now=0.0)
    for step in range(0, int(OVERSPEED_GRACE_S * 10)):
        belt = int(walking) - step * int(walking) // int(OVERSPEED_GRACE_S * 10)
        assert watch.check(belt, Fraction(0), ceiling, now=step / 10) is None


# -- heart rate ---------------------------------------------------------------------------------


def heart_rate() -> HeartRate:
    return HeartRate(Limits.HEART_RATE_LIMIT, Limits.HEART_RATE_SLOW_S)


def test_one_reading_across_and_beyond_the_limit() -> None:
    for bpm in Limits.HEART_RATES:
        watch = heart_rate()
        verdict = watch.verdict(bpm, now=0.0)
        above = bpm > Limits.HEART_RATE_LIMIT
        assert verdict is (HeartRateVerdict.slow if above else HeartRateVerdict.fine), bpm
        assert watch.slowing is above


@pytest.mark.parametrize("limit", [60, 100, 150, 220])
def test_a_heart_rate_held_above_the_limit_slows_then_stops(limit: int) -> None:
    for bpm in range(limit + 1, 256):
        watch = HeartRate(limit, Limits.HEART_RATE_SLOW_S)
        for tick in range(0, int(Limits.HEART_RATE_SLOW_S * 2) + 10):  # every 0.5 s
            now = 7.0 + tick / 2
            verdict = watch.verdict(bpm, now)
            if tick == 0:
                assert verdict is HeartRateVerdict.slow
            elif now - 7.0 < Limits.HEART_RATE_SLOW_S:
                assert verdict is HeartRateVerdict.holding, (bpm, now)
            else:
                assert verdict is HeartRateVerdict.stop, (bpm, now)
            assert watch.slowing


def test_a_reading_at_or_below_the_limit_ends_the_slow_down_and_restarts_the_clock() -> None:
    for low in range(0, Limits.HEART_RATE_LIMIT + 1):
        watch = heart_rate()
        assert watch.verdict(200, now=0.0) is HeartRateVerdict.slow
        assert watch.verdict(low, now=20.0) is HeartRateVerdict.fine
        assert not watch.slowing
        assert watch.verdict(200, now=25.0) is HeartRateVerdict.slow
        assert watch.verdict(200, now=25.0 + Limits.HEART_RATE_SLOW_S - 0.5) is (
            HeartRateVerdict.holding
        )
        assert watch.verdict(200, now=25.0 + Limits.HEART_RATE_SLOW_S) is HeartRateVerdict.stop


def test_a_packet_without_a_heart_rate_says_nothing_either_way() -> None:
    watch = heart_rate()
    assert watch.verdict(None, now=0.0) is HeartRateVerdict.fine
    assert not watch.slowing
    assert watch.verdict(200, now=1.0) is HeartRateVerdict.slow
    for second in range(2, int(Limits.HEART_RATE_SLOW_S) + 1):
        assert watch.verdict(None, now=float(second)) is HeartRateVerdict.fine
        assert watch.slowing  # still slowing: no reading is no all-clear
    assert watch.verdict(200, now=1.0 + Limits.HEART_RATE_SLOW_S) is HeartRateVerdict.stop


def test_without_a_limit_no_heart_rate_matters() -> None:
    watch = HeartRate(None, Limits.HEART_RATE_SLOW_S)
    for second, bpm in enumerate([*Limits.HEART_RATES, None]):
        assert watch.verdict(bpm, now=float(second)) is HeartRateVerdict.fine
        assert not watch.slowing


# -- machine statuses ---------------------------------------------------------------------------


def status_by_the_rule(
    opcode: MachineStatusOpCode, control: StopControl | None, started: bool, echo_due: bool
) -> StatusVerdict:
    """The safety key always stops; once the belt was started, a user stop or pause at the
    console stops too (unless it is the echo of our own Pause) and lost control is a fault;
    nothing else matters to the belt's safety."""
    if opcode is MachineStatusOpCode.stopped_by_safety_key:
        return StatusVerdict.safety_key
    if not started:
        return StatusVerdict.ignore
    if opcode is MachineStatusOpCode.stopped_or_paused_by_user:
        echo = control == "pause" and echo_due
        return StatusVerdict.pause_echo if echo else StatusVerdict.console_stop
    if opcode is MachineStatusOpCode.control_permission_lost:
        return StatusVerdict.control_lost
    return StatusVerdict.ignore


@pytest.mark.parametrize("opcode", list(MachineStatusOpCode))
def test_every_status_every_control_started_or_not_echo_due_or_not(
    opcode: MachineStatusOpCode,
) -> None:
    # Echo: none written, written just now, written and its window over.
    echoes = {"none": None, "due": 0.0, "expired": -PAUSE_ECHO_WINDOW_S - 0.01}
    for control, started, (echo, written_at) in itertools.product(
        Limits.CONTROLS, (False, True), echoes.items()
    ):
        watch = StatusWatch()
        if written_at is not None:
            watch.pause_written(written_at)
        verdict = watch.verdict(opcode, control, started=started, now=0.0)
        expected = status_by_the_rule(opcode, control, started, echo == "due")
        assert verdict is expected, (opcode, control, started, echo)


def test_each_pause_written_excuses_one_pause_status() -> None:
    for written in range(0, 6):
        watch = StatusWatch()
        for _ in range(written):
            watch.pause_written(0.0)
        verdicts = [watch.verdict(_PAUSED, "pause", started=True, now=1.0) for _ in range(8)]
        assert verdicts == [StatusVerdict.pause_echo] * written + [StatusVerdict.console_stop] * (
            8 - written
        )


def test_an_echo_is_due_until_the_end_of_its_window() -> None:
    for tenths in range(0, int(PAUSE_ECHO_WINDOW_S * 10) + 11):
        now = tenths / 10
        watch = StatusWatch()
        watch.pause_written(0.0)
        verdict = watch.verdict(_PAUSED, "pause", started=True, now=now)
        in_window = now <= PAUSE_ECHO_WINDOW_S
        assert verdict is (StatusVerdict.pause_echo if in_window else StatusVerdict.console_stop)


def test_a_stop_at_the_console_leaves_the_echo_for_our_pause() -> None:
    watch = StatusWatch()
    watch.pause_written(0.0)
    assert watch.verdict(_PAUSED, "stop", started=True, now=0.5) is StatusVerdict.console_stop
    assert watch.verdict(_PAUSED, None, started=True, now=0.6) is StatusVerdict.console_stop
    assert watch.verdict(_PAUSED, "pause", started=True, now=0.7) is StatusVerdict.pause_echo


def test_a_status_before_the_start_uses_up_no_echo() -> None:
    watch = StatusWatch()
    watch.pause_written(0.0)
    assert watch.verdict(_PAUSED, "pause", started=False, now=0.5) is StatusVerdict.ignore
    assert watch.verdict(_PAUSED, "pause", started=True, now=0.6) is StatusVerdict.pause_echo


def test_an_expired_echo_does_not_hide_a_later_one() -> None:
    watch = StatusWatch()
    watch.pause_written(0.0)  # never echoed
    watch.pause_written(10.0)
    assert watch.verdict(_PAUSED, "pause", started=True, now=10.5) is StatusVerdict.pause_echo
    assert watch.verdict(_PAUSED, "pause", started=True, now=10.6) is StatusVerdict.console_stop
