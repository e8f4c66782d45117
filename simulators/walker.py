"""A walker on the simulated belt: heart rate and energy that respond to speed and incline.

Good enough to exercise the client's heart-rate watchdog, energy fields and struggle governor,
not physiology. Steps follow the belt: the walker keeps one step length at every speed and speeds
up only by cadence, as older walkers do backward (DESIGN.md), so the belt distance over the step
length is the step count; a `struggle` fault shortens the steps (and so quickens them).
Energy uses the ACSM walking equation (VO2 = 3.5 + 0.1·v + 1.8·v·grade, v in m/min) with a
surcharge for walking backward, which costs more than walking forward. Heart rate follows
the effort with a first-order lag, as a real pulse does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BACKWARD_COST_FACTOR = 1.3
KCAL_PER_LITRE_O2 = 5.0
HEART_RATE_TIME_CONSTANT_S = 30.0
# Backward step length of an older walker at a self-selected pace, metres of belt per step.
STEP_LENGTH_M = 0.4


@dataclass
class Walker:
    """State of the person on the belt, stepped with an explicit dt."""

    mass_kg: float = 75.0
    resting_bpm: float = 70.0
    max_bpm: float = 185.0
    heart_rate_bpm: float = 70.0
    energy_kcal: float = 0.0
    energy_per_hour_kcal: float = 0.0
    heart_rate_override_bpm: int | None = None
    step_length_m: float = STEP_LENGTH_M
    steps: float = 0.0  # steps taken, fractional: the treadmill reports the whole ones

    def advance(self, dt_s: float, speed_kmh: float, incline_pct: float) -> None:
        metres_per_min = speed_kmh * 1000 / 60
        vo2 = 3.5 + 0.1 * metres_per_min + 1.8 * metres_per_min * max(incline_pct, 0) / 100
        if speed_kmh > 0:
            vo2 *= BACKWARD_COST_FACTOR
        kcal_per_min = vo2 * self.mass_kg / 1000 * KCAL_PER_LITRE_O2
        self.energy_per_hour_kcal = kcal_per_min * 60 if speed_kmh > 0 else 0.0
        if speed_kmh > 0:
            self.energy_kcal += kcal_per_min * dt_s / 60
            self.steps += speed_kmh / 3.6 * dt_s / self.step_length_m
        effort = min(1.0, (vo2 - 3.5) / 30)
        goal_bpm = self.resting_bpm + effort * (self.max_bpm - self.resting_bpm)
        blend = 1 - math.exp(-dt_s / HEART_RATE_TIME_CONSTANT_S)
        self.heart_rate_bpm += (goal_bpm - self.heart_rate_bpm) * blend

    def struggle(self, factor: float) -> None:
        """From now on steps are `factor` times as long: shorter and quicker at the same belt."""
        self.step_length_m = STEP_LENGTH_M * factor

    @property
    def step_count(self) -> int:
        """Whole steps taken, as a treadmill's step counter (u24) reports them."""
        return int(self.steps) % (1 << 24)

    @property
    def reported_heart_rate_bpm(self) -> int:
        """What the treadmill's heart-rate receiver reports (a fault may force a value)."""
        if self.heart_rate_override_bpm is not None:
            return self.heart_rate_override_bpm
        return round(self.heart_rate_bpm)
