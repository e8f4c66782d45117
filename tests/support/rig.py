"""One simulated treadmill, a connected `Treadmill` and its `Supervisor`, on the virtual clock:
the rig that the supervisor's tests share. The simulator's control log is the witness of what
was written to the treadmill."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from retrotread import ftms
from retrotread.config import SafetyConfig
from retrotread.events import CommandEvent, Direction, Event, SafetyEvent, StoppedEvent
from retrotread.safety.supervisor import Supervisor
from retrotread.treadmill import Quirks, Treadmill
from simulators.harness import Simulator, open_simulator
from simulators.profiles import Profile

MOVING_OPS = {ftms.OpCode.start_or_resume, ftms.OpCode.set_target_speed}


@dataclass
class Rig:
    sim: Simulator
    treadmill: Treadmill
    supervisor: Supervisor
    events: list[Event] = field(default_factory=list)

    def commands(self, op: str) -> list[CommandEvent]:
        return [e for e in self.events if isinstance(e, CommandEvent) and e.op == op]

    def safety(self) -> list[tuple[str, str]]:
        return [(e.reason, e.action) for e in self.events if isinstance(e, SafetyEvent)]

    def stopped(self) -> StoppedEvent:
        (event,) = [e for e in self.events if isinstance(e, StoppedEvent)]
        return event

    def written(self, opcode: int) -> list[ftms.ControlPointRequest]:
        return [
            ftms.decode_request(x.request)
            for x in self.sim.treadmill.control_log
            if x.opcode == opcode
        ]


async def connect(sim: Simulator) -> Treadmill:
    """Our Treadmill client connected to the simulated machine, with the machine's quirks."""
    return await Treadmill.connect(
        sim.address,
        quirks=Quirks.from_names(sim.profile.quirks),
        scanner_backend=sim.scanner_backend,
        client_backend=sim.client_backend,
    )


@asynccontextmanager
async def rig(
    profile: str | Profile = "generic",
    faults: Sequence[str] = (),
    safety: SafetyConfig | None = None,
    max_speed_mph: float | None = None,
    start: bool = True,
) -> AsyncIterator[Rig]:
    async with open_simulator(profile, faults) as sim:
        treadmill = await connect(sim)
        supervisor = Supervisor(treadmill, safety or SafetyConfig(), max_speed_mph=max_speed_mph)
        r = Rig(sim, treadmill, supervisor)
        supervisor.add_listener(r.events.append)
        try:
            if start:
                await supervisor.take_control()
                await supervisor.start()
            yield r
        finally:
            await supervisor.close()
            await treadmill.disconnect()


def commanded_kmh(r: Rig) -> list[tuple[float, float]]:
    """(time, km/h) of every Set Target Speed the treadmill received."""
    return [
        (x.t, ftms.decode_request(x.request).target_speed_kmh or 0.0)
        for x in r.sim.treadmill.control_log
        if x.opcode == ftms.OpCode.set_target_speed
    ]




def record_with_direction(supervisor: Supervisor) -> tuple[list[Event], dict[int, Direction]]:
    """Every event the supervisor emits, and the direction it faced at each (by event id)."""
    events: list[Event] = []
    directions: dict[int, Direction] = {}

    def record(event: Event) -> None:
        events.append(event)
        directions[id(event)] = supervisor.direction

    supervisor.add_listener(record)
    return events, directions
