"""The simulated treadmill: an FTMS GATT peripheral on a Bumble device.

Everything a client can observe goes through GATT, so the production bleak code meets the same
things it meets on a real machine: ATT errors Bumble itself does not enforce (0xFD while the
control point's indications are off), control-point answers indicated *after* the write response,
Fitness Machine Status notifications for every change, Treadmill Data at the profile's rate, and
the quirks and faults real machines show. Time comes only from the running loop, so the same code
runs on the virtual clock in tests and on the real clock with a dongle.

Faults are armed relative to the simulator's session clock, which starts when the first central
connects (see simulators.faults). `inject()` fires one at once, for tests.

Every control-point write is kept in `control_log` as a `ControlExchange`: what arrived, when, the
belt speed then and how the machine answered. With a wire log (`--sim-wire-log`) each one is also
written as a JSON line the moment it arrives, so what reached the machine can be checked against
what the client meant to send, even after the process was killed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, Any, Final, NoReturn, TypedDict

from bumble import att
from bumble.core import AdvertisingData
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, Service

from retrotread.events import QuirkName
from retrotread.ftms import uuids
from retrotread.ftms.advertisement import FtmsServiceData, MachineType, encode_service_data
from retrotread.ftms.control_point import (
    ControlPointRequest,
    ControlPointResponse,
    OpCode,
    ResultCode,
    StopControl,
    decode_request,
    encode_response,
)
from retrotread.ftms.errors import FtmsDecodeError
from retrotread.ftms.feature import (
    FitnessMachineFeature,
    MachineFeature,
    TargetSetting,
    encode_feature,
)
from retrotread.ftms.machine_status import (
    MachineStatus,
    MachineStatusOpCode,
    encode_machine_status,
)
from retrotread.ftms.ranges import (
    InclineRange,
    SpeedRange,
    encode_incline_range,
    encode_speed_range,
)
from retrotread.ftms.training_status import (
    TrainingStatus,
    TrainingStatusCode,
    encode_training_status,
)
from retrotread.ftms.treadmill_data import TreadmillData, encode_treadmill_data
from retrotread.units import KMH_PER_MPH
from simulators.belt import Belt, BeltDynamics
from simulators.faults import (
    DEFAULT_DISCONNECT_S,
    DEFAULT_STRUGGLE_FACTOR,
    STRAP_FAULT_KINDS,
    FaultKind,
    FaultSpec,
    RejectTarget,
)
from simulators.peripheral import TaskOwner
from simulators.profiles import ControlOp, GridSnap, Profile
from simulators.walker import Walker

logger = logging.getLogger(__name__)

# Client Characteristic Configuration bits (first byte of the descriptor).
CCCD_NOTIFY: Final = 0x01
CCCD_INDICATE: Final = 0x02
ATT_CCCD_IMPROPERLY_CONFIGURED: Final = 0xFD
ATT_PROCEDURE_ALREADY_IN_PROGRESS: Final = 0xFE
ATT_INVALID_ATTRIBUTE_VALUE_LENGTH: Final = 0x0D
FTMS_SERVICE_UUID16: Final = 0x1826
MIN_SPEED_QUIRK_KMH: Final = 1.0
ZERO_PACKETS_PER_EVENT: Final = 2
ADVERTISING_DATA_LIMIT: Final = 31
# Quick to find when idle; slower while a central is connected (only a second central needs it,
# and every advertisement is an event on the virtual clock).
IDLE_ADVERTISING_MS: Final = 100.0
CONNECTED_ADVERTISING_MS: Final = 1000.0

_REJECTABLE: Final = {
    OpCode.set_target_speed: RejectTarget.SET_SPEED,
    OpCode.start_or_resume: RejectTarget.START,
    OpCode.stop_or_pause: RejectTarget.STOP,
    OpCode.request_control: RejectTarget.REQUEST_CONTROL,
}


class WireRecord(TypedDict):
    """One line of the wire log (`--sim-wire-log`), as JSON: see `ControlExchange.wire_record`."""

    t: float
    hex: str
    op: str | None
    result: str
    belt_kmh: float


@dataclass
class ControlExchange:
    """One control-point write as the machine received it, and how it answered.

    - `t`: the loop's time when the write arrived (virtual seconds in tests); `session_t`: the
      simulator's session seconds, counted from the first connection like the fault schedule.
    - `request`: the bytes written; `opcode`: their first byte (None for an empty write).
    - `belt_kmh`: the belt's real speed in km/h when the write arrived.
    - `att_error`: the ATT error the write was refused with (0xFD indications off, 0xFE another
      procedure in progress, 0x0D empty), or None when the write was taken.
    - `result`: the FTMS result the machine decided on (set as the write arrives; None when the
      write was refused or the machine does not answer at all, the `no-indication` fault).
    - `response`: the indication's bytes once it was sent; `acknowledged_by_status`: on an
      `ack_by_machine_status` machine, whether a status notification stood in for it.

    `op` and `outcome` name the write and its answer the way the wire log does.
    """

    t: float
    connection: int
    request: bytes
    opcode: int | None
    session_t: float = 0.0
    belt_kmh: float = 0.0
    att_error: int | None = None
    result: ResultCode | None = None
    response: bytes | None = None
    acknowledged_by_status: bool = False

    @property
    def answered(self) -> bool:
        return self.response is not None or self.att_error is not None

    @property
    def op(self) -> str | None:
        """The FTMS op code's snake_case name (as `retrotread decode control-point` prints it),
        or None for an empty write or a first byte that is no FTMS op code."""
        if self.opcode is None:
            return None
        try:
            return OpCode(self.opcode).name
        except ValueError:
            return None

    @property
    def outcome(self) -> str:
        """`success`, another FTMS result name, `att_error_0xfe` style for a refused write, or
        `no_answer` when the machine took the write and never answered it."""
        if self.att_error is not None:
            return f"att_error_0x{self.att_error:02x}"
        if self.result is None:
            return "no_answer"
        return self.result.name

    def wire_record(self) -> WireRecord:
        """The wire log's line for this write: session seconds, bytes, op, result, belt km/h."""
        return {
            "t": round(self.session_t, 6),
            "hex": self.request.hex(),
            "op": self.op,
            "result": self.outcome,
            "belt_kmh": round(self.belt_kmh, 4),
        }


