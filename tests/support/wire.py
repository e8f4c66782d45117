"""What reached the simulated machine: checks over the simulator's control log (its wire log),
so safety properties are proven on the bytes the treadmill received, not on what we meant."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from retrotread import ftms
from retrotread.events import CommandEvent
from retrotread.safety.limits import Band, SpeedGrid
from retrotread.safety.supervisor import Supervisor
from simulators.harness import Simulator
from simulators.treadmill import ControlExchange

MOVING_OPS = frozenset({ftms.OpCode.start_or_resume, ftms.OpCode.set_target_speed})


def first_stop(log: Sequence[ControlExchange]) -> int | None:
    """Index of the first Stop the machine received (refused or not), None without one."""
    return next((i for i, x in enumerate(log) if x.request == ftms.stop()), None)


def moving_writes_after_first_stop(log: Sequence[ControlExchange]) -> list[ControlExchange]:
    """Start/Resume and Set Target Speed writes that arrived after the first Stop."""
    index = first_stop(log)
    if index is None:
        return []
    return [x for x in log[index:] if x.opcode in MOVING_OPS]


def speed_params(log: Sequence[ControlExchange]) -> list[int]:
    """Every Set Target Speed parameter that reached the machine, in hundredths of its unit."""
    params = []
    for exchange in log:
        if exchange.opcode == ftms.OpCode.set_target_speed:
            request = ftms.decode_request(exchange.request)
            assert request.target_speed_kmh is not None
            params.append(round(request.target_speed_kmh * 100))
    return params


def event_param(grid: SpeedGrid, event: CommandEvent) -> int:
    """The parameter a `set_speed` event says was written (its kmh, in the device's unit)."""
    assert event.kmh is not None
    return round(Fraction(event.kmh) * 100 / grid.kmh_per_unit)


def assert_params_inside(grid: SpeedGrid, params: Sequence[int], *bands: Band) -> None:
    """Every parameter lies inside one of `bands` under both readings of the device's grid."""
    for param in params:
        setpoint = grid.setpoint(param)
        assert any(band.contains(setpoint) for band in bands), (param, setpoint, bands)


def assert_the_machine_stopped_safely(sim: Simulator, supervisor: Supervisor) -> None:
    """What reached the machine over a whole run: every speed inside a band under both readings
    of its grid, a Stop written, nothing that moves the belt after it, and the belt at 0."""
    log = sim.treadmill.control_log
    grid = supervisor.grid
    assert_params_inside(grid, speed_params(log), supervisor.backward_band, supervisor.forward_band)
    assert first_stop(log) is not None
    assert moving_writes_after_first_stop(log) == []
    assert sim.treadmill.belt_speed_kmh == 0.0
