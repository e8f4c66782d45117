"""The struggle governor's rule, swept without a treadmill: time and step counts passed in.

The walker here is arithmetic: at a belt of `kmh`, steps of `step_m` metres come at kmh / 3.6 /
step_m per second, and the treadmill reports the whole steps once a second."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrotread.safety.watch import Struggle, StruggleVerdict

V = StruggleVerdict


def rule(**overrides: float) -> Struggle:
    values = {"drop": 0.2, "hold_s": 20.0, "baseline_s": 30.0, "cooldown_s": 60.0} | overrides
    return Struggle(**values)


def walk(
    r: Struggle,
    seconds: range,
    kmh: float,
    step_m: float,
    steps: float = 0.0,
) -> tuple[list[StruggleVerdict], float]:
    """Feed one packet a second; returns the verdicts and the steps taken by the end."""
    verdicts = []
    for t in seconds:
        verdicts.append(r.verdict(math.floor(steps), kmh, float(t)))
        steps += kmh / 3.6 / step_m
    return verdicts, steps


def test_a_steady_walker_never_fires_and_gets_a_baseline() -> None:
    r = rule()
    verdicts, _ = walk(r, range(0, 1200), 2.4, 0.4)
    assert set(verdicts) == {V.fine}
    baseline = r.baseline_m(2.4)
    assert baseline == pytest.approx(0.4, abs=0.02)
    assert r.step_length_m == pytest.approx(0.4, abs=0.04)
    assert r.cadence_spm == pytest.approx(100, abs=10)  # 2.4 km/h at 0.4 m a step


def test_a_sustained_drop_fires_once_after_the_hold() -> None:
    r = rule()
    _, steps = walk(r, range(0, 60), 2.4, 0.4)  # baseline set at 30 s
    verdicts, _ = walk(r, range(60, 140), 2.4, 0.28, steps)  # 30 % shorter from 60 s
    fired = [60 + i for i, v in enumerate(verdicts) if v is V.slow]
    assert len(fired) == 1  # and nothing more within the cool-down (60 s)
    # The window needs a few seconds to show the shorter steps, then the hold runs.
    assert 60 + 20 <= fired[0] <= 60 + 20 + 10


def test_after_the_cool_down_a_drop_that_lasts_fires_again() -> None:
    r = rule(cooldown_s=30.0)
    _, steps = walk(r, range(0, 60), 2.4, 0.4)
    verdicts, _ = walk(r, range(60, 400), 2.4, 0.28, steps)
    fired = [60 + i for i, v in enumerate(verdicts) if v is V.slow]
    assert len(fired) >= 2
    assert all(b - a >= 30 for a, b in itertools.pairwise(fired))


def test_a_short_drop_does_not_fire() -> None:
    r = rule()
    _, steps = walk(r, range(0, 60), 2.4, 0.4)
    short, steps = walk(r, range(60, 75), 2.4, 0.28, steps)  # 15 s of shorter steps
    after, _ = walk(r, range(75, 300), 2.4, 0.4, steps)
    assert set(short + after) == {V.fine}


def test_a_small_drop_does_not_fire() -> None:
    r = rule()
    _, steps = walk(r, range(0, 60), 2.4, 0.4)
    verdicts, _ = walk(r, range(60, 600), 2.4, 0.4 * 0.88, steps)  # 12 %: under the 20 %
    assert set(verdicts) == {V.fine}


def test_shorter_steps_at_a_slower_belt_are_not_struggling() -> None:
    """Baselines are per speed: a healthy walker's shorter steps at a slower belt are judged
    against that belt's own baseline, never the faster one's."""
    r = rule()
    _, steps = walk(r, range(0, 120), 3.2, 0.5)
    verdicts, _ = walk(r, range(120, 600), 1.6, 0.3, steps)
    assert set(verdicts) == {V.fine}


def test_no_step_count_a_stopped_belt_or_a_ramp_never_fire() -> None:
    r = rule(baseline_s=15.0, hold_s=5.0)
    assert all(r.verdict(None, 2.4, float(t)) is V.fine for t in range(300))
    assert all(r.verdict(t, 0.0, float(t)) is V.fine for t in range(300, 600))
    # A belt that keeps changing speed is never steady: no baseline, no verdict.
    steps = 0.0
    for t in range(600, 900):
        kmh = 1.0 + (t % 20) * 0.1
        assert r.verdict(math.floor(steps), kmh, float(t)) is V.fine
        steps += kmh / 3.6 / 0.2
    assert r.baseline_m(1.5) is None


def test_a_counter_reset_restarts_the_count_instead_of_reading_as_long_steps() -> None:
    r = rule()
    walk(r, range(0, 60), 2.4, 0.4, 5000.0)
    verdicts, _ = walk(r, range(60, 300), 2.4, 0.4, 0.0)  # the console reset its counter
    assert set(verdicts) == {V.fine}


@settings(max_examples=60, deadline=None)
@given(
    kmh=st.floats(0.8, 4.8),
    step_m=st.floats(0.2, 0.7),
    jitter=st.lists(st.floats(-0.05, 0.05), min_size=200, max_size=400),
)
def test_a_walker_within_five_percent_of_baseline_never_fires(
    kmh: float, step_m: float, jitter: list[float]
) -> None:
    r = rule()
    steps = 0.0
    for t, wobble in enumerate(jitter):
        assert r.verdict(math.floor(steps), kmh, float(t)) is V.fine
        steps += kmh / 3.6 / (step_m * (1 + wobble))


@settings(max_examples=60, deadline=None)
@given(
    drop_at=st.integers(40, 120),
    factor=st.floats(0.3, 0.75),
    kmh=st.floats(0.8, 4.8),
)
def test_the_only_verdicts_are_fine_and_slow_and_slow_needs_the_hold(
    drop_at: int, factor: float, kmh: float
) -> None:
    """The rule has no verdict that could ask for more speed; a slow comes only after at least
    hold_s of shorter steps, and at most once per cool-down."""
    r = rule()
    _, steps = walk(r, range(0, drop_at), kmh, 0.4)
    verdicts, _ = walk(r, range(drop_at, drop_at + 200), kmh, 0.4 * factor, steps)
    fired = [drop_at + i for i, v in enumerate(verdicts) if v is V.slow]
    assert set(verdicts) <= {V.fine, V.slow}
    assert fired
    assert fired[0] - drop_at >= 20
    assert all(b - a >= 60 for a, b in itertools.pairwise(fired))
