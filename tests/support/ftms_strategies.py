"""Hypothesis strategies for FTMS values that lie on the wire grid, so round trips are exact."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from retrotread.ftms import (
    SPIN_DOWN_RESPONSE_SIZE,
    ControlPointRequest,
    ControlPointResponse,
    FitnessMachineFeature,
    FtmsServiceData,
    InclineRange,
    MachineFeature,
    MachineStatus,
    MachineStatusOpCode,
    MachineType,
    OpCode,
    ResultCode,
    SpeedRange,
    StopControl,
    TargetSetting,
    TrainingStatus,
    TrainingStatusCode,
    TreadmillData,
)
from retrotread.ftms.machine_status import PARAMETER_SIZES as STATUS_SIZES

u8 = st.integers(0, 0xFE)
u16 = st.integers(0, 0xFFFE)
u24 = st.integers(0, 0xFFFFFE)
s16 = st.integers(-0x8000, 0x7FFE)
u32 = st.integers(0, 0xFFFFFFFF)


def hundredths(raw: st.SearchStrategy[int]) -> st.SearchStrategy[float]:
    return raw.map(lambda n: n / 100)


def tenths(raw: st.SearchStrategy[int]) -> st.SearchStrategy[float]:
    return raw.map(lambda n: n / 10)


# Flag groups in wire order: every member of a group is present together (value or n/a).
_GROUPS: list[dict[str, st.SearchStrategy[Any]]] = [
    {"instantaneous_speed_kmh": hundredths(u16)},
    {"average_speed_kmh": hundredths(u16)},
    {"total_distance_m": u24},
    {"inclination_pct": tenths(s16), "ramp_angle_deg": tenths(s16)},
    {"positive_elevation_gain_m": tenths(u16), "negative_elevation_gain_m": tenths(u16)},
    {"total_energy_kcal": u16, "energy_per_hour_kcal": u16, "energy_per_minute_kcal": u8},
    {"heart_rate_bpm": u8},
    {"metabolic_equivalent": tenths(u8)},
    {"elapsed_time_s": u16},
    {"remaining_time_s": u16},
    {"force_on_belt_n": s16, "power_output_w": s16},
    {"step_count": u24},
]


@st.composite
def treadmill_data(draw: st.DrawFn) -> TreadmillData:
    fields: dict[str, Any] = {}
    not_available: set[str] = set()
    for group in _GROUPS:
        if not draw(st.booleans()):
            continue
        for name, values in group.items():
            if draw(st.integers(0, 4)) == 0:
                not_available.add(name)
            else:
                fields[name] = draw(values)
    width = draw(st.sampled_from([1, 2]))
    pace_values = tenths(u8) if width == 1 else u16
    has_pace = False
    for name in ("instantaneous_pace", "average_pace"):
        if draw(st.booleans()):
            has_pace = True
            if draw(st.integers(0, 4)) == 0:
                not_available.add(name)
            else:
                fields[name] = draw(pace_values)
    return TreadmillData(
        pace_width=width if has_pace else None,
        not_available=frozenset(not_available),
        **fields,
    )


feature = st.builds(FitnessMachineFeature, u32.map(MachineFeature), u32.map(TargetSetting))
# Ranges that make sense (minimum <= maximum, increment >= 1 step): the only ones that decode.
_ordered_u16 = st.tuples(u16, u16).map(sorted)
_ordered_s16 = st.tuples(s16, s16).map(sorted)
speed_range = st.builds(
    lambda bounds, inc: SpeedRange(bounds[0] / 100, bounds[1] / 100, inc / 100),
    _ordered_u16,
    st.integers(1, 0xFFFE),
)
incline_range = st.builds(
    lambda bounds, inc: InclineRange(bounds[0] / 10, bounds[1] / 10, inc / 10),
    _ordered_s16,
    st.integers(1, 0xFFFE),
)
service_data = st.builds(FtmsServiceData, st.booleans(), st.integers(0, 0xFFFF).map(MachineType))
training_status = st.builds(
    TrainingStatus,
    st.sampled_from(TrainingStatusCode),
    st.none() | st.text(max_size=20),
)

_RAW_PARAMETER_OPS = [
    op
    for op in OpCode
    if op
    not in {
        OpCode.request_control,
        OpCode.reset,
        OpCode.start_or_resume,
        OpCode.set_target_speed,
        OpCode.set_target_inclination,
        OpCode.stop_or_pause,
        OpCode.response_code,
    }
]

control_point_request = st.one_of(
    st.sampled_from([OpCode.request_control, OpCode.reset, OpCode.start_or_resume]).map(
        ControlPointRequest
    ),
    hundredths(st.integers(0, 0xFFFF)).map(
        lambda kmh: ControlPointRequest(OpCode.set_target_speed, target_speed_kmh=kmh)
    ),
    tenths(st.integers(-0x8000, 0x7FFF)).map(
        lambda pct: ControlPointRequest(OpCode.set_target_inclination, target_inclination_pct=pct)
    ),
    st.sampled_from(StopControl).map(
        lambda control: ControlPointRequest(OpCode.stop_or_pause, control=control)
    ),
    st.builds(
        ControlPointRequest,
        st.sampled_from(_RAW_PARAMETER_OPS),
        parameter=st.binary(max_size=10),
    ),
)

control_point_response = st.one_of(
    # Every response is exactly 3 bytes ...
    st.builds(
        ControlPointResponse,
        st.integers(0, 0xFF).map(lambda n: OpCode(n) if n in OpCode._value2member_map_ else n),
        st.sampled_from(ResultCode),
    ),
    # ... but a successful spin down, which may add its two target speeds.
    st.binary(min_size=SPIN_DOWN_RESPONSE_SIZE, max_size=SPIN_DOWN_RESPONSE_SIZE).map(
        lambda speeds: ControlPointResponse(OpCode.spin_down_control, ResultCode.success, speeds)
    ),
)

_RAW_STATUS_OPS = [
    op
    for op in MachineStatusOpCode
    if op
    not in {
        MachineStatusOpCode.reset,
        MachineStatusOpCode.stopped_by_safety_key,
        MachineStatusOpCode.started_or_resumed_by_user,
        MachineStatusOpCode.control_permission_lost,
        MachineStatusOpCode.stopped_or_paused_by_user,
        MachineStatusOpCode.target_speed_changed,
        MachineStatusOpCode.target_incline_changed,
    }
]

machine_status = st.one_of(
    st.sampled_from(
        [
            MachineStatusOpCode.reset,
            MachineStatusOpCode.stopped_by_safety_key,
            MachineStatusOpCode.started_or_resumed_by_user,
            MachineStatusOpCode.control_permission_lost,
        ]
    ).map(MachineStatus),
    st.sampled_from(StopControl).map(
        lambda c: MachineStatus(MachineStatusOpCode.stopped_or_paused_by_user, control=c)
    ),
    hundredths(st.integers(0, 0xFFFF)).map(
        lambda kmh: MachineStatus(MachineStatusOpCode.target_speed_changed, target_speed_kmh=kmh)
    ),
    tenths(st.integers(-0x8000, 0x7FFF)).map(
        lambda pct: MachineStatus(
            MachineStatusOpCode.target_incline_changed, target_inclination_pct=pct
        )
    ),
    # Every other op code with a parameter of exactly its FTMS size.
    st.sampled_from(_RAW_STATUS_OPS).flatmap(
        lambda op: st.binary(min_size=STATUS_SIZES[op], max_size=STATUS_SIZES[op]).map(
            lambda parameter: MachineStatus(op, parameter=parameter)
        )
    ),
)
