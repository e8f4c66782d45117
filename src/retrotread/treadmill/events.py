"""What the Treadmill reports, as typed values stamped with the event loop's clock.

The values are normalised (speed in km/h, None when absent or "not available") so that the
supervisor and the engine never look at FTMS flags; `raw` keeps the decoded codec value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from retrotread.ftms import MachineStatusOpCode

StopControl = Literal["stop", "pause"]
HeartRateOrigin = Literal["strap", "treadmill"]
"""Where a Telemetry heart rate came from: a paired strap wins over the treadmill's receiver."""


class HeartRateSource(Protocol):
    """A heart rate to put into Telemetry (the strap client): the current one, or None."""

    def current_bpm(self, now: float) -> int | None: ...


@dataclass(frozen=True)
class Telemetry:
    received_at: float
    speed_kmh: float | None
    distance_m: float | None = None
    incline_pct: float | None = None
    heart_rate_bpm: int | None = None
    elapsed_s: float | None = None
    raw: object = None
    heart_rate_source: HeartRateOrigin | None = None
    # Total steps, on machines that count them (Treadmill Data bit 13, the KingSmith/FitShow use).
    step_count: int | None = None


@dataclass(frozen=True)
class MachineStatus:
    """A Fitness Machine Status notification: `opcode` says what changed (the supervisor's
    watch decides on it), `kind` is its snake_case name for logs and people."""

    received_at: float
    opcode: MachineStatusOpCode
    control: StopControl | None = None
    target_speed_kmh: float | None = None
    raw: object = None

    @property
    def kind(self) -> str:
        return self.opcode.name


@dataclass(frozen=True)
class TrainingStatus:
    received_at: float
    status: str
    raw: object = None


@dataclass(frozen=True)
class Disconnected:
    received_at: float


TreadmillEvent = Telemetry | MachineStatus | TrainingStatus | Disconnected
TreadmillListener = Callable[[TreadmillEvent], None]
