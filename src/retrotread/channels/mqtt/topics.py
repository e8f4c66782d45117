"""Topic names and the command vocabulary of SPEC.md's MQTT section.

Kept free of I/O so the bridge, the remote stop and the tests agree on one spelling, and so the rule
"remote commands can only make the belt safer" lives in one small, testable function.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass

HA_PREFIX = "homeassistant"
HA_STATUS_TOPIC = f"{HA_PREFIX}/status"
FLEET_ID = "all"
ONLINE = "online"
OFFLINE = "offline"
ACK_STATES = frozenset({"stopping", "stopped", "fault"})
FINAL_STATES = frozenset({"stopped", "fault"})

_MAX_COMMAND_BYTES = 256
_ID_UNSAFE = re.compile(r"[^a-z0-9_-]+")


class RemoteCommand(enum.StrEnum):
    """The only things a remote peer may ask for: both can only slow or stop the belt."""

    stop = "stop"
    pause = "pause"


def sanitize_id(raw: str) -> str:
    """A topic level and Home Assistant object id: lowercase `[a-z0-9_-]`, never empty.

    MQTT wildcards (`+`, `#`) or `/` in an id would let one treadmill's topics cover another's."""
    cleaned = _ID_UNSAFE.sub("-", raw.strip().lower()).strip("-")
    return cleaned or "treadmill"


@dataclass(frozen=True)
class Topics:
    """Every topic one treadmill publishes or listens to."""

    base_topic: str
    id: str

    @property
    def base(self) -> str:
        return f"{self.base_topic}/{self.id}"

    @property
    def availability(self) -> str:
        return f"{self.base}/availability"

    @property
    def state(self) -> str:
        return f"{self.base}/state"

    @property
    def telemetry(self) -> str:
        return f"{self.base}/telemetry"

    @property
    def totals(self) -> str:
        """Retained JSON: the current session's duration, backward time and energy estimate."""
        return f"{self.base}/totals"

    @property
    def event(self) -> str:
        """Not retained: one JSON object per session moment (`triggers.py`)."""
        return f"{self.base}/event"

    @property
    def command(self) -> str:
        return f"{self.base}/command"

    @property
    def fleet_command(self) -> str:
        return f"{self.base_topic}/{FLEET_ID}/command"

    @property
    def all_state(self) -> str:
        """Wildcard over every treadmill's state (remote stop of the fleet)."""
        return f"{self.base_topic}/+/state"

    @property
    def all_availability(self) -> str:
        return f"{self.base_topic}/+/availability"

    def id_of(self, topic: str) -> str | None:
        """The treadmill id in `<base_topic>/<id>/<leaf>`, or None for a foreign topic."""
        prefix = f"{self.base_topic}/"
        if not topic.startswith(prefix):
            return None
        parts = topic[len(prefix) :].split("/")
        return parts[0] if len(parts) == 2 else None


def parse_command(payload: bytes) -> tuple[RemoteCommand | None, str]:
    """Map a command payload to a safe command, or None and the reason it was refused.

    Accepts `stop` / `pause` as plain text (any case, surrounding blanks) or `{"cmd": "stop"}`.
    Everything else -- start, resume, speeds, unknown words, bad UTF-8, huge payloads -- is refused:
    nothing remote may start, resume or speed up the belt."""
    if len(payload) > _MAX_COMMAND_BYTES:
        return None, f"payload too long ({len(payload)} bytes)"
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None, "payload is not UTF-8"
    word: object = text
    if text.startswith("{"):
        try:
            decoded = json.loads(text)
        except ValueError:
            return None, "malformed JSON"
        word = decoded.get("cmd") if isinstance(decoded, dict) else None
    if not isinstance(word, str):
        return None, "no command word"
    try:
        return RemoteCommand(word.strip().lower()), ""
    except ValueError:
        return None, f"command {word[:40]!r} is not allowed remotely (only stop, pause)"
