"""Typed failures of the control-point procedure."""

from __future__ import annotations

from retrotread.errors import RetrotreadError


class ControlPointError(RetrotreadError):
    """The treadmill answered a control-point command with something other than success.

    `result` is the FTMS result name (`op_code_not_supported`, `invalid_parameter`,
    `operation_failed`, `control_not_permitted`), or `timeout`, `disconnected`, `att_error_0x..`
    when no answer came.
    """

    exit_code = 3

    def __init__(self, op: str, result: str, detail: str = "") -> None:
        text = f"treadmill answered {op} with {result}"
        super().__init__(f"{text}: {detail}" if detail else text)
        self.op = op
        self.result = result


class ControlPointTimeout(ControlPointError):
    """No answer within the command timeout (indication lost, or the device went silent)."""

    def __init__(self, op: str, timeout_s: float) -> None:
        super().__init__(op, "timeout", f"no answer within {timeout_s:g} s")
