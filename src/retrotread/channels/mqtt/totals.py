"""The running totals of the current session for `<base>/totals`: duration, backward time, energy.

Home Assistant shows them as three sensors (`discovery.py`); each starts at 0 when a session
starts and only grows while it runs, which is what `state_class: total_increasing` expects (a drop
to 0 is a new session, a new meter cycle). The figures are the ones `retrotread history` later
reads from the journal (`history/record.py`, which channels may not import), computed the same
way so that the live sensor and the history agree:
- a telemetry sample stands for the time to the next one, unless that gap is longer than
  `energy.MAX_SAMPLE_GAP_S` (a dropped link or a stalled machine: the belt in between is
  unknown; `energy.counted_s`);
- backward time is the time the belt moved (at least `energy.STANDSTILL_MPH`) in a backward
  segment (before the first segment the walker is taken to face backward);
- the energy is the estimate of `retrotread.energy` (net kcal, backward walking 1.4 x the
  Compendium's forward MET), never the treadmill's own kcal; without `user.weight_kg` there is
  no estimate (`kcal` is null, and the sensor is not advertised).
Pure bookkeeping, O(1) per event: it runs in the session's listener.
"""

from __future__ import annotations

from dataclasses import dataclass

from retrotread import energy
from retrotread.events import (
    ConnectedEvent,
    Direction,
    Event,
    SegmentEvent,
    SummaryEvent,
    TelemetryEvent,
    facing_at_start,
)


@dataclass(frozen=True)
class _Sample:
    t: float
    mph: float
    incline_pct: float
    backward: bool


class SessionTotals:
    """Feed it every event of one session; read `duration_s`, `backward_s`, `kcal`."""

    def __init__(self, weight_kg: float | None) -> None:
        self.weight_kg = weight_kg
        self.duration_s = 0.0
        self.backward_s = 0.0
        self._met_minutes = 0.0
        self._direction = Direction.backward
        self._last: _Sample | None = None
        self._final = False

    @property
    def kcal(self) -> float | None:
        """The net energy estimate so far; None without a weight (no estimate without one)."""
        return energy.kcal_from_met_minutes(self._met_minutes, self.weight_kg)

    def observe(self, event: Event) -> None:
        if self._final:
            return  # after the summary nothing of this session is counted any more
        if isinstance(event, ConnectedEvent) and self._last is None:
            self._direction = facing_at_start(event)
        elif isinstance(event, SegmentEvent):
            self._direction = event.direction
        elif isinstance(event, TelemetryEvent):
            self._count_until(event.t)
            self._last = _Sample(
                event.t,
                event.speed_mph,
                event.incline_pct or 0.0,
                self._direction is Direction.backward,
            )
        if isinstance(event, SummaryEvent):
            self.duration_s = event.duration_s
            self._final = True
        else:
            self.duration_s = max(self.duration_s, event.t)

    def _count_until(self, t: float) -> None:
        """Credit the previous sample with the time up to `t` (the next sample's time)."""
        last = self._last
        if last is None:
            return
        gap = energy.counted_s(t - last.t)
        if gap == 0:
            return
        if last.backward and last.mph >= energy.STANDSTILL_MPH:
            self.backward_s += gap
        self._met_minutes += energy.net_met_minutes(
            last.mph, last.incline_pct, gap, backward=last.backward
        )

    def as_json(self) -> dict[str, float | None]:
        """The `<base>/totals` payload's figures (the bridge adds the session id)."""
        kcal = self.kcal
        return {
            "duration_s": round(self.duration_s, 1),
            "backward_s": round(self.backward_s, 1),
            "kcal": None if kcal is None else round(kcal, 2),
        }
