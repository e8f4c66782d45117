"""The JSON events of SPEC.md: one model per `event`, shared by `--json`, the journal and MQTT.

Events are immutable values; `t` is seconds since session start on the event loop's clock
(virtual seconds on the simulator). `to_json()` drops absent optional fields, as SPEC.md's
"when present" says.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

Direction = Literal["backward", "forward"]
CommandOp = Literal[
    "request_control", "start", "set_speed", "set_incline", "stop", "pause", "reset"
]
SafetyAction = Literal["stop", "slow", "pause"]
StopReason = Literal["completed", "estop", "safety_key", "console_stop", "fault", "interrupted"]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    t: float

    def to_json(self) -> str:
        return self.json_line

    @cached_property
    def json_line(self) -> str:
        """Serialised once per event, however many sinks (journal, --json, MQTT) write it."""
        return self.model_dump_json(exclude_none=True)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        copy = super().model_copy(update=update, deep=deep)
        copy.__dict__.pop("json_line", None)  # the copy's fields may differ: serialise anew
        return copy


class ConnectedEvent(_Event):
    event: Literal["connected"] = "connected"
    device: str
    speed_range_kmh: tuple[float, float, float]
    incline_range_pct: tuple[float, float, float] | None = None
    features: list[str]
    target_settings: list[str] = Field(default_factory=list)


class SegmentEvent(_Event):
    event: Literal["segment"] = "segment"
    index: int
    name: str
    direction: Direction
    target_mph: float
    duration_s: float
    incline_pct: float | None = None


class CommandEvent(_Event):
    event: Literal["command"] = "command"
    op: CommandOp
    mph: float | None = None
    kmh: float | None = None
    incline_pct: float | None = None
    result: str
    source: str | None = None


class TelemetryEvent(_Event):
    event: Literal["telemetry"] = "telemetry"
    speed_mph: float
    speed_kmh: float
    distance_m: float | None = None
    incline_pct: float | None = None
    heart_rate_bpm: int | None = None
    elapsed_s: float | None = None


class SafetyEvent(_Event):
    event: Literal["safety"] = "safety"
    reason: str
    action: SafetyAction
    detail: str | None = None


class PromptEvent(_Event):
    """A message for the walker (turn-around, confirm); the live view shows it prominently."""

    event: Literal["prompt"] = "prompt"
    message: str


class StoppedEvent(_Event):
    event: Literal["stopped"] = "stopped"
    reason: StopReason
    belt_mph: float
    source: str | None = None


class SummaryEvent(_Event):
    event: Literal["summary"] = "summary"
    outcome: Literal["completed", "stopped"]
    duration_s: float
    distance_m: float
    max_speed_mph: float
    session: str
    program: str | None = None


Event = Annotated[
    ConnectedEvent
    | SegmentEvent
    | CommandEvent
    | TelemetryEvent
    | SafetyEvent
    | PromptEvent
    | StoppedEvent
    | SummaryEvent,
    Field(discriminator="event"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(line: str | bytes) -> Event:
    """Parse one journal or `--json` line back into its model."""
    return EVENT_ADAPTER.validate_json(line)
