"""The TCX export: valid against Garmin's TrainingCenterDatabase v2 schema, one Lap per segment,
one Trackpoint per sample, the declaration at byte 0, and the walk said in its Notes."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from retrotread.events import ConnectedEvent
from retrotread.history import timeline
from retrotread.history.export.tcx import tcx_bytes
from retrotread.history.record import SessionLog
from tests.support.export_sessions import TCX_NS, Seg, Shape, session_log, tcx_schema

SHAPES = {
    "default": Shape(),
    "paused": Shape(pause=(60.0, 30.0)),
    "no heart rate, no distance": Shape(heart_rate=False, distance=False),
    "treadmill heart rate, incline": Shape(
        heart_rate_source="treadmill", segments=(Seg(90, 1.0, incline_pct=3.0),)
    ),
    "cut off": Shape(cut_off_at=150.0),
}


def _laps(root: ET.Element) -> list[ET.Element]:
    return root.findall("tcx:Activities/tcx:Activity/tcx:Lap", TCX_NS)


@pytest.mark.parametrize("name", SHAPES)
def test_valid_against_the_schema_with_a_lap_per_segment(name: str) -> None:
    log = session_log(SHAPES[name])
    data = tcx_bytes(log, weight_kg=70.0)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')  # byte 0
    tcx_schema().validate(data.decode())
    root = ET.fromstring(data)
    assert root.tag == f"{{{TCX_NS['tcx']}}}TrainingCenterDatabase"
    laps = _laps(root)
    assert len(laps) == len(log.laps)
    points = root.findall(".//tcx:Trackpoint", TCX_NS)
    assert len(points) == len(log.samples)


def test_laps_trackpoints_and_totals_say_what_the_journal_says() -> None:
    log = session_log(Shape(pause=(60.0, 30.0)))
    root = ET.fromstring(tcx_bytes(log))
    (activity,) = root.findall("tcx:Activities/tcx:Activity", TCX_NS)
    assert activity.get("Sport") == "Other"
    assert activity.findtext("tcx:Id", namespaces=TCX_NS) == "2026-03-02T08:00:00.000Z"
    spans = timeline.lap_spans(log)
    for lap, span in zip(_laps(root), spans, strict=True):
        assert lap.get("StartTime") == _iso(log, span.start_t)
        assert float(lap.findtext("tcx:TotalTimeSeconds", namespaces=TCX_NS) or "") == (
            pytest.approx(span.timer_s, abs=0.001)
        )
        assert float(lap.findtext("tcx:DistanceMeters", namespaces=TCX_NS) or "") == (
            pytest.approx(span.distance_m, abs=0.001)
        )
        assert lap.findtext("tcx:Calories", namespaces=TCX_NS) == "0"  # no weight: no estimate
        assert lap.findtext("tcx:AverageHeartRateBpm/tcx:Value", namespaces=TCX_NS) == str(
            round(span.avg_heart_rate_bpm or 0)
        )
        assert lap.findtext("tcx:Intensity", namespaces=TCX_NS) == "Active"
        assert span.lap is not None
        assert span.lap.name in (lap.findtext("tcx:Notes", namespaces=TCX_NS) or "")
        times = [p.findtext("tcx:Time", namespaces=TCX_NS) for p in lap.iter(_q("Trackpoint"))]
        assert times == [_iso(log, s.t) for s in span.samples]
    total_time = sum(
        float(lap.findtext("tcx:TotalTimeSeconds", namespaces=TCX_NS) or "") for lap in _laps(root)
    )
    assert total_time == pytest.approx(log.duration_s - 30.0, abs=0.01)  # the pause left out
    last = root.findall(".//tcx:Trackpoint", TCX_NS)[-1]
    assert float(last.findtext("tcx:DistanceMeters", namespaces=TCX_NS) or "") == (
        pytest.approx(log.distance_m, abs=0.1)
    )
    rates = [
        p.findtext("tcx:HeartRateBpm/tcx:Value", namespaces=TCX_NS)
        for p in root.iter(_q("Trackpoint"))
    ]
    assert rates == [str(s.heart_rate_bpm) for s in log.samples]
    notes = activity.findtext("tcx:Notes", namespaces=TCX_NS) or ""
    assert "Backward walking on a treadmill" in notes
    assert "heart rate from a heart-rate strap" in notes
    assert "no user.weight_kg" in notes
    assert activity.findtext("tcx:Creator/tcx:Name", namespaces=TCX_NS) == "retrotread"


def test_calories_are_the_estimate_with_a_weight() -> None:
    log = session_log()
    root = ET.fromstring(tcx_bytes(log, weight_kg=90.0))
    calories = [int(lap.findtext("tcx:Calories", namespaces=TCX_NS) or "") for lap in _laps(root)]
    assert calories == [round(span.kcal(90.0) or 0) for span in timeline.lap_spans(log)]
    assert sum(calories) > 0


def test_no_namespace_prefix_but_the_schema_instance_one() -> None:
    text = tcx_bytes(session_log()).decode()
    assert "ns0:" not in text
    assert "ns3:" not in text
    assert 'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"' in text


def test_a_journal_without_samples_is_still_valid() -> None:
    connected = ConnectedEvent(t=0.1, device="X", speed_range_kmh=(0.5, 20.0, 0.01), features=[])
    log = SessionLog.from_events("20260302T080000Z-0001", [connected])
    data = tcx_bytes(log)
    tcx_schema().validate(data.decode())
    assert len(_laps(ET.fromstring(data))) == 1


def _q(name: str) -> str:
    return f"{{{TCX_NS['tcx']}}}{name}"


def _iso(log: SessionLog, t: float) -> str:
    moment = log.wall_time(t)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def test_the_shipped_schema_refuses_what_tcx_does_not_allow() -> None:
    """The schema in tests/data bites: a sport TCX does not know, a lap without Calories."""
    import xmlschema

    text = tcx_bytes(session_log()).decode()
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        tcx_schema().validate(text.replace('Sport="Other"', 'Sport="Walking"'))
    first_calories = text.index("<Calories>")
    broken = text[:first_calories] + text[text.index("</Calories>") + len("</Calories>") :]
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        tcx_schema().validate(broken)
