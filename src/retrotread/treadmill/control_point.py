"""The FTMS control-point procedure: one write, one answer, typed failures.

`ControlPoint` is the only code that writes the control point. A `Treadmill` hands out exactly one
(`Treadmill.claim_control_point`), and the safety supervisor claims it, so nothing else can move
the belt around the supervisor.

The response waiter is armed before the write: an indication can reach us before
`write_gatt_char` returns. Waiters are keyed by request op code, so a Stop written while a Set
Target Speed still awaits its answer is neither blocked by it nor confused with it.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from fractions import Fraction

from bleak.exc import BleakError, BleakGATTProtocolError

from retrotread import ftms
from retrotread.ftms.uuids import CONTROL_POINT_UUID
from retrotread.treadmill.errors import ControlPointError, ControlPointTimeout
from retrotread.treadmill.quirks import Quirks
from retrotread.units import KMH_PER_MPH_EXACT

Writer = Callable[[str, bytes], Awaitable[None]]
SpeedRange = Callable[[], tuple[float, float, float]]  # the device's own min, max, increment

_KMH_PER_MPH = KMH_PER_MPH_EXACT

# With the ack_by_machine_status quirk, the Fitness Machine Status that acknowledges each request.
_STATUS_ACK: dict[int, ftms.MachineStatusOpCode] = {
    ftms.OpCode.set_target_speed: ftms.MachineStatusOpCode.target_speed_changed,
    ftms.OpCode.set_target_inclination: ftms.MachineStatusOpCode.target_incline_changed,
    ftms.OpCode.start_or_resume: ftms.MachineStatusOpCode.started_or_resumed_by_user,
    ftms.OpCode.stop_or_pause: ftms.MachineStatusOpCode.stopped_or_paused_by_user,
}


class ControlPoint:
    """Writes requests and turns answers into success or `ControlPointError`."""

    def __init__(
        self,
        write: Writer,
        quirks: Quirks,
        timeout_s: float,
        speed_range: SpeedRange = lambda: (0.0, 655.35, 0.01),
    ) -> None:
        self._write = write
        self._quirks = quirks
        self._timeout_s = timeout_s
        self._speed_range = speed_range
        self._waiters: dict[int, list[asyncio.Future[str]]] = {}

    # -- requests -----------------------------------------------------------------------------
    async def request_control(self) -> None:
        await self._command("request_control", ftms.request_control())

    async def start(self) -> None:
        await self._command("start", ftms.start_or_resume())

    async def stop(self) -> None:
        await self._command("stop", ftms.stop())

    async def pause(self) -> None:
        await self._command("pause", ftms.pause())

    async def set_speed(self, centi_kmh: int) -> None:
        """Set Target Speed to `centi_kmh` / 100 km/h (in mph on a speed_param_mph device)."""
        centi = self._mph_parameter(centi_kmh) if self._quirks.speed_param_mph else centi_kmh
        await self._command("set_speed", ftms.set_target_speed(centi / 100))

    def _mph_parameter(self, centi_kmh: int) -> int:
        """The parameter, in hundredths of the device's mph, for a belt of at most `centi_kmh`.

        The device snaps the parameter onto its own grid (its Supported Speed Range, in the
        units it reads), to the nearest step: a value between steps could be rounded UP past
        what the supervisor allowed. So round down onto that grid here, exactly."""
        lo, _hi, inc = (round(x * 100) for x in self._speed_range())
        inc = max(inc, 1)
        wanted = Fraction(centi_kmh) / _KMH_PER_MPH
        steps = math.floor((wanted - lo) / inc)
        if steps < 0:  # the device cannot run this slowly: refuse rather than run faster
            raise ControlPointError("set_speed", "invalid_parameter", "below the device minimum")
        return lo + steps * inc

    async def set_incline(self, deci_pct: int) -> None:
        await self._command("set_incline", ftms.set_target_inclination(deci_pct / 10))

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

    async def _command(self, op: str, payload: bytes) -> None:
        opcode = payload[0]
        waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(opcode, []).append(waiter)  # armed BEFORE the write
        try:
            async with asyncio.timeout(self._timeout_s):
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
