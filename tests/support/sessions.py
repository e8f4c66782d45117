"""Whole simulated sessions as a library call, and the plans several tests walk."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from retrotread.errors import RetrotreadError
from retrotread.events import Event, SafetyEvent, StoppedEvent
from retrotread.run import RunOptions, SessionAttachment, SessionResult, run_to_result
from retrotread.session.control import SessionControl
from simulators.harness import Simulator

E = TypeVar("E")


@dataclass
class SimRun:
    """One finished simulated session: its result (or the error it raised), events, simulator."""

    result: SessionResult | None
    error: RetrotreadError | None
    events: list[Event]
    simulator: Simulator | None
    journal: Path | None = None
    final_belt_kmh: float | None = None  # the simulator's belt once the session ended

    @property
    def exit_code(self) -> int:
        if self.result is not None:
            return self.result.exit_code
        assert self.error is not None
        return self.error.exit_code

    @property
    def stopped(self) -> StoppedEvent:
        found = [e for e in self.events if isinstance(e, StoppedEvent)]
        assert len(found) == 1, found
        return found[0]

    def safety_reasons(self) -> list[str]:
        return [e.reason for e in self.events if isinstance(e, SafetyEvent)]

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]


def write_plan(directory: Path, body: str) -> Path:
    path = directory / "plan.toml"
    path.write_text(body, encoding="utf-8")
    return path


SHORT_PLAN = """
name = "short"
[[segments]]
name = "warm"
duration_s = 20
target_mph = 0.8
[[segments]]
name = "brisk"
duration_s = 40
target_mph = 1.5
"""

# Long enough at one speed for the struggle governor to watch the walker's steps.
STEADY_PLAN = """
name = "steady"
[[segments]]
name = "warm"
duration_s = 20
target_mph = 0.8
[[segments]]
name = "steady"
duration_s = 200
target_mph = 1.5
[[segments]]
name = "steady on"
duration_s = 60
target_mph = 1.5
"""


def turning_plan(forward: tuple[float, float], backward: tuple[float, float]) -> str:
    """A plan that walks forward, then turns around: (seconds, target mph) of each segment."""
    return f"""
name = "turns"
[[segments]]
name = "fwd"
direction = "forward"
duration_s = {forward[0]}
target_mph = {forward[1]}
[[segments]]
name = "back"
duration_s = {backward[0]}
target_mph = {backward[1]}
"""


def pause_then_resume(when: Callable[[Event], bool], resume_after_s: float) -> SessionAttachment:
    """An attachment that pauses the session as MQTT would at each event `when` accepts, and
    resumes it the walker's way (the live view's key) `resume_after_s` later on the session's
    clock; it waits for both before the session is left."""
    from retrotread.session.engine import Session

    @contextlib.asynccontextmanager
    async def attachment(control: SessionControl) -> AsyncIterator[None]:
        assert isinstance(control, Session)
        loop = asyncio.get_running_loop()
        tasks: list[asyncio.Future[object]] = []

        def on_event(event: Event) -> None:
            if when(event):
                tasks.append(asyncio.ensure_future(control.pause("mqtt")))
                loop.call_later(
                    resume_after_s,
                    lambda: tasks.append(asyncio.ensure_future(control.resume_local())),
                )

        remove = control.add_listener(on_event)
        yield
        remove()
        await asyncio.gather(*tasks)

    return attachment


def simulate(
    data_dir: Path,
    attachments: tuple[SessionAttachment, ...] = (),
    on_simulator: Callable[[Simulator], None] | None = None,
    **options: Any,
) -> SimRun:
    """Run a session on the simulator as fast as possible and collect everything;
    `on_simulator` may change the simulator before anything connects."""
    events: list[Event] = []
    seen: list[Simulator] = []
    belt: list[float] = []

    def opened(simulator: Simulator) -> None:
        seen.append(simulator)
        if on_simulator is not None:
            on_simulator(simulator)

    @contextlib.asynccontextmanager
    async def read_belt_at_end(_control: SessionControl) -> AsyncIterator[None]:
        try:
            yield  # left after `summary`, still on the session's loop
        finally:
            if seen:
                belt.append(seen[0].treadmill.belt_speed_kmh)

    opts = RunOptions(
        sim=True,
        data_dir=data_dir,
        control_socket=False,
        sinks=(events.append,),
        on_simulator=opened,
        attachments=(read_belt_at_end, *attachments),
        **options,
    )
    simulator = None
    try:
        result = run_to_result(opts)
    except RetrotreadError as err:
        journals = sorted((data_dir / "sessions").glob("*.jsonl"))
        run = SimRun(None, err, events, simulator, journals[-1] if journals else None)
    else:
        run = SimRun(result, None, events, simulator, result.journal)
    run.simulator = seen[0] if seen else None
    run.final_belt_kmh = belt[0] if belt else None
    return run


def control_writes(simulator: Simulator) -> list[bytes]:
    return [bytes(x.request) for x in simulator.treadmill.control_log]