def advertising_data(name: str) -> bytes:
    """Flags, the 0x1826 UUID, FTMS service data with the treadmill bit, and the name."""
    service_data = encode_service_data(FtmsServiceData(True, MachineType.treadmill))
    data = bytes(
        AdvertisingData(
            [
                (AdvertisingData.FLAGS, bytes([0x06])),
                (
                    AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                    FTMS_SERVICE_UUID16.to_bytes(2, "little"),
                ),
                (
                    AdvertisingData.SERVICE_DATA_16_BIT_UUID,
                    FTMS_SERVICE_UUID16.to_bytes(2, "little") + service_data,
                ),
                (AdvertisingData.COMPLETE_LOCAL_NAME, name.encode("utf-8")),
            ]
        )
    )
    if len(data) > ADVERTISING_DATA_LIMIT:
        raise ValueError(f"advertised name {name!r} is too long for a 31-byte advertisement")
    return data


class SimTreadmill(TaskOwner):
    """An FTMS treadmill served by `device`; call `start()` once the device is powered on.

    `wire_log`, when given, receives one JSON line (`ControlExchange.wire_record`) per
    control-point write, flushed at once; the caller owns and closes it.
    """

    def __init__(
        self,
        device: Device,
        profile: Profile,
        faults: Iterable[FaultSpec] = (),
        wire_log: IO[str] | None = None,
    ) -> None:
        super().__init__(logger, "simulator")
        self.device = device
        self.profile = profile
        self.belt = Belt(
            BeltDynamics(
                accel_kmh_per_s=profile.belt.accel_kmh_per_s,
                decel_kmh_per_s=profile.belt.decel_kmh_per_s,
                stop_decel_kmh_per_s=profile.belt.stop_decel_kmh_per_s,
                command_lag_s=profile.belt.command_lag_s,
                incline_rate_pct_per_s=profile.belt.incline_rate_pct_per_s,
                max_speed_kmh=profile.belt_max_kmh,
            )
        )
        self.walker = Walker()
        self.target_speed_kmh: float | None = None
        self.target_incline_pct: float | None = None
        self.running = False
        self.paused = False
        self.safety_key_out = False
        self.elapsed_s = 0.0
        self.training_status = TrainingStatusCode.idle
        self.control_log: list[ControlExchange] = []
        self.status_log: list[MachineStatus] = []
        self.data_notifications = 0
        self.connection_count = 0
        self.refused_connections = 0
        self.stalled = False
        self.indications_off = False
        self.rejected: set[RejectTarget] = set()
        self.session_start: float | None = None
        self._controller: Connection | None = None
        # The write whose answer has not gone out yet (FTMS runs one procedure at a time).
        self._in_progress: ControlExchange | None = None
        self._wire_log = wire_log
        self._pending_faults: list[FaultSpec] = list(faults)
        self._zero_packets_left = 0
        self._last_sync: float | None = None
        # Whether the console forwards a heart rate in Treadmill Data (a strap may stand in).
        self.reports_heart_rate = True
        # Who gives effect to the strap's faults (hr-drop, hr-contact): the simulated strap.
        self.strap_fault_handlers: list[Callable[[FaultSpec], None]] = []
        self._build_service()

    # ----------------------------------------------------------------- public state

    @property
    def belt_speed_kmh(self) -> float:
        self._sync()
        return self.belt.speed_kmh

    @property
    def incline_pct(self) -> float:
        self._sync()
        return self.belt.incline_pct

    @property
    def distance_m(self) -> float:
        self._sync()
        return self.belt.distance_m

    @property
    def heart_rate_bpm(self) -> int:
        self._sync()
        return self.walker.reported_heart_rate_bpm

    @property
    def controlled(self) -> bool:
        return self._controller is not None

    @property
    def connected_count(self) -> int:
        return len(self._connections)

    @property
    def session_time_s(self) -> float | None:
        if self.session_start is None:
            return None
        return self._now() - self.session_start

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Serve the FTMS service, start advertising and the Treadmill Data ticker."""
        self.device.on(Device.EVENT_CONNECTION, self._on_connection)
        self.status_char.on(Characteristic.EVENT_SUBSCRIPTION, self._on_status_subscription)
        self._last_sync = self._now()
        await self._advertise()
        self._spawn(self._data_ticker())

    # ----------------------------------------------------------------- faults

    def schedule(self, fault: FaultSpec) -> None:
        """Arm `fault` at its session time (now, if that time has passed)."""
        if self.session_start is None:
            self._pending_faults.append(fault)
            return
        loop = asyncio.get_running_loop()
        loop.call_at(self.session_start + fault.at_s, self.inject, fault)

    def inject(self, fault: FaultSpec) -> None:
        """Fire `fault` now, whatever its `at_s`."""
        if self._closed:
            return
        logger.info("simulator fault: %s", fault)
        self._sync()
        if fault.kind in STRAP_FAULT_KINDS:
            for handler in list(self.strap_fault_handlers):
                handler(fault)
            return
        match fault.kind:
            case FaultKind.DISCONNECT:
                self._spawn(self._drop_link(_number(fault, DEFAULT_DISCONNECT_S)))
            case FaultKind.SAFETY_KEY:
                self.press_safety_key()
            case FaultKind.CONSOLE_STOP:
                self.press_console_stop()
            case FaultKind.OVERSPEED:
                self.belt.overspeed_factor = _number(fault, 1.0)
            case FaultKind.STALL:
                self.stalled = True
            case FaultKind.REJECT:
                if isinstance(fault.arg, RejectTarget):
                    self.rejected.add(fault.arg)
            case FaultKind.NO_INDICATION:
                self.indications_off = True
            case FaultKind.HR:
                self.walker.heart_rate_override_bpm = round(_number(fault, 0.0))
            case FaultKind.STRUGGLE:
                self.walker.struggle(_number(fault, DEFAULT_STRUGGLE_FACTOR))
            case FaultKind.CONTROL_LOST:
                self.withdraw_control()

    def press_safety_key(self) -> None:
        """The walker pulls the safety key: the belt brakes at once and cannot restart."""
        self._sync()
        self.safety_key_out = True
        self.belt.halt()
        self._enter_stopped()
        self._broadcast_status(MachineStatus(MachineStatusOpCode.stopped_by_safety_key))

    def withdraw_control(self) -> None:
        """The machine takes control back (its console took over, a vendor timeout): it tells
        the centrals with Fitness Machine Status 0xFF, and commands get control_not_permitted
        until someone requests control again. Nothing to withdraw when nobody has control."""
        if self._controller is None:
            return
        self._controller = None
        self._broadcast_status(MachineStatus(MachineStatusOpCode.control_permission_lost))

    def replace_safety_key(self) -> None:
        self.safety_key_out = False

    def press_console_stop(self) -> None:
        """Someone presses Stop on the console."""
        self._sync()
        self.belt.command_stop()
        self._enter_stopped()
        self._broadcast_status(
            MachineStatus(MachineStatusOpCode.stopped_or_paused_by_user, control=StopControl.stop)
        )

    # ----------------------------------------------------------------- GATT service

    def _build_service(self) -> None:
        profile = self.profile
        features = (
            MachineFeature.total_distance
            | MachineFeature.expended_energy
            | MachineFeature.heart_rate_measurement
            | MachineFeature.elapsed_time
        )
        targets = TargetSetting.speed_target
        if profile.incline is not None:
            features |= MachineFeature.inclination
        if profile.supports(ControlOp.SET_TARGET_INCLINATION):
            targets |= TargetSetting.inclination_target
        props = Characteristic.Properties
        readable = att.Attribute.Permissions.READABLE
        self.feature_char = Characteristic(
            uuids.FEATURE_UUID,
            props.READ,
            readable,
            encode_feature(FitnessMachineFeature(features, targets)),
        )
        self.data_char = Characteristic(uuids.TREADMILL_DATA_UUID, props.NOTIFY, readable, b"")
        self.training_char: Characteristic[bytes] = Characteristic(
            uuids.TRAINING_STATUS_UUID,
            props.READ | props.NOTIFY,
            readable,
            att.AttributeValue(read=lambda _connection: self._training_status_bytes()),
        )
        speed = profile.speed
        self.speed_range_char = Characteristic(
            uuids.SUPPORTED_SPEED_RANGE_UUID,
            props.READ,
            readable,
            encode_speed_range(SpeedRange(speed.min_kmh, speed.max_kmh, speed.increment_kmh)),
        )
        self.control_char: Characteristic[bytes] = Characteristic(
            uuids.CONTROL_POINT_UUID,
            props.WRITE | props.INDICATE,
            att.Attribute.Permissions.WRITEABLE,
            att.AttributeValue(write=self._on_control_point_write),
        )
        self.status_char = Characteristic(
            uuids.FITNESS_MACHINE_STATUS_UUID, props.NOTIFY, readable, b""
        )
        characteristics = [
            self.feature_char,
            self.data_char,
            self.training_char,
            self.speed_range_char,
        ]
        if profile.incline is not None:
            incline = profile.incline
            characteristics.append(
                Characteristic(
                    uuids.SUPPORTED_INCLINATION_RANGE_UUID,
                    props.READ,
                    readable,
                    encode_incline_range(
                        InclineRange(incline.min_pct, incline.max_pct, incline.increment_pct)
                    ),
                )
            )
        characteristics += [self.control_char, self.status_char]
        self.device.add_service(Service(uuids.FTMS_SERVICE_UUID, characteristics))

    def _training_status_bytes(self) -> bytes:
        return encode_training_status(TrainingStatus(self.training_status))

    # ----------------------------------------------------------------- connections

    def _on_connection(self, connection: Connection) -> None:
        down = self._down_until is not None or self._closed
        busy = self.profile.has(QuirkName.single_central) and bool(self._connections)
        if down or busy:
            self.refused_connections += 1
            self._spawn(self._refuse(connection))
            return
        self._connections[connection.handle] = connection
        self.connection_count += 1
        connection.on(
            Connection.EVENT_DISCONNECTION, lambda _reason: self._on_disconnection(connection)
        )
        if self.session_start is None:
            self._begin_session()
        if self.profile.has(QuirkName.zero_packets):
            self._zero_packets_left = ZERO_PACKETS_PER_EVENT
        if not self.profile.has(QuirkName.single_central):
            self._spawn(self._advertise())
        if self.profile.drop_link_after_s is not None:
            self._spawn(self._drop_after(connection, self.profile.drop_link_after_s))

    def _begin_session(self) -> None:
        self.session_start = self._now()
        pending, self._pending_faults = self._pending_faults, []
        for fault in pending:
            self.schedule(fault)

    async def _refuse(self, connection: Connection) -> None:
        try:
            await connection.disconnect()
        except Exception:  # the link may already be gone
            logger.debug("refused connection already gone", exc_info=True)

    def _on_disconnection(self, connection: Connection) -> None:
        self._connections.pop(connection.handle, None)
        if self._controller is connection:
            self._controller = None
            self._broadcast_status(MachineStatus(MachineStatusOpCode.control_permission_lost))
        if self._down_until is None and not self._closed:
            self._spawn(self._advertise())

    async def _advertise(self) -> None:
        async with self._advertising_lock:
            if self._closed or self._down_until is not None:
                return
            if self.profile.has(QuirkName.single_central) and self._connections:
                return
            interval_ms = CONNECTED_ADVERTISING_MS if self._connections else IDLE_ADVERTISING_MS
            await self.device.start_advertising(
                advertising_data=advertising_data(self.device.name),
                auto_restart=False,
                advertising_interval_min=interval_ms,
                advertising_interval_max=interval_ms,
            )

    async def _drop_after(self, connection: Connection, seconds: float) -> None:
        """A weak signal: the link fails after a while, the machine stays connectable."""
        await asyncio.sleep(seconds)
        if self._connections.get(connection.handle) is connection:
            await self._refuse(connection)

    def _on_status_subscription(
        self, connection: Connection, notify: bool, _indicate: bool
    ) -> None:
        """A central wrote the status characteristic's CCCD: a `stale_stop_on_subscribe`
        machine replays an old "stopped" status as soon as notifications are on."""
        if notify and self.profile.has(QuirkName.stale_stop_on_subscribe):
            stale_stop = MachineStatus(
                MachineStatusOpCode.stopped_or_paused_by_user, control=StopControl.stop
            )
            self._spawn(self._notify_status(connection, stale_stop))

    # ----------------------------------------------------------------- control point

    def _indications_enabled(self, connection: Connection) -> bool:
        return bool(self._cccd_flags(connection, self.control_char) & CCCD_INDICATE)

    def _cccd_flags(self, connection: Connection, characteristic: Characteristic[Any]) -> int:
        """The first byte of what `connection` last wrote to the characteristic's CCCD (0 when
        it never subscribed): Bumble answers for written and unwritten descriptors alike."""
        return self.device.gatt_server.read_cccd(connection, characteristic)[0]

    def _on_control_point_write(self, connection: Connection, value: bytes) -> None:
        """Bumble calls this inside the write; the answer is sent once the write has returned.

        An ATT error raised here is Bumble's error response to the write. Whatever happens, the
        write is logged (and goes to the wire log) before this returns or raises.
        """
        self._sync()
        now = self._now()
        exchange = ControlExchange(
            t=now,
            connection=connection.handle,
            request=bytes(value),
            opcode=value[0] if value else None,
            session_t=now - self.session_start if self.session_start is not None else 0.0,
            belt_kmh=self.belt.speed_kmh,
        )
        self.control_log.append(exchange)
        try:
            self._take_write(connection, exchange)
        finally:
            self._log_wire(exchange)

    def _take_write(self, connection: Connection, exchange: ControlExchange) -> None:
        if not self._indications_enabled(connection):
            self._refuse_write(exchange, ATT_CCCD_IMPROPERLY_CONFIGURED)
        if self._in_progress is not None and self.profile.control.one_procedure_at_a_time:
            self._refuse_write(exchange, ATT_PROCEDURE_ALREADY_IN_PROGRESS)
        if not exchange.request:
            self._refuse_write(exchange, ATT_INVALID_ATTRIBUTE_VALUE_LENGTH)
        if self.indications_off:
            return
        result, statuses = self._execute(connection, exchange.request)
        exchange.result = result
        self._in_progress = exchange
        self._spawn(self._answer(connection, exchange, result, statuses))

    def _refuse_write(self, exchange: ControlExchange, error: int) -> NoReturn:
        exchange.att_error = error
        raise att.ATT_Error(error, self.control_char.handle)

    def _log_wire(self, exchange: ControlExchange) -> None:
        """One JSON line per write, flushed at once, so a killed process keeps what it got. A
        log that cannot be written is given up (once, with a warning): the machine runs on."""
        if self._wire_log is None:
            return
        try:
            self._wire_log.write(json.dumps(exchange.wire_record()) + "\n")
            self._wire_log.flush()
        except (OSError, ValueError) as error:  # disk full, file closed under us
            logger.warning("simulator wire log stopped: %s", error)
            self._wire_log = None

    def _execute(
        self, connection: Connection, value: bytes
    ) -> tuple[ResultCode, list[MachineStatus]]:
        """Act on one request; returns the result code and the statuses the change causes."""
        try:
            request = decode_request(value)
        except FtmsDecodeError as error:
            if error.offset == 0:
                return ResultCode.op_code_not_supported, []
            return ResultCode.invalid_parameter, []
        try:
            op = ControlOp(request.opcode.name)
        except ValueError:
            return ResultCode.op_code_not_supported, []
        if not self.profile.supports(op):
            return ResultCode.op_code_not_supported, []
        rejectable = _REJECTABLE.get(request.opcode)
        if rejectable is not None and rejectable in self.rejected:
            return ResultCode.operation_failed, []
        if op is ControlOp.REQUEST_CONTROL:
            return self._request_control(connection), []
        if self._controller is not connection and not self.profile.has(
            QuirkName.request_control_rejected
        ):
            return ResultCode.control_not_permitted, []
        return self._command(request)

    def _request_control(self, connection: Connection) -> ResultCode:
        if self.profile.has(QuirkName.request_control_rejected):
            return ResultCode.control_not_permitted
        if self._controller is not None and self._controller is not connection:
            return ResultCode.control_not_permitted
        self._controller = connection
        return ResultCode.success

    def _command(self, request: ControlPointRequest) -> tuple[ResultCode, list[MachineStatus]]:
        match request.opcode:
            case OpCode.set_target_speed:
                return self._set_target_speed(request.target_speed_kmh or 0.0)
            case OpCode.set_target_inclination:
                return self._set_target_incline(request.target_inclination_pct or 0.0)
            case OpCode.start_or_resume:
                return self._start_or_resume()
            case OpCode.stop_or_pause:
                return self._stop_or_pause(request.control or StopControl.stop)
            case OpCode.reset:
                return self._reset()
        return ResultCode.op_code_not_supported, []

    def _set_target_speed(self, kmh: float) -> tuple[ResultCode, list[MachineStatus]]:
        speed = self.profile.speed
        if not speed.min_kmh - 1e-9 <= kmh <= speed.max_kmh + 1e-9:
            return ResultCode.invalid_parameter, []
        if self.profile.has(QuirkName.start_before_speed) and not self.running:
            return ResultCode.success, []
        origin = speed.min_kmh if speed.snap is GridSnap.FROM_MINIMUM else 0.0
        kmh = _on_grid(kmh, speed.increment_kmh, speed.min_kmh, speed.max_kmh, origin)
        self.target_speed_kmh = kmh
        if self.running and not self.paused:
            self.belt.command_speed(self._belt_speed_for(kmh))
        status = MachineStatus(MachineStatusOpCode.target_speed_changed, target_speed_kmh=kmh)
        return ResultCode.success, [status]

    def _belt_speed_for(self, target_kmh: float) -> float:
        """The speed the motor runs for a commanded target (quirks change it)."""
        kmh = target_kmh
        if self.profile.has(QuirkName.speed_param_mph):
            kmh *= KMH_PER_MPH
        if self.profile.has(QuirkName.min_speed_1kmh):
            kmh = max(kmh, MIN_SPEED_QUIRK_KMH)
        return min(kmh, self.profile.belt_max_kmh)

    def _set_target_incline(self, pct: float) -> tuple[ResultCode, list[MachineStatus]]:
        incline = self.profile.incline
        if incline is None:
            return ResultCode.op_code_not_supported, []
        if not incline.min_pct - 1e-9 <= pct <= incline.max_pct + 1e-9:
            return ResultCode.invalid_parameter, []
        pct = _on_grid(pct, incline.increment_pct, incline.min_pct, incline.max_pct)
        self.target_incline_pct = pct
        self.belt.command_incline(pct)
        status = MachineStatus(
            MachineStatusOpCode.target_incline_changed, target_inclination_pct=pct
        )
        return ResultCode.success, [status]

    def _start_or_resume(self) -> tuple[ResultCode, list[MachineStatus]]:
        if self.safety_key_out:
            return ResultCode.operation_failed, []
        if self.running and not self.paused and self.profile.has(QuirkName.start_toggles_pause):
            return self._stop_or_pause(StopControl.pause)
        self.running = True
        self.paused = False
        self.training_status = TrainingStatusCode.manual_mode
        target_kmh = self.target_speed_kmh or self.profile.speed.min_kmh
        self.belt.command_speed(self._belt_speed_for(target_kmh))
        self._spawn(self._notify_training_status())
        return ResultCode.success, [MachineStatus(MachineStatusOpCode.started_or_resumed_by_user)]

    def _stop_or_pause(self, control: StopControl) -> tuple[ResultCode, list[MachineStatus]]:
        self.belt.command_stop()
        if control is StopControl.pause:
            self.paused = True
        else:
            self._enter_stopped()
        status = MachineStatus(MachineStatusOpCode.stopped_or_paused_by_user, control=control)
        return ResultCode.success, [status]

    def _reset(self) -> tuple[ResultCode, list[MachineStatus]]:
        self.belt.command_stop()
        self._enter_stopped()
        self.target_speed_kmh = None
        self.target_incline_pct = None
        self.belt.command_incline(0.0)
        self.elapsed_s = 0.0
        self._controller = None
        return ResultCode.success, [MachineStatus(MachineStatusOpCode.reset)]

    def _enter_stopped(self) -> None:
        was_running = self.running
        self.running = False
        self.paused = False
        self.training_status = TrainingStatusCode.idle
        if was_running:
            self._spawn(self._notify_training_status())
            if self.profile.has(QuirkName.zero_packets):
                self._zero_packets_left = ZERO_PACKETS_PER_EVENT

    async def _answer(
        self,
        connection: Connection,
        exchange: ControlExchange,
        result: ResultCode,
        statuses: list[MachineStatus],
    ) -> None:
        """Runs after the write response went out (and the profile's answer delay): indication
        first, then the statuses. The procedure ends as its answer goes out, so a write that
        reacts to the indication is never refused as overlapping this one."""
        try:
            delay = self.profile.control.answer_delay_s
            if delay > 0:
                await asyncio.sleep(delay)
            self._end_procedure(exchange)
            if self.profile.has(QuirkName.ack_by_machine_status):
                exchange.acknowledged_by_status = bool(statuses)
            else:
                response = encode_response(ControlPointResponse(exchange.opcode or 0, result))
                exchange.response = response
                try:
                    await self.device.indicate_subscriber(connection, self.control_char, response)
                except Exception:  # the central left or never confirmed: nothing more to tell it
                    logger.debug("control point indication not delivered", exc_info=True)
            for status in statuses:
                self._broadcast_status(status)
        finally:
            self._end_procedure(exchange)

    def _end_procedure(self, exchange: ControlExchange) -> None:
        if self._in_progress is exchange:
            self._in_progress = None

    # ----------------------------------------------------------------- notifications

    def _broadcast_status(self, status: MachineStatus) -> None:
        self.status_log.append(status)
        for connection in list(self._connections.values()):
            self._spawn(self._notify_status(connection, status))

    async def _notify_status(self, connection: Connection, status: MachineStatus) -> None:
        await self._notify(connection, self.status_char, encode_machine_status(status))

    async def _notify_training_status(self) -> None:
        value = self._training_status_bytes()
        for connection in list(self._connections.values()):
            await self._notify(connection, self.training_char, value)

    async def _notify(
        self, connection: Connection, characteristic: Characteristic[Any], value: bytes
    ) -> bool:
        if not self._cccd_flags(connection, characteristic) & CCCD_NOTIFY:
            return False
        try:
            await self.device.notify_subscriber(connection, characteristic, value)
        except Exception:  # a link going down mid-send is the central's problem, not ours
            logger.debug("notification not delivered", exc_info=True)
            return False
        return True

    async def _data_ticker(self) -> None:
        interval = self.profile.data_interval_s
        loop = asyncio.get_running_loop()
        next_tick = loop.time() + interval
        while True:
            await asyncio.sleep(max(0.0, next_tick - loop.time()))
            next_tick += interval
            self._sync()
            if self.stalled:
                continue
            packet = self._data_packet()
            for connection in list(self._connections.values()):
                if await self._notify(connection, self.data_char, packet):
                    self.data_notifications += 1

    def _data_packet(self) -> bytes:
        packet = encode_treadmill_data(
            TreadmillData(
                instantaneous_speed_kmh=round(self.belt.speed_kmh, 2),
                total_distance_m=round(self.belt.distance_m),
                inclination_pct=round(self.belt.incline_pct, 1)
                if self.profile.incline is not None
                else None,
                ramp_angle_deg=None,
                total_energy_kcal=round(self.walker.energy_kcal),
                energy_per_hour_kcal=round(self.walker.energy_per_hour_kcal),
                energy_per_minute_kcal=round(self.walker.energy_per_hour_kcal / 60),
                heart_rate_bpm=self.walker.reported_heart_rate_bpm
                if self.reports_heart_rate
                else None,
                elapsed_time_s=round(self.elapsed_s),
                step_count=self.walker.step_count if self.profile.step_count else None,
                not_available=frozenset({"ramp_angle_deg"})
                if self.profile.incline is not None
                else frozenset(),
            )
        )
        if self._zero_packets_left > 0:
            self._zero_packets_left -= 1
            return bytes(len(packet))
        return packet

    # ----------------------------------------------------------------- time

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _sync(self) -> None:
        """Bring belt, walker and elapsed time up to the loop's present."""
        now = self._now()
        if self._last_sync is None:
            self._last_sync = now
            return
        dt = now - self._last_sync
        if dt <= 0:
            return
        self._last_sync = now
        self.belt.advance(dt)
        self.walker.advance(dt, self.belt.speed_kmh, self.belt.incline_pct)
        if self.running and not self.paused:
            self.elapsed_s += dt



def _number(fault: FaultSpec, default: float) -> float:
    return float(fault.arg) if isinstance(fault.arg, int | float) else default


def _on_grid(value: float, increment: float, low: float, high: float, origin: float = 0.0) -> float:
    """Snap a commanded value to the machine's grid, as its firmware would, within its range:
    the nearest `origin + k * increment` (origin 0: multiples of the increment)."""
    snapped = origin + round((value - origin) / increment) * increment
    return min(high, max(low, round(snapped, 2)))


__all__: list[str] = ["ControlExchange", "SimTreadmill", "WireRecord", "advertising_data"]
