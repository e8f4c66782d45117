"""Whole simulated sessions as a library call, and the plans several tests walk."""

from __future__ import annotations

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
