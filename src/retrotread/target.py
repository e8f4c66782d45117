"""Which treadmill a command talks to: a real device (`--device`) or the simulator (`--sim`).

`run`, `info` and `stop --device/--sim` all make this choice; keeping it here gives them one rule,
one message for a missing or doubled target, one way to report a bad simulator profile, and one
place that knows the simulator runs on its virtual clock. The simulator package is imported only
when it is asked for, so the real-device paths never pay for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from retrotread.errors import InputError

if TYPE_CHECKING:
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


def load_sim_profile(name_or_path: str | Path) -> Profile:
    """A built-in simulator profile or a TOML file; InputError (exit 2) naming `--sim-profile`."""
    from simulators.profiles import load_profile

    try:
        return load_profile(name_or_path)
    except ValueError as err:
        raise InputError(f"--sim-profile = {name_or_path}: {err}") from None


def run_on_target(coro: Coroutine[Any, Any, T], *, sim: bool, time_scale: float | None = None) -> T:
    """Run `coro` to its end: on the virtual clock for the simulator (`time_scale` None = as fast
    as possible), on a plain `asyncio.run` loop for a real device."""
    if sim:
        from simulators.clock import run_virtual

        return run_virtual(coro, time_scale=time_scale)
    return asyncio.run(coro)
