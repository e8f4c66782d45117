"""Every exception retrotread raises on purpose, in one tree.

A foreseeable failure ends a command with one readable line and the exit code of SPEC.md; the
CLI prints `str(err)` and exits with `err.exit_code`. Anything else is a bug.

    RetrotreadError                   exit 1 (never raised bare)
    ├── InputError (ValueError)       exit 2: bad plan, config, env var, hex string or flag;
    │                                 nothing was started
    ├── ConnectError                  exit 4: no adapter, no treadmill, control refused
    │   └── ControlSocketError        the control socket cannot be served: `retrotread stop`
    │                                 could not reach the session, so the belt never starts
    ├── ControlPointError             exit 3: the treadmill answered a command with a failure
    │   └── ControlPointTimeout       ... or did not answer in time
    ├── LatchedError                  exit 3: a move asked for after the stop latch closed
    ├── BeltPaused                    exit 3: a speed change asked for while paused
    └── DirectionChangeError (ValueError)  the direction changes only at the floor or paused

    SinkClosed                        an output (stdout, stderr, the journal) is gone for good:
                                      the session detaches it and goes on; never reaches a user

`retrotread.ftms` has its own `FtmsDecodeError` / `FtmsEncodeError` (ValueError): the codec
imports nothing of ours; the commands that decode user input turn them into InputError.
"""

from __future__ import annotations

from retrotread import exit_codes


class RetrotreadError(Exception):
    """A foreseeable failure: the CLI prints `str(err)` on one line and exits with `exit_code`."""

    exit_code = 1


class InputError(RetrotreadError, ValueError):
    """Bad plan, config value, hex string or flag. Nothing was started; exit 2."""

    exit_code = exit_codes.BAD_INPUT


class ConnectError(RetrotreadError):
    """No adapter, no treadmill, or control could not be taken; exit 4."""

    exit_code = exit_codes.NO_CONNECTION


class ControlSocketError(ConnectError):
    """The control socket could not be served; exit 4, since a session that `retrotread stop`
    cannot reach must not start the belt."""


class ControlPointError(RetrotreadError):
    """The treadmill answered a control-point command with something other than success.

    `result` is the FTMS result name (`op_code_not_supported`, `invalid_parameter`,
    `operation_failed`, `control_not_permitted`), or `timeout`, `disconnected`, `att_error_0x..`
    when no answer came.
    """

    exit_code = exit_codes.STOPPED

    def __init__(self, op: str, result: str, detail: str = "") -> None:
        text = f"treadmill answered {op} with {result}"
        super().__init__(f"{text}: {detail}" if detail else text)
        self.op = op
        self.result = result


class ControlPointTimeout(ControlPointError):
    """No answer within the command timeout (indication lost, or the device went silent)."""

    def __init__(self, op: str, timeout_s: float) -> None:
        super().__init__(op, "timeout", f"no answer within {timeout_s:g} s")


class LatchedError(RetrotreadError):
    """A move was asked for after the stop latch closed; the session can only end (exit 3)."""

    exit_code = exit_codes.STOPPED


class BeltPaused(RetrotreadError):
    """A speed change was asked for while the belt is paused; only the local walker resumes."""

    exit_code = exit_codes.STOPPED


class DirectionChangeError(RetrotreadError, ValueError):
    """The direction may change only at the floor speed or while paused (a turn-around)."""


class SinkClosed(Exception):
    """A sink's destination is gone for good. Its text is the one line the session prints when it
    detaches the sink, e.g. "stdout closed: events go on in the journal <path>"."""
