"""The FIT export read back by fitdecode with its CRC checked: every field written, and that it
says what the journal says (a treadmill walk; one record per sample; one lap per segment;
distance and duration as journaled; pauses as timer events; the energy estimate only with a
weight)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from retrotread.events import ConnectedEvent, Direction, TelemetryEvent
from retrotread.history import timeline
from retrotread.history.export.fit import FIT_EPOCH_S, fit_bytes
from retrotread.history.record import SessionLog
from tests.support.export_sessions import Seg, Shape, fit_messages, session_log

RECORD_FIELDS = {"timestamp", "distance", "speed", "enhanced_speed", "heart_rate", "grade"}


def _wall(log: SessionLog, t: float) -> datetime:
    """A FIT date_time: whole seconds."""
    return datetime.fromtimestamp(round(log.wall_time(t).timestamp()), UTC)


def _export(log: SessionLog, **kwargs: object) -> dict[str, list[dict[str, object]]]:
    return fit_messages(fit_bytes(log, utc_offset_s=0, **kwargs))  # type: ignore[arg-type]


def test_a_treadmill_walk_with_one_record_per_sample_and_a_lap_per_segment() -> None:
    log = session_log()
    found = _export(log, version=(1, 2))

    (file_id,) = found["file_id"]
    assert file_id["type"] == "activity"
    assert file_id["manufacturer"] == "development"
    assert file_id["time_created"] == log.started_at
    assert file_id["product_name"] == "retrotread"
    assert found["file_creator"][0]["software_version"] == 102
    (sport,) = found["sport"]
    assert (sport["sport"], sport["sub_sport"]) == ("walking", "treadmill")

    (session,) = found["session"]
    assert (session["sport"], session["sub_sport"]) == ("walking", "treadmill")
    assert session["start_time"] == log.started_at
    assert session["total_elapsed_time"] == pytest.approx(log.duration_s, abs=0.001)
    assert session["total_timer_time"] == pytest.approx(log.duration_s, abs=0.001)
    assert session["total_distance"] == pytest.approx(log.distance_m, abs=0.01)
    assert session["num_laps"] == len(log.laps) == 3
    assert session["avg_heart_rate"] == round(log.avg_heart_rate_bpm or 0)
    assert session["max_heart_rate"] == log.max_heart_rate_bpm
    assert session["max_speed"] == pytest.approx(
        max(s.speed_kmh for s in log.samples) / 3.6, abs=1e-3
    )
    assert session["avg_speed"] == pytest.approx(log.distance_m / log.duration_s, abs=1e-3)
    assert session["trigger"] == "activity_end"

    records = found["record"]
    assert len(records) == len(log.samples)
    distances = timeline.cumulative_distances(log.samples)
    for record, sample, distance in zip(records, log.samples, distances, strict=True):
        assert set(record) == RECORD_FIELDS
        assert record["timestamp"] == _wall(log, sample.t)
        assert record["distance"] == pytest.approx(distance, abs=0.01)
        assert record["speed"] == pytest.approx(sample.speed_kmh / 3.6, abs=1e-3)
        assert record["heart_rate"] == sample.heart_rate_bpm
        assert record["grade"] is None  # the machine reported no incline
    assert records[-1]["distance"] == pytest.approx(log.distance_m, abs=0.1)

    laps = found["lap"]
    assert len(laps) == len(log.laps)
    for lap, segment, span in zip(laps, log.laps, timeline.lap_spans(log), strict=True):
        assert (lap["sport"], lap["sub_sport"]) == ("walking", "treadmill")
        assert lap["intensity"] == "active"
        assert lap["start_time"] == _wall(log, span.start_t)
        assert lap["total_elapsed_time"] == pytest.approx(span.elapsed_s, abs=0.001)
        assert lap["total_distance"] == pytest.approx(span.distance_m, abs=0.01)
        assert lap["max_speed"] == pytest.approx(segment_max(span), abs=1e-3)
        assert lap["avg_heart_rate"] == round(span.avg_heart_rate_bpm or 0)
        assert "total_calories" not in lap
        if segment.index > 0:
            assert span.start_t == segment.start_t
    assert laps[0]["start_time"] == log.started_at  # the laps tile the session
    assert sum(lap["total_distance"] for lap in laps) == pytest.approx(log.distance_m, abs=0.1)
    assert [lap["lap_trigger"] for lap in laps] == ["time", "time", "session_end"]

    events = found["event"]
    assert (events[0]["event"], events[0]["event_type"]) == ("timer", "start")
    assert events[0]["timestamp"] == log.started_at
    assert (events[-1]["event"], events[-1]["event_type"]) == ("timer", "stop_all")
    assert len(events) == 2

    (activity,) = found["activity"]
    assert activity["num_sessions"] == 1
    assert activity["type"] == "manual"
    assert activity["total_timer_time"] == pytest.approx(log.duration_s, abs=0.001)
    assert activity["timestamp"] == _wall(log, log.duration_s)
    assert "total_calories" not in session


def segment_max(span: timeline.LapSpan) -> float:
    return max(s.speed_kmh for s in span.samples) / 3.6


def test_heart_rate_from_a_strap_is_said_with_a_heart_rate_device() -> None:
    devices = _export(session_log(Shape(heart_rate_source="strap")))["device_info"]
    by_index = {d["device_index"]: d for d in devices}
    assert by_index["creator"]["product_name"] == "retrotread"
    assert by_index[1]["product_name"] == "Hand Treadmill"
    assert by_index[1]["source_type"] == "bluetooth_low_energy"
    assert by_index[2]["ble_device_type"] == "heart_rate"
    assert by_index[2]["source_type"] == "bluetooth_low_energy"

    treadmill_only = _export(session_log(Shape(heart_rate_source="treadmill")))["device_info"]
    assert [d["device_index"] for d in treadmill_only] == ["creator", 1]


def test_a_pause_stops_the_timer_and_is_left_out_of_timer_time() -> None:
    log = session_log(Shape(pause=(60.0, 30.0)))
    found = _export(log)
    timer = [(e["event_type"], e["timestamp"]) for e in found["event"]]
    assert timer == [
        ("start", log.started_at),
        ("stop_all", _wall(log, 60.0)),
        ("start", _wall(log, 90.0)),
        ("stop_all", _wall(log, log.duration_s)),
    ]
    (session,) = found["session"]
    assert session["total_elapsed_time"] == pytest.approx(log.duration_s, abs=0.001)
    assert session["total_timer_time"] == pytest.approx(log.duration_s - 30.0, abs=0.001)
    first = found["lap"][0]  # the pause fell in the first segment
    assert first["total_elapsed_time"] - first["total_timer_time"] == pytest.approx(30.0, abs=0.001)
    # Records of the paused belt are still there: one per sample.
    assert len(found["record"]) == len(log.samples)
    assert found["activity"][0]["total_timer_time"] == pytest.approx(
        log.duration_s - 30.0, abs=1e-3
    )


def test_calories_are_the_backward_walking_estimate_and_only_with_a_weight() -> None:
    log = session_log()
    found = _export(log, weight_kg=80.0)
    (session,) = found["session"]
    assert session["total_calories"] == round(log.kcal(80.0) or 0)
    assert session["total_calories"] > 0
    spans = timeline.lap_spans(log)
    assert [lap["total_calories"] for lap in found["lap"]] == [
        round(span.kcal(80.0) or 0) for span in spans
    ]


def test_incline_becomes_grade_and_ascent() -> None:
    log = session_log(
        Shape(segments=(Seg(60, 1.0, incline_pct=2.0), Seg(120, 1.5, incline_pct=5.0)))
    )
    found = _export(log)
    grades = {r["grade"] for r in found["record"]}
    assert grades == {2.0, 5.0}
    up, _down = timeline.ascent_descent_m(log.samples)
    assert up > 3.0
    assert found["session"][0]["total_ascent"] == round(up)
    assert [lap["total_ascent"] for lap in found["lap"]] == [
        round(timeline.ascent_descent_m(span.samples)[0]) for span in timeline.lap_spans(log)
    ]


def test_without_heart_rate_or_distance_the_fields_are_invalid_not_made_up() -> None:
    log = session_log(Shape(heart_rate=False, distance=False))
    found = _export(log)
    assert {r["heart_rate"] for r in found["record"]} == {None}
    assert "avg_heart_rate" not in found["session"][0]
    assert "ble_device_type" not in str(found["device_info"])
    # No distance from the machine: the belt speed integrated, never decreasing.
    distances = [r["distance"] for r in found["record"]]
    assert distances == sorted(distances)
    assert distances[-1] == pytest.approx(log.distance_m, rel=0.01)


def test_a_cut_off_journal_exports_what_it_holds() -> None:
    full = session_log()
    cut = session_log(Shape(cut_off_at=150.0))
    assert not cut.complete
    found = _export(cut)
    assert len(found["record"]) == len(cut.samples) < len(full.samples)
    assert len(found["lap"]) == len(cut.laps) == 2
    (session,) = found["session"]
    assert session["total_elapsed_time"] == pytest.approx(cut.duration_s, abs=0.001)
    assert session["total_distance"] == pytest.approx(cut.distance_m, abs=0.01)
    assert found["event"][-1]["event_type"] == "stop_all"


def test_telemetry_before_any_segment_is_one_lap_and_an_empty_journal_still_a_file() -> None:
    connected = ConnectedEvent(t=0.1, device="X", speed_range_kmh=(0.5, 20.0, 0.01), features=[])
    samples = [TelemetryEvent(t=1.0 + i, speed_mph=0.0, speed_kmh=0.0) for i in range(5)]
    log = SessionLog.from_events("20260302T080000Z-0000", [connected, *samples])
    found = _export(log)
    assert len(found["lap"]) == 1
    assert len(found["record"]) == 5
    assert found["session"][0]["num_laps"] == 1

    empty = SessionLog.from_events("20260302T080000Z-0001", [connected])
    found = _export(empty)
    assert "record" not in found
    assert len(found["lap"]) == 1
    assert found["session"][0]["total_distance"] == 0.0


@pytest.mark.parametrize(
    "shape",
    [
        Shape(),
        Shape(pause=(60.0, 30.0), heart_rate_source="treadmill"),
        Shape(heart_rate=False, distance=False),
        Shape(segments=(Seg(60, 1.0, incline_pct=4.0),)),
        Shape(cut_off_at=100.0),
    ],
)
def test_fit_tools_own_checks_pass(shape: Shape) -> None:
    """fit-tool's strict validation: wire limits, the profile, an Activity file's messages."""
    log = session_log(shape)
    assert fit_bytes(log, weight_kg=70.0, utc_offset_s=0, strict=True) == fit_bytes(
        log, weight_kg=70.0, utc_offset_s=0
    )


def test_the_same_journal_gives_the_same_bytes() -> None:
    log = session_log(Shape(pause=(30.0, 10.0)))
    assert fit_bytes(log, utc_offset_s=3600) == fit_bytes(log, utc_offset_s=3600)


def test_local_timestamp_carries_the_offset() -> None:
    log = session_log()
    found = fit_messages(fit_bytes(log, utc_offset_s=-5 * 3600))
    (activity,) = found["activity"]
    end = _wall(log, log.duration_s)
    # fitdecode shows a local_date_time as if it were UTC: the raw local seconds.
    assert activity["local_timestamp"] == end - timedelta(hours=5)
    assert int(datetime(1989, 12, 31, tzinfo=UTC).timestamp()) == FIT_EPOCH_S


def test_forward_segments_are_laps_too() -> None:
    log = session_log()
    assert [lap.direction for lap in log.laps] == [
        Direction.backward,
        Direction.forward,
        Direction.backward,
    ]
    laps = _export(log)["lap"]
    assert laps[1]["total_distance"] > laps[0]["total_distance"] / 2  # 60 s at 2.5 mph
