"""The energy estimate of SPEC.md "history": net kcal of walking, backward or forward, from belt
speed, grade and the walker's weight. Always an estimate, and labelled one wherever it shows.

Why not the treadmill's own kcal: consoles assume forward walking (and often a default weight),
and backward walking costs markedly more at the same speed. SPEC's rule: the MET of backward
walking is 1.4 x the Compendium of Physical Activities value for forward walking at the same speed
and grade (its backward codes 17320/17325 are 6.0 MET at 3.5 mph level and 8.0 MET at 3.5 mph,
5 % grade), and net kcal per minute = (MET - 1) x 3.5 x kg / 200: the resting MET is taken off,
so a session's figure is what walking added.

Forward walking at belt speeds (Compendium 2011, level, firm surface): 2.0 MET below 2.0 mph
(17151), 2.8 at 2.0 mph (17152), 3.0 at 2.5 mph (17170), 3.5 at 2.8-3.2 mph (17190), and
6.0 / 1.4 = 4.29 at 3.5 mph, so that the backward figure meets SPEC's anchor exactly; linear in
between, and 1.3 MET (standing, 07040) at a standstill, where nothing is counted. Grade adds
MET in proportion to vertical speed (as the ACSM walking equation does), scaled so that 3.5 mph
at 5 % gives SPEC's 8.0 backward.

Shared vocabulary (not `history/`): the MQTT bridge publishes the running estimate live, and
channels sit below history. So is the rule for how long a telemetry sample counts
(`counted_s`), which the estimate and the walking times both rest on.
"""

from __future__ import annotations

from bisect import bisect_right

BACKWARD_FACTOR = 1.4
# (mph, MET) for forward walking on the level; linear in between, flat beyond the ends.
_LEVEL_MET = ((0.0, 1.3), (1.0, 2.0), (2.0, 2.8), (2.5, 3.0), (3.0, 3.5), (3.5, 6.0 / 1.4))
# Forward MET added per mph of speed per % of grade: 3.5 mph at 5 % is 8.0 / 1.4 forward, so
# (8.0 - 6.0) / 1.4 over 3.5 x 5.
_GRADE_MET_PER_MPH_PCT = (8.0 - 6.0) / BACKWARD_FACTOR / (3.5 * 5.0)
KCAL_PER_MET_MIN_PER_KG = 3.5 / 200  # the Compendium's kcal/min = MET x 3.5 x kg / 200
STANDSTILL_MPH = 0.05  # below this the belt is stopped: no walking, nothing counted
# A gap between two telemetry samples longer than this (a dropped link, a stalled machine) is not
# counted as walking time: the belt's state in between is unknown.
MAX_SAMPLE_GAP_S = 5.0


def counted_s(gap_s: float) -> float:
    """The seconds a telemetry sample stands for, given the gap to the next one: all of it, or
    nothing after a gap longer than MAX_SAMPLE_GAP_S (or none: the last sample, a clock that
    went back). History (`history/record.py`) and the live MQTT totals count time alike."""
    return gap_s if 0 < gap_s <= MAX_SAMPLE_GAP_S else 0.0


def forward_met(mph: float, grade_pct: float = 0.0) -> float:
    """Compendium MET of walking forward at `mph` up a `grade_pct` slope (no credit downhill)."""
    speeds = [point[0] for point in _LEVEL_MET]
    i = bisect_right(speeds, mph)
    if i == 0:
        level = _LEVEL_MET[0][1]
    elif i == len(_LEVEL_MET):
        (x0, y0), (x1, y1) = _LEVEL_MET[-2], _LEVEL_MET[-1]
        level = y1 + (y1 - y0) / (x1 - x0) * (mph - x1)  # the last slope, for forward segments
    else:
        (x0, y0), (x1, y1) = _LEVEL_MET[i - 1], _LEVEL_MET[i]
        level = y0 + (y1 - y0) * (mph - x0) / (x1 - x0)
    return level + _GRADE_MET_PER_MPH_PCT * mph * max(0.0, grade_pct)


def met(mph: float, grade_pct: float = 0.0, *, backward: bool = True) -> float:
    """MET of walking at `mph` and `grade_pct`, backward (1.4 x forward) or forward."""
    value = forward_met(mph, grade_pct)
    return value * BACKWARD_FACTOR if backward else value


def net_kcal(mph: float, grade_pct: float, seconds: float, weight_kg: float, *,
             backward: bool = True) -> float:  # fmt: skip
    """Net kcal of `seconds` at one speed and grade: 0 with the belt stopped."""
    if mph < STANDSTILL_MPH or seconds <= 0:
        return 0.0
    net_met = max(0.0, met(mph, grade_pct, backward=backward) - 1.0)
    return net_met * KCAL_PER_MET_MIN_PER_KG * weight_kg * seconds / 60.0


def net_met_minutes(
    mph: float, grade_pct: float, seconds: float, *, backward: bool = True
) -> float:
    """The weight-free part of `net_kcal` (net MET x minutes): an index can store it and the
    kcal follow from whatever weight the user gives later (kcal = this x 3.5 x kg / 200)."""
    return net_kcal(mph, grade_pct, seconds, 1.0, backward=backward) / KCAL_PER_MET_MIN_PER_KG


def kcal_from_met_minutes(met_minutes: float, weight_kg: float | None) -> float | None:
    """kcal for a weight, or None without one: SPEC gives no estimate without `user.weight_kg`."""
    return None if weight_kg is None else met_minutes * KCAL_PER_MET_MIN_PER_KG * weight_kg
