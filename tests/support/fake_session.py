"""Small but real `SessionControl`s for channel tests that need neither engine nor simulator.

`StubSession` (the MQTT bridge's tests) keeps the protocol's promises (stop latches, stop passes
through `stopping` to `stopped`, pause only pauses, listeners are called synchronously) and records
every call, so a test can tell exactly what a remote peer managed to do to the session.
`FakeSession` (the control socket's tests) acknowledges a stop when the test says the treadmill
answered, or at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from retrotread.events import (
    CommandEvent,
    Event,
    SessionState,
    StopAck,
    StoppedEvent,
    TelemetryEvent,
)
from retrotread.session.control import SessionStatus
from retrotread.units import KMH_PER_MPH


class StubSession:
    def __init__(self, session_id: str = "stub-session", program: str = "first-steps") -> None:
        self.session_id = session_id
        self.program = program
        self.state = SessionState.running
        self.belt_mph = 1.0
        self.t = 0.0
        self.stop_sources: list[str] = []
        self.pause_sources: list[str] = []
        self.stopped = asyncio.Event()
        self.paused = asyncio.Event()
        self._listeners: list[Callable[[Event], None]] = []

    # -- SessionControl ---------------------------------------------------------------------

    def status(self) -> SessionStatus:
        return SessionStatus(
            session=self.session_id,
            state=self.state,
            program=self.program,
            segment="backward",
            segment_index=0,
            belt_mph=self.belt_mph,
            target_mph=1.0,
            elapsed_s=self.t,
            device="stub",
        )

    def request_stop(self, source: str) -> None:
        self.stop_sources.append(source)
        if self.state in (SessionState.stopping, SessionState.stopped):
            return
        self.state = SessionState.stopping
        self.emit(CommandEvent(t=self.t, op="stop", result="success", source=source))
        asyncio.get_running_loop().call_soon(self._finish_stop, source)

    async def stop(self, source: str) -> StopAck:
        self.request_stop(source)
        await self.stopped.wait()
        return StopAck(acknowledged=True, belt_mph=self.belt_mph)

    async def pause(self, source: str) -> StopAck:
        self.pause_sources.append(source)
        if self.state is SessionState.running:
            self.state = SessionState.paused
            self.emit(CommandEvent(t=self.t, op="pause", result="success", source=source))
        self.paused.set()
        return StopAck(acknowledged=True, belt_mph=self.belt_mph)

    def add_listener(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # -- driving it from a test -------------------------------------------------------------

    def emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            listener(event)

    def tick(self, dt: float = 1.0, mph: float = 1.0) -> TelemetryEvent:
        """Advance session time and emit one telemetry reading."""
        self.t += dt
        self.belt_mph = mph
        event = TelemetryEvent(
            t=self.t,
            speed_mph=mph,
            speed_kmh=round(mph * KMH_PER_MPH, 2),
            distance_m=round(self.t * mph * 0.447, 1),
            heart_rate_bpm=100,
            elapsed_s=self.t,
        )
        self.emit(event)
        return event

    def _finish_stop(self, source: str) -> None:
        self.belt_mph = 0.0
        self.state = SessionState.stopped
        self.emit(StoppedEvent(t=self.t, reason="estop", belt_mph=0.0, source=source))
        self.stopped.set()


class FakeSession:
    """A session whose belt 'stops' when the test says the treadmill answered (or at once)."""

    def __init__(self, session_id: str = "s1", *, auto_ack: bool = True) -> None:
        self.session_id = session_id
        self.calls: list[str] = []
        self.state = SessionState.running
        self.belt_mph = 1.2
        self.auto_ack = auto_ack
        self.treadmill_answered = asyncio.Event()
        self.stop_requested = asyncio.Event()

    def status(self) -> SessionStatus:
        return SessionStatus(
            session=self.session_id,
            state=self.state,
            program="first-steps",
            segment="warm-up",
            segment_index=0,
            belt_mph=self.belt_mph,
            target_mph=1.0,
            elapsed_s=42.5,
            device="SIM-TREADMILL",
        )

    def request_stop(self, source: str) -> None:
        self.calls.append(f"request_stop:{source}")
        if self.state is not SessionState.stopping:
            self.state = SessionState.stopping
            if self.auto_ack:
                self.treadmill_answered.set()
        self.stop_requested.set()

    async def stop(self, source: str) -> StopAck:
        self.calls.append(f"stop:{source}")
        self.request_stop(source)
        await self.treadmill_answered.wait()
        return StopAck(acknowledged=True, belt_mph=self.belt_mph)

    async def pause(self, source: str) -> StopAck:
        self.calls.append(f"pause:{source}")
        self.state = SessionState.paused
        return StopAck(acknowledged=True, belt_mph=self.belt_mph)

    def add_listener(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        return lambda: None
