"""The FTMS control-point procedure: one write, one answer, typed failures.

`ControlPoint` is the only code that writes the control point. A `Treadmill` hands out exactly one
(`Treadmill.claim_control_point`), and the safety supervisor claims it, so nothing else can move
the belt around the supervisor. The claimer gives a *gate*: a function asked, in the same step as
the bytes are handed to bleak, whether this operation may still leave. That is how a stop latch
holds back a write that was decided a moment before the stop (SPEC.md "Stop guarantees").

FTMS runs one control-point procedure at a time: a write made while an earlier one still awaits
its indication is refused with ATT error 0xFE. So requests are serialised here, except Stop,
which never waits behind another request: it goes out at once, and if the machine answers 0xFE
it is written again as soon as the procedure in progress has ended.

The response waiter is armed before the write: an indication can reach us before
`write_gatt_char` returns. Waiters are keyed by request op code, so a Stop written while a Set
Target Speed still awaits its answer is neither blocked by it nor confused with it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from bleak.exc import BleakError, BleakGATTProtocolError

from retrotread import ftms
from retrotread.errors import ControlPointError, ControlPointTimeout
from retrotread.ftms.uuids import CONTROL_POINT_UUID
from retrotread.treadmill.quirks import Quirks

Writer = Callable[[str, bytes], Awaitable[None]]
Gate = Callable[[str], None]
"""Raises when the operation (`start`, `set_speed`, `stop`, ...) may not be written now."""

ATT_PROCEDURE_IN_PROGRESS = 0xFE  # FTMS: "procedure already in progress"
_IN_PROGRESS = f"att_error_{ATT_PROCEDURE_IN_PROGRESS:#04x}"
# A Stop refused with 0xFE while no procedure of ours is in flight (the machine is still busy
# with one we gave up on) is written again after this long, so the retry never spins.
BUSY_RETRY_S = 0.05

# With the ack_by_machine_status quirk, the Fitness Machine Status that acknowledges each request.
_STATUS_ACK: dict[int, ftms.MachineStatusOpCode] = {
    ftms.OpCode.set_target_speed: ftms.MachineStatusOpCode.target_speed_changed,
    ftms.OpCode.set_target_inclination: ftms.MachineStatusOpCode.target_incline_changed,
    ftms.OpCode.start_or_resume: ftms.MachineStatusOpCode.started_or_resumed_by_user,
    ftms.OpCode.stop_or_pause: ftms.MachineStatusOpCode.stopped_or_paused_by_user,
}


def _open_gate(_op: str) -> None:
    """Until the control point is claimed nothing writes it; the claimer brings its own gate."""


class ControlPoint:
    """Writes requests and turns answers into success or `ControlPointError`."""

    def __init__(self, write: Writer, quirks: Quirks, timeout_s: float) -> None:
        self._write = write
        self._quirks = quirks
        self._timeout_s = timeout_s
        self._gate: Gate = _open_gate
        self._waiters: dict[int, list[asyncio.Future[str]]] = {}
        self._procedure = asyncio.Lock()  # one procedure at a time, Stop excepted
        self._idle = asyncio.Event()  # no serialised procedure in flight
        self._idle.set()

    def install_gate(self, gate: Gate) -> None:
        """`gate(op)` is asked right before every write leaves; what it raises, the caller gets,
        and nothing is written."""
        self._gate = gate

    # -- requests -----------------------------------------------------------------------------
    async def request_control(self) -> None:
        await self._serialised("request_control", ftms.request_control())

    async def start(self) -> None:
        await self._serialised("start", ftms.start_or_resume())

    async def stop(self) -> None:
        """Stop now: never queued behind another request; refused with 0xFE (another procedure
        in progress), written again as soon as that procedure ends, until the timeout."""
        payload = ftms.stop()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s
        while True:
            self._gate("stop")
            try:
                await self._exchange("stop", payload, deadline - loop.time())
                return
            except ControlPointError as err:
                if err.result != _IN_PROGRESS or loop.time() >= deadline:
                    raise
            await self._procedure_ended(min(BUSY_RETRY_S, deadline - loop.time()))

    async def pause(self) -> None:
        await self._serialised("pause", ftms.pause())

    async def set_speed(self, param: int) -> None:
        """Set Target Speed with the parameter `param` / 100, in the device's own unit (km/h,
        or mph on a speed_param_mph device): the supervisor chose it on the device's grid, and
        it is written exactly as given."""
        await self._serialised("set_speed", ftms.set_target_speed(param / 100))

    async def set_incline(self, deci_pct: int) -> None:
        await self._serialised("set_incline", ftms.set_target_inclination(deci_pct / 10))

    async def _serialised(self, op: str, payload: bytes) -> None:
        async with self._procedure:
            self._idle.clear()
            try:
                self._gate(op)  # after the wait for the procedure slot: no await from here on
                await self._exchange(op, payload, self._timeout_s)
            finally:
                self._idle.set()

    async def _procedure_ended(self, at_most_s: float) -> None:
        if self._idle.is_set():
            await asyncio.sleep(max(at_most_s, 0.0))
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), max(at_most_s, 0.0))

    # -- answers ------------------------------------------------------------------------------
    def on_indication(self, data: bytes) -> None:
        """Control-point indication from the device (called by the Treadmill's notify handler)."""
        try:
            answer = ftms.decode_control_point(data)
        except ftms.FtmsDecodeError:
            return
        if isinstance(answer, ftms.ControlPointResponse):
            self._resolve(answer.request_opcode, answer.result.name)

    def on_machine_status(self, status: ftms.MachineStatus) -> None:
        """With ack_by_machine_status, a matching status is the success answer."""
        if not self._quirks.ack_by_machine_status:
            return
        for opcode, ack in _STATUS_ACK.items():
            if status.opcode is ack:
                self._resolve(opcode, ftms.ResultCode.success.name)

    def fail_all(self, result: str) -> None:
        """The link is gone: every pending command fails now rather than at its timeout."""
        for opcode in list(self._waiters):
            while self._waiters.get(opcode):
                self._resolve(opcode, result)

    def _resolve(self, opcode: int, result: str) -> None:
        waiters = self._waiters.get(opcode)
        while waiters:
            waiter = waiters.pop(0)
            if not waiter.done():
                waiter.set_result(result)
                return

    async def _exchange(self, op: str, payload: bytes, timeout_s: float) -> None:
        opcode = payload[0]
        waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(opcode, []).append(waiter)  # armed BEFORE the write
        try:
            async with asyncio.timeout(max(timeout_s, 0.0)):
                try:
                    await self._write(CONTROL_POINT_UUID, payload)
                except BleakGATTProtocolError as err:
                    raise ControlPointError(op, f"att_error_{int(err.code):#04x}") from err
                except BleakError as err:
                    raise ControlPointError(op, "disconnected", str(err)) from err
                if self._answered_by_write(opcode):
                    return
                result = await waiter
        except TimeoutError:
            raise ControlPointTimeout(op, self._timeout_s) from None
        finally:
            pending = self._waiters.get(opcode, [])
            if waiter in pending:
                pending.remove(waiter)
        if result != ftms.ResultCode.success.name:
            raise ControlPointError(op, result)

    def _answered_by_write(self, opcode: int) -> bool:
        """Request Control has no status to acknowledge it on an ack_by_machine_status device."""
        return self._quirks.ack_by_machine_status and opcode not in _STATUS_ACK
