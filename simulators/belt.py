"""Belt physics: how a treadmill motor follows commands, stepped with an explicit dt.

Real belts do not jump to a new speed: the controller waits a moment (command lag), then ramps at
a bounded rate, and a Stop brakes harder than a speed change. The client's watchdogs and the
supervisor's stop verification are only honest if the simulated belt behaves like that. The model
is pure (no clock, no I/O) so tests can step it deterministically; the treadmill drives it from the
event loop's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

KMH_PER_MPS = 3.6


@dataclass(frozen=True)
class BeltDynamics:
    """The motor's limits, taken from a device profile."""

    accel_kmh_per_s: float
    decel_kmh_per_s: float
    stop_decel_kmh_per_s: float
    command_lag_s: float
    incline_rate_pct_per_s: float
    max_speed_kmh: float


class _Command(Enum):
    SPEED = auto()
    STOP = auto()
    INCLINE = auto()


@dataclass
class _Pending:
    due_s: float
    command: _Command
    value: float


class Belt:
    """Belt speed, incline and distance; commands take effect after the profile's lag."""

    def __init__(self, dynamics: BeltDynamics) -> None:
        self.dynamics = dynamics
        self.speed_kmh = 0.0
        self.incline_pct = 0.0
        self.distance_m = 0.0
        self.overspeed_factor = 1.0
        self._goal_kmh = 0.0
        self._goal_incline_pct = 0.0
        self._braking = False
        self._clock_s = 0.0
        self._pending: list[_Pending] = []

    @property
    def goal_kmh(self) -> float:
        """The speed the motor is heading for now (after lag, with any overspeed fault)."""
        return min(self._goal_kmh * self.overspeed_factor, self.dynamics.max_speed_kmh)

    @property
    def stopped(self) -> bool:
        return self.speed_kmh == 0.0 and self.goal_kmh == 0.0

    def command_speed(self, kmh: float) -> None:
        self._schedule(_Command.SPEED, max(0.0, kmh))

    def command_stop(self) -> None:
        """Brake to 0 at the stop deceleration, after the usual command lag."""
        self._schedule(_Command.STOP, 0.0)

    def command_incline(self, pct: float) -> None:
        self._schedule(_Command.INCLINE, pct)

    def halt(self) -> None:
        """Safety key: no lag, pending commands dropped, brake at the stop deceleration."""
        self._pending.clear()
        self._apply(_Command.STOP, 0.0)

    def advance(self, dt_s: float) -> None:
        """Move the belt `dt_s` seconds forward, applying commands as they fall due."""
        if dt_s < 0:
            raise ValueError("dt must be >= 0")
        end_s = self._clock_s + dt_s
        while self._pending and self._pending[0].due_s <= end_s:
            pending = self._pending.pop(0)
            self._integrate(pending.due_s - self._clock_s)
            self._apply(pending.command, pending.value)
        self._integrate(end_s - self._clock_s)

    def _schedule(self, command: _Command, value: float) -> None:
        due_s = self._clock_s + self.dynamics.command_lag_s
        self._pending.append(_Pending(due_s, command, value))
        if self.dynamics.command_lag_s == 0:
            self.advance(0.0)

    def _apply(self, command: _Command, value: float) -> None:
        if command is _Command.INCLINE:
            self._goal_incline_pct = value
            return
        self._goal_kmh = value
        self._braking = command is _Command.STOP

    def _integrate(self, dt_s: float) -> None:
        if dt_s <= 0:
            return
        self._clock_s += dt_s
        self.incline_pct = _approach(
            self.incline_pct, self._goal_incline_pct, self.dynamics.incline_rate_pct_per_s, dt_s
        )
        start_kmh = self.speed_kmh
        goal_kmh = self.goal_kmh
        if goal_kmh >= start_kmh:
            rate = self.dynamics.accel_kmh_per_s
        elif self._braking:
            rate = self.dynamics.stop_decel_kmh_per_s
        else:
            rate = self.dynamics.decel_kmh_per_s
        ramp_s = min(dt_s, abs(goal_kmh - start_kmh) / rate) if rate > 0 else dt_s
        end_kmh = _approach(start_kmh, goal_kmh, rate, dt_s)
        # Exact area under a ramp followed by a constant speed.
        mean_ramp_kmh = (start_kmh + end_kmh) / 2
        self.distance_m += (mean_ramp_kmh * ramp_s + end_kmh * (dt_s - ramp_s)) / KMH_PER_MPS
        self.speed_kmh = end_kmh
        if self._braking and end_kmh == 0.0:
            self._braking = False


def _approach(value: float, goal: float, rate: float, dt_s: float) -> float:
    step = rate * dt_s
    if abs(goal - value) <= step:
        return goal
    return value + step if goal > value else value - step
