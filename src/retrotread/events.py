"""The shared words of retrotread and the JSON events of SPEC.md.

The words (which way the walker faces, why a session stopped, who asked, what the safety
supervisor saw, which control-point operation, a machine's quirks, a session's state) are
defined once here and used by every layer, from the treadmill client to the CLI.

Events are immutable values, one model per `event`, shared by `--json`, the journal and MQTT;
`t` is seconds since session start on the event loop's clock (virtual seconds on the simulator).
`to_json()` drops absent optional fields, as SPEC.md's "when present" says.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class Direction(enum.StrEnum):
    """Which way the walker faces on the belt."""

    backward = "backward"
    forward = "forward"


CommandOp = Literal[
    "request_control", "start", "set_speed", "set_incline", "stop", "pause", "reset"
]
"""A control-point write, as `command` events name it."""

SafetyAction = Literal["stop", "slow", "pause"]

StopReason = Literal["completed", "estop", "safety_key", "console_stop", "fault", "interrupted"]
"""`stopped.reason`: what ended the session (SPEC.md)."""

StopSource = str
"""Who asked for a stop or pause: a channel ("mqtt", "socket", "walker", "sigint", ...) or a
part of the program ("supervisor", "engine", "program"); free-form, shown to people."""

SafetyReason = Literal[
    "overspeed",
    "telemetry_stale",
    "disconnected",
    "heart_rate",
    "estop",
    "safety_key",
    "console_stop",
    "control_refused",
    "control_lost",
    "no_answer",
    "pause_failed",
    "start_failed",
    "pacer_error",
    "stop_unverified",
    "heart_rate_lost",
    "struggle",
]
"""`safety.reason`: what the supervisor (or the engine) saw."""


class QuirkName(enum.StrEnum):
    """Misbehaviours seen on real machines (DESIGN.md, "FTMS facts that bite"): the client's
    workarounds, the `[device] quirks` config list and the simulator's profiles share them."""

    request_control_rejected = "request_control_rejected"
    ack_by_machine_status = "ack_by_machine_status"
    stale_stop_on_subscribe = "stale_stop_on_subscribe"
    start_before_speed = "start_before_speed"
    start_toggles_pause = "start_toggles_pause"
    speed_param_mph = "speed_param_mph"
    min_speed_1kmh = "min_speed_1kmh"
    zero_packets = "zero_packets"
    single_central = "single_central"


class SessionState(enum.StrEnum):
    """A session's state as the control socket, MQTT and the live view report it."""

    idle = "idle"
    starting = "starting"
    running = "running"
    paused = "paused"
    stopping = "stopping"
    stopped = "stopped"
    fault = "fault"


@dataclass(frozen=True)
class StopAck:
    """The supervisor's answer to a stop or pause: `acknowledged` once FTMS Stop was written
    and answered success (or the belt was already latched stopped); `belt_mph` is the last speed
    the session saw."""

    acknowledged: bool
    belt_mph: float
    detail: str = ""


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
    # What the session set out to do, so that history, exports and the coach read it from the
    # journal alone: the program's name and the plan as run (after caps), in the schema of a
    # plan file, which `run --plan` accepts back.
    program: str | None = None
    plan: dict[str, Any] | None = None


def facing_at_start(connected: ConnectedEvent | None) -> Direction:
    """Which way the walker faces before the first `segment` event (the countdown, the first
    ramp): the way the plan's first segment goes, backward when the journal does not say."""
    segments = (connected.plan or {}).get("segments") if connected is not None else None
    if segments and isinstance(segments[0], dict):
        with contextlib.suppress(ValueError):
            return Direction(segments[0].get("direction", Direction.backward))
    return Direction.backward


class SegmentEvent(_Event):
    """A segment begins: emitted when the walker starts doing what it says. After a direction
    change that is the moment of the turn (the slow-down before it still belongs to the segment
    before), so `remaining_s`, the seconds left of it by the program's schedule, may be less than
    `duration_s`: the turn-around took the rest."""

    event: Literal["segment"] = "segment"
    index: int
    name: str
    direction: Direction
    target_mph: float
    duration_s: float
    incline_pct: float | None = None
    remaining_s: float | None = None


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
    heart_rate_source: Literal["strap", "treadmill"] | None = None
    elapsed_s: float | None = None


class SafetyEvent(_Event):
    event: Literal["safety"] = "safety"
    reason: SafetyReason
    action: SafetyAction
    detail: str | None = None


PromptKind = Literal["confirm", "start", "resume", "turnaround", "notice"]
"""`prompt.kind`: what a prompt is about; absent for a one-off message (the struggle governor's)."""

TurnaroundPhase = Literal["slowing", "turn", "resuming", "ramping", "done"]
"""A turn-around's phases, in order: the belt slows to the floor (the walker still faces the old
way), the walker turns (belt seen at the floor, or paused), the countdown before the belt moves
again, the ramp to the new segment's speed, and done (its prompt clears the screen)."""


class PromptEvent(_Event):
    """What the walker (and whoever stands beside the treadmill) should see now; the live view
    shows it prominently. There is one current prompt: each replaces the one before, and an
    empty `message` clears it (nothing to do but walk).

    `direction` is the way the walker faces during the prompt, `next_direction` the way they
    will face after a turn-around, `target_mph` the speed the belt is heading for (a turn-around's
    slow-down and ramp), `in_s` the seconds until the belt moves (countdowns). A
    turn-around's prompts carry its `phase` and the seconds it spent so far in each phase
    (`slowing_s`, `holding_s`, `ramping_s`, each once that phase is over); the `done` prompt
    carries all three."""

    event: Literal["prompt"] = "prompt"
    message: str
    kind: PromptKind | None = None
    phase: TurnaroundPhase | None = None
    direction: Direction | None = None
    next_direction: Direction | None = None
    target_mph: float | None = None
    in_s: float | None = None
    slowing_s: float | None = None
    holding_s: float | None = None
    ramping_s: float | None = None


CueKind = Literal[
    "starting",
    "speed_up",
    "slow_down",
    "turnaround",
    "resuming",
    "time_left",
    "heart_rate",
    "paused",
    "stopping",
    "stopped",
    "belt_moving",
    "completed",
]
"""`cue.kind`: what the walker is told aloud (SPEC.md "Walker cues")."""


class CueEvent(_Event):
    """What the walker was told aloud (or would have been, with cues off); `in_s` is the
    seconds until the change it announces, for a coming change."""

    event: Literal["cue"] = "cue"
    kind: CueKind
    text: str
    in_s: float | None = None


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


RPE_MIN = 6  # Borg's rating of perceived exertion runs 6 ("no exertion") to 20 ("maximal")
RPE_MAX = 20


class RpeEvent(_Event):
    """How hard the session felt (Borg 6-20), asked at its end, from `run --rpe`, or from
    `retrotread rate` afterwards (then appended to the journal; the latest one counts)."""

    event: Literal["rpe"] = "rpe"
    rpe: Annotated[int, Field(ge=RPE_MIN, le=RPE_MAX, strict=True)]
    source: Literal["prompt", "flag", "rate"] | None = None


Event = Annotated[
    ConnectedEvent
    | SegmentEvent
    | CommandEvent
    | TelemetryEvent
    | SafetyEvent
    | PromptEvent
    | CueEvent
    | StoppedEvent
    | SummaryEvent
    | RpeEvent,
    Field(discriminator="event"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(line: str | bytes) -> Event:
    """Parse one journal or `--json` line back into its model."""
    return EVENT_ADAPTER.validate_json(line)
