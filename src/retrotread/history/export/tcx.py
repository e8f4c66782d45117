"""A session as a TCX file (Garmin's TrainingCenterDatabase v2, XML), written with the
standard library.

One `Activity`, with one `Lap` per segment (the laps tile the session: `history.timeline`):
StartTime, TotalTimeSeconds (the timer: pauses left out), DistanceMeters, MaximumSpeed,
Calories, heart rate when known, Intensity, TriggerMethod, a `Track` of one `Trackpoint` per
telemetry sample (Time, DistanceMeters, HeartRateBpm), and the segment in the lap's Notes.

The sport: TCX knows only Running, Biking and Other. Running would make a walk a run (and
Strava cannot change an activity's type after upload), so the activity is `Other`; its Notes
say what it was. For Strava or Garmin Connect the FIT export is the one to use: it says
walking / treadmill. Uploading a TCX through Strava's API, `sport_type=Walk` sets the type.

Energy: Calories is required by the schema; it holds the estimate of SPEC when the walker's
weight is known and 0 otherwise, never the treadmill's own figure. Heart rate's source (the
strap or the treadmill) is said in the activity's Notes: TCX has no field for it.

The file starts with its XML declaration at byte 0 (Garmin refuses leading whitespace). No
extension namespace is used: speed follows from time and distance.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

from retrotread.history import timeline
from retrotread.history.export import CREATOR
from retrotread.history.record import SessionLog
from retrotread.wording import duration

TCD_NS = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{TCD_NS} http://www.garmin.com/xmlschemas/TrainingCenterDatabasev2.xsd"
SPORT = "Other"
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_MAX_CALORIES = 65535  # xsd:unsignedShort
_SOURCE_WORDS = {"strap": "a heart-rate strap", "treadmill": "the treadmill"}


def tcx_bytes(
    log: SessionLog, *, weight_kg: float | None = None, version: tuple[int, int] = (0, 0)
) -> bytes:
    """The TCX file of `log`; `version` is retrotread's (major, minor), for the Creator."""
    root = ET.Element(
        "TrainingCenterDatabase",
        {"xmlns": TCD_NS, "xmlns:xsi": XSI_NS, "xsi:schemaLocation": SCHEMA_LOCATION},
    )
    activity = ET.SubElement(ET.SubElement(root, _tag("Activities")), _tag("Activity"), Sport=SPORT)
    _text(activity, "Id", _time(log.started_at))
    distances = timeline.cumulative_distances(log.samples)
    offset = 0
    spans = timeline.lap_spans(log)
    for span in spans:
        lap = ET.SubElement(activity, _tag("Lap"), StartTime=_time(log.wall_time(span.start_t)))
        _text(lap, "TotalTimeSeconds", _number(span.timer_s))
        _text(lap, "DistanceMeters", _number(span.distance_m))
        if span.max_speed_mps is not None:
            _text(lap, "MaximumSpeed", _number(span.max_speed_mps))
        kcal = span.kcal(weight_kg)
        _text(lap, "Calories", str(min(_MAX_CALORIES, round(kcal or 0.0))))
        if span.avg_heart_rate_bpm is not None:
            _bpm(lap, "AverageHeartRateBpm", round(span.avg_heart_rate_bpm))
        if span.max_heart_rate_bpm is not None:
            _bpm(lap, "MaximumHeartRateBpm", span.max_heart_rate_bpm)
        _text(lap, "Intensity", "Active")
        _text(lap, "TriggerMethod", "Time" if span.number < len(spans) - 1 else "Manual")
        if span.samples:
            track = ET.SubElement(lap, _tag("Track"))
            for sample in span.samples:
                point = ET.SubElement(track, _tag("Trackpoint"))
                _text(point, "Time", _time(log.wall_time(sample.t)))
                _text(point, "DistanceMeters", _number(distances[offset]))
                if sample.heart_rate_bpm:
                    _bpm(point, "HeartRateBpm", sample.heart_rate_bpm)
                offset += 1
        _text(lap, "Notes", _lap_notes(span))
    _text(activity, "Notes", activity_notes(log, weight_kg))
    _creator(activity, version)
    body = ET.tostring(root, encoding="unicode")
    return DECLARATION + body.encode("utf-8")


def activity_notes(log: SessionLog, weight_kg: float | None) -> str:
    """What TCX's fields cannot say: a backward walk on a treadmill, the program, where heart
    rate came from, and that the calories are an estimate."""
    parts = ["Backward walking on a treadmill (retrotread)"]
    if log.program:
        parts[0] += f", program {log.program}"
    parts.append(
        f"backward {duration(log.backward_s)}, forward {duration(log.forward_s)}"
        if log.forward_s
        else f"backward {duration(log.backward_s)}"
    )
    sources = log.heart_rate_sources
    if sources:
        parts.append("heart rate from " + " and ".join(_SOURCE_WORDS.get(s, s) for s in sources))
    if weight_kg is None:
        parts.append("calories not estimated (no user.weight_kg)")
    else:
        parts.append("calories: an estimate for backward walking (net kcal), not the treadmill's")
    if not log.complete:
        parts.append("the journal was cut off before the session's summary")
    return "; ".join(parts) + "."


def _lap_notes(span: timeline.LapSpan) -> str:
    if span.lap is None:
        return "session"
    lap = span.lap
    return f"{lap.name}: {lap.direction.value}, target {lap.target_mph:.1f} mph"


def _creator(activity: ET.Element, version: tuple[int, int]) -> None:
    creator = ET.SubElement(activity, _tag("Creator"), {"xsi:type": "Device_t"})
    _text(creator, "Name", CREATOR)
    _text(creator, "UnitId", "0")
    _text(creator, "ProductID", "1")
    numbers = ET.SubElement(creator, _tag("Version"))
    _text(numbers, "VersionMajor", str(version[0]))
    _text(numbers, "VersionMinor", str(version[1]))
    _text(numbers, "BuildMajor", "0")
    _text(numbers, "BuildMinor", "0")


def _tag(name: str) -> str:
    # Names stay unqualified: the root declares TCD as the default namespace itself, since
    # ElementTree's own namespace handling cannot leave the attributes (Sport, StartTime)
    # unqualified under a default namespace.
    return name


def _text(parent: ET.Element, name: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, _tag(name))
    element.text = text
    return element


def _bpm(parent: ET.Element, name: str, bpm: int) -> None:
    _text(ET.SubElement(parent, _tag(name)), "Value", str(max(1, min(255, bpm))))


def _time(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds: `2026-12-01T09:49:15.171Z`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _number(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"
