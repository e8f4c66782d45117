"""A session as a FIT activity file (Garmin's Flexible and Interoperable Data Transfer), written
with fit-tool: what Strava and Garmin Connect take as a treadmill walk.

What the file holds, in order (FIT's Activity file, as Garmin's cookbook lays it out):
- `file_id` (type activity, manufacturer development, the session start as time_created, a
  serial number derived from the session id, so the same session exported twice is the same
  activity to a duplicate check), `file_creator`, and a `device_info` for retrotread (the
  creator), the treadmill, and the heart-rate strap when one gave heart rate: FIT's way of
  saying where heart rate came from;
- `sport` (walking / treadmill, "Backward walk");
- a timer `start` event at the session's start, a `stop_all` / `start` pair around every pause
  somebody asked for, and a `stop_all` at the end;
- one `record` per telemetry sample: timestamp, cumulative distance, belt speed in m/s,
  heart rate, and grade (the belt's incline) when the machine reported one;
- one `lap` per segment (they tile the session: `history.timeline`), then the `session`
  (sport walking, sub_sport treadmill, totals) and the `activity`.

Energy: `total_calories` is the estimate of SPEC (`retrotread.energy`, net kcal), written only
when the walker's weight is known; never the treadmill's own figure, which assumes forward
walking.

Speed: fit-tool builds every profile field of a message when it is created (some 80 for a
record) and re-derives a definition for every message added, which for an hour at 1 Hz costs
well over a second. Here a record carries only the five fields it writes, the first one goes
through the builder (which writes its definition), and every later sample is encoded by one
scratch record bound to that definition: fit-tool's own field encoding (scale, offset, range
checks), its bytes handed to the builder. Absent values are written as FIT's invalid value
rather than left out, so the one record definition serves the whole file.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from fit_tool.base_type import BaseType  # type: ignore[import-untyped]
from fit_tool.data_message import DataMessage  # type: ignore[import-untyped]
from fit_tool.fit_file_builder import FitFileBuilder  # type: ignore[import-untyped]
from fit_tool.profile.messages import record_message  # type: ignore[import-untyped]
from fit_tool.profile.messages.activity_message import (  # type: ignore[import-untyped]
    ActivityMessage,
)
from fit_tool.profile.messages.common_fields import TimestampField  # type: ignore[import-untyped]
from fit_tool.profile.messages.device_info_message import (  # type: ignore[import-untyped]
    DeviceInfoMessage,
)
from fit_tool.profile.messages.event_message import EventMessage  # type: ignore[import-untyped]
from fit_tool.profile.messages.file_creator_message import (  # type: ignore[import-untyped]
    FileCreatorMessage,
)
from fit_tool.profile.messages.file_id_message import FileIdMessage  # type: ignore[import-untyped]
from fit_tool.profile.messages.lap_message import LapMessage  # type: ignore[import-untyped]
from fit_tool.profile.messages.session_message import (  # type: ignore[import-untyped]
    SessionMessage,
)
from fit_tool.profile.messages.sport_message import SportMessage  # type: ignore[import-untyped]
from fit_tool.profile.profile_type import (  # type: ignore[import-untyped]
    Activity,
    BleDeviceType,
    Event,
    EventType,
    FileType,
    Intensity,
    LapTrigger,
    Manufacturer,
    SessionTrigger,
    SourceType,
    Sport,
    SubSport,
    TimerTrigger,
)
from fit_tool.record import Record, RecordHeader  # type: ignore[import-untyped]

from retrotread.history import timeline
from retrotread.history.export import CREATOR
from retrotread.history.record import Sample, SessionLog

SPORT_NAME = "Backward walk"
FIT_EPOCH_S = 631065600  # 1989-12-31T00:00:00Z, where FIT's date_time counts from
_PRODUCT = 1
# Local message types: records and events interleave, so each keeps its own definition.
_RECORD_LOCAL, _EVENT_LOCAL = 1, 2
_CREATOR_INDEX, _TREADMILL_INDEX, _STRAP_INDEX = 0, 1, 2
_NAME_LIMIT = 32  # bytes: product names are free text from the device's advertisement


class _Record(record_message.RecordMessage):  # type: ignore[misc]
    """A `record` with only the fields this exporter writes (see the module docstring)."""

    def __init__(self) -> None:
        DataMessage.__init__(
            self,
            name=record_message.RecordMessage.NAME,
            global_id=record_message.RecordMessage.ID,
            local_id=_RECORD_LOCAL,
            fields=[
                TimestampField(size=0, growable=True),
                record_message.RecordDistanceField(size=0, growable=True),
                record_message.RecordSpeedField(size=0, growable=True),
                record_message.RecordHeartRateField(size=0, growable=True),
                record_message.RecordGradeField(size=0, growable=True),
            ],
        )


def fit_bytes(
    log: SessionLog,
    *,
    weight_kg: float | None = None,
    utc_offset_s: int | None = None,
    version: tuple[int, int] = (0, 0),
    strict: bool = False,
) -> bytes:
    """The FIT activity file of `log`. `utc_offset_s` is the walker's offset from UTC for the
    activity's local timestamp (default: this machine's zone at the session's start);
    `version` is retrotread's (major, minor), for the creator. `strict`: fit-tool checks the
    file (wire limits, profile, the Activity file's required messages) and raises on a fault;
    the tests use it, an export does not pay for it."""
    builder = FitFileBuilder(auto_define=True, strict=strict)
    records = _Records(builder, log)
    for item in _messages(log, weight_kg, utc_offset_s, version):
        if isinstance(item, tuple):
            records.add(*item)
        else:
            builder.add(item)
    data: bytes = builder.build_bytes()
    return data


class _Encoded:
    """A data message already encoded: what the builder needs of one (its size, its bytes)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    @property
    def size(self) -> int:
        return len(self._data)

    def to_bytes(self) -> bytes:
        return self._data


class _Records:
    """The records of one file (see the module docstring): the first through the builder,
    the rest encoded by one scratch record bound to the first one's definition."""

    def __init__(self, builder: Any, log: SessionLog) -> None:
        self._builder = builder
        self._log = log
        self._scratch: _Record | None = None
        self._header = RecordHeader(is_definition=False, local_id=_RECORD_LOCAL)

    def add(self, sample: Sample, distance_m: float) -> None:
        if self._scratch is None:
            self._builder.add(_record(self._log, sample, distance_m))
            self._scratch = _record(self._log, sample, distance_m)
            self._scratch.set_definition_message(self._builder.definition_map[_RECORD_LOCAL])
            return
        scratch = self._scratch
        _fill(scratch, self._log, sample, distance_m)
        self._builder.records.append(Record(self._header, _Encoded(scratch.to_bytes())))


def _messages(
    log: SessionLog,
    weight_kg: float | None,
    utc_offset_s: int | None,
    version: tuple[int, int],
) -> Iterator[Any]:
    """The file's messages in order; a record comes as (sample, distance) for `_Records`."""
    end = timeline.end_t(log)
    start_ms = _ms(log, 0.0)
    spans = timeline.lap_spans(log)
    pauses = timeline.pauses(log)

    yield _file_id(log, start_ms)
    creator = FileCreatorMessage()
    creator.software_version = version[0] * 100 + version[1]
    yield creator
    yield from _device_infos(log, start_ms, version)
    sport = SportMessage()
    sport.sport = Sport.WALKING
    sport.sub_sport = SubSport.TREADMILL
    sport.sport_name = SPORT_NAME
    yield sport

    yield _timer(start_ms, EventType.START)
    distances = timeline.cumulative_distances(log.samples)
    events = [(p.start_t, EventType.STOP_ALL) for p in pauses]
    events += [(p.end_t, EventType.START) for p in pauses if p.end_t < end]
    events.sort(key=lambda item: item[0])
    pending = iter(events)
    upcoming = next(pending, None)
    for sample, distance in zip(log.samples, distances, strict=True):
        while upcoming is not None and upcoming[0] <= sample.t:
            yield _timer(_ms(log, upcoming[0]), upcoming[1])
            upcoming = next(pending, None)
        yield (sample, distance)
    while upcoming is not None:
        yield _timer(_ms(log, upcoming[0]), upcoming[1])
        upcoming = next(pending, None)
    end_ms = _ms(log, end)
    if not (pauses and pauses[-1].end_t >= end):  # the timer is not already stopped
        yield _timer(end_ms, EventType.STOP_ALL)

    for span in spans:
        yield _lap(log, span, weight_kg, last=span.number == len(spans) - 1)
    yield _session(log, spans, weight_kg, start_ms, end_ms)

    timer_s = max(0.0, end - timeline.paused_s(log))
    activity = ActivityMessage()
    activity.timestamp = end_ms
    activity.total_timer_time = timer_s
    activity.num_sessions = 1
    activity.type = Activity.MANUAL
    activity.event = Event.ACTIVITY
    activity.event_type = EventType.STOP
    offset = _utc_offset_s(log.wall_time(end)) if utc_offset_s is None else utc_offset_s
    activity.local_timestamp = end_ms // 1000 - FIT_EPOCH_S + offset
    yield activity


def _file_id(log: SessionLog, start_ms: int) -> Any:
    file_id = FileIdMessage()
    file_id.type = FileType.ACTIVITY
    file_id.manufacturer = Manufacturer.DEVELOPMENT.value
    file_id.product = _PRODUCT
    file_id.serial_number = zlib.crc32(log.id.encode()) or 1  # uint32z: 0 is invalid
    file_id.time_created = start_ms
    file_id.product_name = CREATOR
    return file_id


def _device_infos(log: SessionLog, start_ms: int, version: tuple[int, int]) -> Iterator[Any]:
    """retrotread as the creator; the treadmill; the strap, when it gave heart rate."""
    creator = DeviceInfoMessage()
    creator.timestamp = start_ms
    creator.device_index = _CREATOR_INDEX
    creator.manufacturer = Manufacturer.DEVELOPMENT.value
    creator.product = _PRODUCT
    creator.product_name = CREATOR
    creator.software_version = version[0] + version[1] / 100
    creator.source_type = SourceType.LOCAL
    yield creator
    if log.device is not None:
        treadmill = DeviceInfoMessage()
        treadmill.timestamp = start_ms
        treadmill.device_index = _TREADMILL_INDEX
        treadmill.source_type = SourceType.BLUETOOTH_LOW_ENERGY
        treadmill.product_name = _short(log.device)
        yield treadmill
    if "strap" in log.heart_rate_sources:
        strap = DeviceInfoMessage()
        strap.timestamp = start_ms
        strap.device_index = _STRAP_INDEX
        strap.source_type = SourceType.BLUETOOTH_LOW_ENERGY
        strap.ble_device_type = BleDeviceType.HEART_RATE
        strap.product_name = "heart-rate strap"
        yield strap


def _timer(at_ms: int, kind: Any) -> Any:
    event = EventMessage(local_id=_EVENT_LOCAL)
    event.timestamp = at_ms
    event.event = Event.TIMER
    event.event_type = kind
    event.timer_trigger = TimerTrigger.MANUAL
    return event


def _record(log: SessionLog, sample: Sample, distance_m: float) -> _Record:
    record = _Record()
    _fill(record, log, sample, distance_m)
    return record


def _fill(record: _Record, log: SessionLog, sample: Sample, distance_m: float) -> None:
    """The sample's values into the record's fields (fit-tool encodes them: scale, offset,
    range); FIT's invalid value for those it lacks (the field is there, its value is not)."""
    timestamp, distance, speed, heart_rate, grade = record.fields
    timestamp.set_value(0, _ms(log, sample.t))
    distance.set_value(0, distance_m)
    speed.set_value(0, sample.speed_kmh * timeline.MPS_PER_KMH)
    if sample.heart_rate_bpm:
        heart_rate.set_value(0, sample.heart_rate_bpm)
    else:
        _invalid(heart_rate)
    if sample.incline_pct is not None:
        grade.set_value(0, sample.incline_pct)
    else:
        _invalid(grade)


def _invalid(field: Any) -> None:
    base: BaseType = field.base_type
    field.set_encoded_value(0, base.invalid_raw_value(), check_validity=False)


def _lap(log: SessionLog, span: timeline.LapSpan, weight_kg: float | None, *, last: bool) -> Any:
    lap = LapMessage()
    lap.message_index = span.number
    lap.timestamp = _ms(log, span.end_t)
    lap.event = Event.LAP
    lap.event_type = EventType.STOP
    lap.start_time = _ms(log, span.start_t)
    lap.total_elapsed_time = span.elapsed_s
    lap.total_timer_time = span.timer_s
    lap.total_distance = span.distance_m
    _speeds(lap, span.avg_speed_mps, span.max_speed_mps)
    _heart_rates(lap, span.avg_heart_rate_bpm, span.max_heart_rate_bpm)
    kcal = span.kcal(weight_kg)
    if kcal is not None:
        lap.total_calories = round(kcal)
    up, down = timeline.ascent_descent_m(span.samples)
    if any(s.incline_pct is not None for s in span.samples):
        lap.total_ascent = round(up)
        lap.total_descent = round(down)
    lap.intensity = Intensity.ACTIVE
    lap.lap_trigger = LapTrigger.SESSION_END if last else LapTrigger.TIME
    lap.sport = Sport.WALKING
    lap.sub_sport = SubSport.TREADMILL
    return lap


def _session(
    log: SessionLog,
    spans: tuple[timeline.LapSpan, ...],
    weight_kg: float | None,
    start_ms: int,
    end_ms: int,
) -> Any:
    end = timeline.end_t(log)
    timer_s = max(0.0, end - timeline.paused_s(log))
    session = SessionMessage()
    session.message_index = 0
    session.timestamp = end_ms
    session.event = Event.SESSION
    session.event_type = EventType.STOP
    session.start_time = start_ms
    session.sport = Sport.WALKING
    session.sub_sport = SubSport.TREADMILL
    session.sport_profile_name = SPORT_NAME
    session.total_elapsed_time = log.duration_s
    session.total_timer_time = timer_s
    session.total_distance = log.distance_m
    samples_speed = [s.speed_kmh for s in log.samples]
    _speeds(
        session,
        log.distance_m / timer_s if timer_s > 0 else None,
        max(samples_speed) * timeline.MPS_PER_KMH if samples_speed else None,
    )
    _heart_rates(session, log.avg_heart_rate_bpm, log.max_heart_rate_bpm)
    kcal = log.kcal(weight_kg)
    if kcal is not None:
        session.total_calories = round(kcal)
    if any(s.incline_pct is not None for s in log.samples):
        up, down = timeline.ascent_descent_m(log.samples)
        session.total_ascent = round(up)
        session.total_descent = round(down)
    session.first_lap_index = 0
    session.num_laps = len(spans)
    session.trigger = SessionTrigger.ACTIVITY_END
    return session


def _speeds(message: Any, avg_mps: float | None, max_mps: float | None) -> None:
    if avg_mps is not None:
        message.avg_speed = avg_mps
    if max_mps is not None:
        message.max_speed = max_mps


def _heart_rates(message: Any, avg_bpm: float | None, max_bpm: int | None) -> None:
    if avg_bpm is not None:
        message.avg_heart_rate = round(avg_bpm)
    if max_bpm is not None:
        message.max_heart_rate = max_bpm


def _ms(log: SessionLog, t: float) -> int:
    """Milliseconds since the Unix epoch (fit-tool's unit for FIT's date_time)."""
    return round(log.wall_time(t).timestamp() * 1000)


def _utc_offset_s(moment: datetime) -> int:
    offset = moment.astimezone().utcoffset()
    return round(offset.total_seconds()) if offset is not None else 0


def _short(name: str) -> str:
    """A device name that fits a FIT string field comfortably (whole UTF-8 characters)."""
    data = name.encode()[:_NAME_LIMIT]
    return data.decode(errors="ignore")
