"""The lost-heart-rate rule, swept without a treadmill: time passed in."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from retrotread.safety.watch import HeartRateLoss, HeartRateLossVerdict

V = HeartRateLossVerdict


def test_missing_for_the_timeout_while_needed_holds_until_it_is_back() -> None:
    rule = HeartRateLoss(10.0)
    assert rule.verdict(120, 0.0, needed=True) is V.fine
    assert [rule.verdict(None, t, needed=True) for t in (1.0, 9.0)] == [V.fine, V.fine]
    assert rule.verdict(None, 10.0, needed=True) is V.lost
    assert rule.lost
    assert rule.verdict(None, 30.0, needed=True) is V.holding
    assert rule.verdict(118, 31.0, needed=True) is V.back
    assert not rule.lost
    assert rule.verdict(None, 40.0, needed=True) is V.fine  # 9 s since the last one


def test_not_needed_never_holds_and_the_count_starts_when_needed() -> None:
    rule = HeartRateLoss(10.0)
    assert all(rule.verdict(None, float(t), needed=False) is V.fine for t in range(100))
    assert rule.verdict(None, 100.0, needed=True) is V.fine
    assert rule.verdict(None, 109.0, needed=True) is V.fine
    assert rule.verdict(None, 110.0, needed=True) is V.lost


def test_the_need_going_away_ends_the_hold() -> None:
    rule = HeartRateLoss(10.0)
    rule.verdict(None, 0.0, needed=True)
    assert rule.verdict(None, 10.0, needed=True) is V.lost
    assert rule.verdict(None, 11.0, needed=False) is V.back
    assert not rule.lost


@given(st.lists(st.tuples(st.none() | st.integers(40, 200), st.booleans()), max_size=60))
def test_a_hold_only_ever_follows_timeout_seconds_without_a_needed_heart_rate(
    packets: list[tuple[int | None, bool]],
) -> None:
    rule = HeartRateLoss(5.0)
    quiet_since: float | None = None
    for second, (bpm, needed) in enumerate(packets):
        now = float(second)
        if bpm is not None:
            quiet_since = now  # the last heart rate
        elif not needed:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now  # needed from now on
        verdict = rule.verdict(bpm, now, needed=needed)
        if verdict is V.lost:
            assert quiet_since is not None
            assert now - quiet_since >= 5.0
        assert rule.lost == (verdict in (V.lost, V.holding))
