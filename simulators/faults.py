"""Fault specs for the simulator: what `--sim-fault KIND@T[:ARG]` means, parsed and validated.

A fault is data here; `SimTreadmill` gives it effect. T counts seconds from the moment the first
central connected to the simulator, because that is when a session's clock starts (a fault such as
`reject@0:start` must already be armed when the first Start arrives).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class FaultKind(StrEnum):
    DISCONNECT = "disconnect"
    SAFETY_KEY = "safety-key"
    CONSOLE_STOP = "console-stop"
    OVERSPEED = "overspeed"
    STALL = "stall"
    REJECT = "reject"
    NO_INDICATION = "no-indication"
    HR = "hr"
    # The machine withdraws control (its console took over): Fitness Machine Status 0xFF, and
    # commands are refused control_not_permitted until the central requests control again.
    CONTROL_LOST = "control-lost"
    # The heart-rate strap's link goes down for ARG s; the strap reports no skin contact from T.
    HR_DROP = "hr-drop"
    HR_CONTACT = "hr-contact"
    # The walker struggles from T: steps shrink to ARG times their length (default 0.7), so at the
    # same belt speed they come quicker; seen only on a profile that reports a step count.
    STRUGGLE = "struggle"


STRAP_FAULT_KINDS: frozenset[FaultKind] = frozenset({FaultKind.HR_DROP, FaultKind.HR_CONTACT})
"""The kinds the simulated strap gives effect to (the treadmill schedules them on its clock)."""


class RejectTarget(StrEnum):
    """Control-point operations a `reject` fault can make fail."""

    SET_SPEED = "set-speed"
    START = "start"
    STOP = "stop"
    REQUEST_CONTROL = "request-control"


FAULT_KINDS: tuple[str, ...] = tuple(kind.value for kind in FaultKind)
DEFAULT_DISCONNECT_S = 2.0
DEFAULT_HR_DROP_S = 30.0
DEFAULT_STRUGGLE_FACTOR = 0.7


@dataclass(frozen=True)
class FaultSpec:
    """One fault: `kind` fires `at_s` seconds into the session with its argument.

    `arg` is seconds down for disconnect and hr-drop, a speed factor for overspeed, beats per
    minute for hr, the step-length factor for struggle, a `RejectTarget` for reject, and None for
    the kinds without an argument.
    """

    kind: FaultKind
    at_s: float
    arg: float | RejectTarget | None = None

    def __str__(self) -> str:
        at = f"{self.at_s:g}"
        return f"{self.kind}@{at}" if self.arg is None else f"{self.kind}@{at}:{self.arg}"


def parse_fault(spec: str) -> FaultSpec:
    """Parse `KIND@T[:ARG]`; a malformed spec raises ValueError with one line that says why."""
    kind_text, at, rest = spec.strip().partition("@")
    if not at:
        raise ValueError(f"fault {spec!r}: expected KIND@T[:ARG], e.g. overspeed@300:1.5")
    try:
        kind = FaultKind(kind_text.strip().lower())
    except ValueError:
        raise ValueError(
            f"fault {spec!r}: unknown kind {kind_text!r}; kinds: {', '.join(FAULT_KINDS)}"
        ) from None
    time_text, has_arg, arg_text = rest.partition(":")
    at_s = _number(spec, "time", time_text)
    if at_s < 0:
        raise ValueError(f"fault {spec!r}: time must be >= 0 seconds")
    arg = _argument(spec, kind, arg_text.strip() if has_arg else None)
    return FaultSpec(kind=kind, at_s=at_s, arg=arg)


def _argument(spec: str, kind: FaultKind, text: str | None) -> float | RejectTarget | None:
    if kind in (
        FaultKind.SAFETY_KEY,
        FaultKind.CONSOLE_STOP,
        FaultKind.STALL,
        FaultKind.NO_INDICATION,
        FaultKind.CONTROL_LOST,
        FaultKind.HR_CONTACT,
    ):
        if text:
            raise ValueError(f"fault {spec!r}: {kind} takes no argument")
        return None
    if kind is FaultKind.REJECT:
        targets = ", ".join(target.value for target in RejectTarget)
        if not text:
            raise ValueError(f"fault {spec!r}: reject needs an operation: {targets}")
        try:
            return RejectTarget(text.lower())
        except ValueError:
            raise ValueError(
                f"fault {spec!r}: reject operation {text!r} unknown; one of {targets}"
            ) from None
    if kind in (FaultKind.DISCONNECT, FaultKind.HR_DROP):
        default = DEFAULT_DISCONNECT_S if kind is FaultKind.DISCONNECT else DEFAULT_HR_DROP_S
        seconds = default if not text else _number(spec, "seconds down", text)
        if seconds <= 0:
            raise ValueError(f"fault {spec!r}: seconds down must be > 0")
        return seconds
    if kind is FaultKind.STRUGGLE:
        factor = DEFAULT_STRUGGLE_FACTOR if not text else _number(spec, "step-length factor", text)
        if not 0 < factor <= 1:
            raise ValueError(f"fault {spec!r}: step-length factor must be > 0 and <= 1")
        return factor
    if not text:
        what = "a speed factor" if kind is FaultKind.OVERSPEED else "a heart rate in bpm"
        raise ValueError(
            f"fault {spec!r}: {kind} needs {what}, e.g. {kind}@60:"
            f"{'1.5' if kind is FaultKind.OVERSPEED else '190'}"
        )
    value = _number(spec, "argument", text)
    if kind is FaultKind.OVERSPEED and value <= 0:
        raise ValueError(f"fault {spec!r}: speed factor must be > 0")
    if kind is FaultKind.HR and not 0 <= value <= 254:
        raise ValueError(f"fault {spec!r}: heart rate must be 0 to 254 bpm")
    return value


def _number(spec: str, what: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"fault {spec!r}: {what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"fault {spec!r}: {what} must be a finite number")
    return value
