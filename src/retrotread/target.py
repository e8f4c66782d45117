"""Which treadmill a command talks to: a real device (`--device`) or the simulator (`--sim`).

`run`, `info` and `stop --device/--sim` all make this choice; keeping it here gives them one rule,
one message for a missing or doubled target, one way to report a bad simulator profile, and one
place that knows the simulator runs on its virtual clock. The simulator package is imported only
when it is asked for, so the real-device paths never pay for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from retrotread.errors import InputError

if TYPE_CHECKING:
    from retrotread.config import Settings
    from simulators.faults import FaultSpec
    from simulators.harness import Simulator
    from simulators.profiles import Profile

T = TypeVar("T")

NO_TARGET_MESSAGE = (
    "no treadmill given: pass --device ADDR_OR_NAME (find one with `retrotread scan`) "
    "or --sim to walk on the simulator"
)
BOTH_TARGETS_MESSAGE = "--device and --sim exclude each other: pick one"


def check_target(device: str | None, sim: bool) -> None:
    """Exactly one of `--device` and `--sim`; InputError (exit 2) otherwise."""
    if device is None and not sim:
        raise InputError(NO_TARGET_MESSAGE)
    if device is not None and sim:
        raise InputError(BOTH_TARGETS_MESSAGE)


def load_sim_profile(name_or_path: str | Path, source: str = "--sim-profile") -> Profile:
    """A built-in simulator profile or a TOML file; InputError (exit 2) naming `source`, the
    flag or setting the name came from."""
    from retrotread.inputs import check_regular_file
    from simulators.profiles import PROFILE_NAMES, load_profile

    if str(name_or_path) not in PROFILE_NAMES and Path(name_or_path).exists():
        # A FIFO or a device would block or never end the read.
        check_regular_file(Path(name_or_path), f"{source} = {name_or_path}")
    try:
        return load_profile(name_or_path)
    except ValueError as err:
        raise InputError(f"{source} = {name_or_path}: {err}") from None
    except RecursionError:
        raise InputError(f"{source} = {name_or_path}: nested too deeply") from None


def sim_profile_for(flag: str | None, settings: Settings) -> Profile:
    """`--sim-profile` when given, else the configured [sim] profile; an error blames the one
    that was used (the flag, or the setting and the file or variable it came from)."""
    if flag is not None:
        return load_sim_profile(flag)
    where = settings.source(("sim", "profile"))
    return load_sim_profile(settings.sim.profile, f"{where}: sim.profile")


def run_on_target(coro: Coroutine[Any, Any, T], *, sim: bool, time_scale: float | None = None) -> T:
    """Run `coro` to its end: on the virtual clock for the simulator (`time_scale` None = as fast
    as possible), on a plain `asyncio.run` loop for a real device."""
    if sim:
        from simulators.clock import run_virtual

        return run_virtual(coro, time_scale=time_scale)
    return asyncio.run(coro)


def parse_sim_faults(specs: tuple[str, ...]) -> tuple[FaultSpec, ...]:
    """`--sim-fault KIND@T[:ARG]` values; InputError (exit 2) naming the first bad one."""
    from simulators.faults import parse_fault

    faults = []
    for spec in specs:
        try:
            faults.append(parse_fault(spec))
        except ValueError as err:
            raise InputError(f"--sim-fault = {spec}: {err}") from None
    return tuple(faults)


def check_strap_faults(specs: tuple[str, ...], hr_strap: bool) -> None:
    """`hr-drop` and `hr-contact` act on the simulated strap: without `--sim-hr-strap` they
    would silently do nothing, so they are refused (exit 2), naming the spec as given."""
    from simulators.faults import STRAP_FAULT_KINDS

    for spec, fault in zip(specs, parse_sim_faults(specs), strict=True):
        if fault.kind in STRAP_FAULT_KINDS and not hr_strap:
            raise InputError(f"--sim-fault = {spec}: {fault.kind} needs --sim-hr-strap")


@contextlib.asynccontextmanager
async def simulated_treadmill(
    profile: str | Profile,
    faults: tuple[FaultSpec, ...] = (),
    wire_log: Path | None = None,
    hr_strap: bool = False,
) -> AsyncIterator[Simulator]:
    """The simulated treadmill, advertising on a virtual radio for as long as the block runs:
    connect to it with its `address` and its `scanner_backend` / `client_backend` (bleak).
    With `hr_strap`, a simulated heart-rate strap on the same radio at `strap_address`."""
    from simulators.harness import open_simulator

    async with open_simulator(profile, faults, wire_log=wire_log, hr_strap=hr_strap) as simulator:
        yield simulator
