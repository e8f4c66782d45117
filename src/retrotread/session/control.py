"""What the outside world (control socket, MQTT, live view) may do to a running session.

This is deliberately narrow: it can stop, pause and observe. Nothing here can start, resume or
speed up the belt, so no remote channel can either. A running session implements `SessionControl`;
the control socket and the MQTT bridge are written against this protocol only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from retrotread.events import Event, SessionState, StopAck


@dataclass(frozen=True)
class SessionStatus:
    session: str
    state: SessionState
    program: str
    segment: str | None
    segment_index: int | None
    belt_mph: float
    target_mph: float | None
    elapsed_s: float
    device: str


EventListener = Callable[[Event], None]


class SessionControl(Protocol):
    def status(self) -> SessionStatus: ...

    def request_stop(self, source: str) -> None:
        """Latch the stop and put FTMS Stop on the wire now; never awaits (the hot path)."""

    async def stop(self, source: str) -> StopAck:
        """`request_stop`, then wait until the treadmill acknowledged it (or it failed)."""

    async def pause(self, source: str) -> StopAck:
        """Pause the belt (FTMS Stop/Pause with pause); only the local walker can resume."""

    def add_listener(self, listener: EventListener) -> Callable[[], None]:
        """Call `listener` synchronously for every event; returns a function that removes it.

        Listeners must not block: a slow consumer (MQTT) queues and drops on its own side."""
