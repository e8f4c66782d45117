"""The energy estimate of SPEC.md: backward MET = 1.4 x the Compendium's forward walking value,
net kcal = (MET - 1) x 3.5 x kg / 200 per minute."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrotread import energy


def test_the_compendium_backward_anchors_of_spec() -> None:
    assert energy.met(3.5, 0.0) == pytest.approx(6.0)
    assert energy.met(3.5, 5.0) == pytest.approx(8.0)
    assert energy.met(2.0, 0.0, backward=False) == pytest.approx(2.8)


def test_net_kcal_per_minute_follows_the_formula() -> None:
    kcal = energy.net_kcal(3.5, 0.0, 60.0, 70.0)
    assert kcal == pytest.approx((6.0 - 1) * 3.5 * 70 / 200)


def test_a_stopped_belt_counts_nothing() -> None:
    assert energy.net_kcal(0.0, 5.0, 600.0, 80.0) == 0.0


@given(
    st.floats(0.1, 4.0),
    st.floats(0.0, 10.0),
    st.floats(0.01, 0.5),
    st.floats(0.0, 5.0),
)
def test_more_speed_or_grade_never_costs_less(
    mph: float, grade: float, dv: float, dg: float
) -> None:
    assert energy.met(mph + dv, grade) >= energy.met(mph, grade)
    assert energy.met(mph, grade + dg) >= energy.met(mph, grade)
    assert energy.met(mph, grade) > energy.met(mph, grade, backward=False)


def test_met_minutes_give_the_same_kcal_as_a_weight() -> None:
    minutes = energy.net_met_minutes(1.2, 2.0, 300.0)
    assert energy.kcal_from_met_minutes(minutes, 75.0) == pytest.approx(
        energy.net_kcal(1.2, 2.0, 300.0, 75.0)
    )
    assert energy.kcal_from_met_minutes(minutes, None) is None
