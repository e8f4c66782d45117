"""Session moments for automations: the messages of `<base>/event` and the triggers they fire.

Each moment is one JSON object on `<base>/event`, named by `type` and `subtype` exactly as the Home
Assistant device trigger it fires (`discovery.py` advertises one per pair), plus `session`,
`program`, `t` and what the moment carries:
- `started` / `session`: the session's first Start was acknowledged (a resume is no start);
- `safety_stop` / reason: the stop of a session that ended early, once the stop is over (the
  belt seen at 0, or given up on); with `reason` (`stopped.reason`) and `detail` when known;
- `completed` / `session`: the program ran out and the belt was seen at 0 (`summary.outcome`
  completed); with the summary's `outcome`, `reason`, `duration_s`, `distance_m`,
  `max_speed_mph`;
- `ended` / `session`: the session is over, however it ended ("fan off"); the same fields.

The safety stop's subtype is the most precise reason known: `estop`, `safety_key` or
`console_stop` as `stopped.reason` names them (the first stop wins: an estop whose Stop was then
never confirmed is still an estop); for a supervisor fault, the `safety` event that caused it
(`overspeed`, `telemetry_stale`, `disconnected`, `heart_rate`, ...), else `fault`; and
`stop_unverified` for a program that ran out but whose belt was never seen at 0. A Ctrl-C
(`interrupted`) is the operator's own stop, not a safety stop: it only ends the session.
Besides its own trigger, every safety stop also fires `safety_stop` / `any`, whose config
matches on the type alone, so "tell me about any safety stop" is one trigger, not fifteen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, get_args

from retrotread.events import (
    CommandEvent,
    Event,
    SafetyEvent,
    SafetyReason,
    StoppedEvent,
    SummaryEvent,
)

SESSION: Final = "session"
SAFETY_STOP: Final = "safety_stop"
ANY: Final = "any"
# Safety reasons whose action is never a stop (SPEC.md "Heart rate", the struggle governor).
_SLOW_ONLY: Final = frozenset({"heart_rate_lost", "struggle"})
_MACHINE_OR_PERSON: Final = frozenset({"estop", "safety_key", "console_stop"})
SAFETY_SUBTYPES: Final = (
    *(reason for reason in get_args(SafetyReason) if reason not in _SLOW_ONLY),
    "fault",
)
FULL_TEMPLATE: Final = "{{ value_json.type }} {{ value_json.subtype }}"
TYPE_TEMPLATE: Final = "{{ value_json.type }}"


@dataclass(frozen=True)
class Trigger:
    """One Home Assistant device trigger: the (type, subtype) pair, and how its config matches
    a message of `<base>/event` (a template over the JSON and the string it must render)."""

    type: str
    subtype: str

    @property
    def object_id(self) -> str:
        return self.type if self.subtype == SESSION else f"{self.type}_{self.subtype}"

    @property
    def value_template(self) -> str:
        return TYPE_TEMPLATE if self.subtype == ANY else FULL_TEMPLATE

    @property
    def payload(self) -> str:
        return self.type if self.subtype == ANY else f"{self.type} {self.subtype}"


STARTED: Final = Trigger("started", SESSION)
COMPLETED: Final = Trigger("completed", SESSION)
ENDED: Final = Trigger("ended", SESSION)
TRIGGERS: Final = (
    STARTED,
    COMPLETED,
    ENDED,
    Trigger(SAFETY_STOP, ANY),
    *(Trigger(SAFETY_STOP, reason) for reason in SAFETY_SUBTYPES),
)


@dataclass(frozen=True)
class Moment:
    """A message for `<base>/event`: which trigger, and its fields besides the session's own."""

    trigger: Trigger
    fields: dict[str, object]

    def body(self) -> dict[str, object]:
        return {"type": self.trigger.type, "subtype": self.trigger.subtype, **self.fields}


class TriggerWatch:
    """Reads one session's events in order and says which moments they make. Pure, O(1)."""

    def __init__(self) -> None:
        self._started = False
        self._first_stop: SafetyEvent | None = None
        self._unverified = False
        self._stopped: StoppedEvent | None = None

    def observe(self, event: Event) -> list[Moment]:
        if isinstance(event, CommandEvent):
            if event.op == "start" and event.result == "success" and not self._started:
                self._started = True
                return [Moment(STARTED, {})]
        elif isinstance(event, SafetyEvent):
            if event.action == "stop" and self._first_stop is None:
                self._first_stop = event
            if event.reason == "stop_unverified":
                self._unverified = True
        elif isinstance(event, StoppedEvent) and self._stopped is None:
            self._stopped = event
            subtype = self._safety_subtype(event)
            if subtype is not None:
                fields: dict[str, object] = {"reason": event.reason}
                first = self._first_stop
                if first is not None and first.reason == subtype and first.detail:
                    fields["detail"] = first.detail
                return [Moment(Trigger(SAFETY_STOP, subtype), fields)]
        elif isinstance(event, SummaryEvent):
            figures: dict[str, object] = {
                "outcome": event.outcome,
                "reason": self._stopped.reason if self._stopped is not None else None,
                "duration_s": event.duration_s,
                "distance_m": event.distance_m,
                "max_speed_mph": event.max_speed_mph,
            }
            moments = [Moment(COMPLETED, figures)] if event.outcome == "completed" else []
            return [*moments, Moment(ENDED, figures)]
        return []

    def _safety_subtype(self, stopped: StoppedEvent) -> str | None:
        if stopped.reason in _MACHINE_OR_PERSON:
            return stopped.reason
        if stopped.reason == "fault":
            return self._first_stop.reason if self._first_stop is not None else "fault"
        if stopped.reason == "completed" and self._unverified:
            return "stop_unverified"
        return None  # completed (safely), or interrupted: no safety stop
