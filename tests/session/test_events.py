"""Events are serialised once and shared by every sink; a copy never carries stale JSON."""

from __future__ import annotations

import json

from retrotread.events import TelemetryEvent, parse_event


def test_an_event_is_serialised_once_and_reads_back_equal() -> None:
    event = TelemetryEvent(t=1.5, speed_mph=1.0, speed_kmh=1.61, heart_rate_bpm=90)
    line = event.to_json()
    assert event.to_json() is line  # the journal, --json and MQTT share one string
    assert "distance_m" not in json.loads(line)  # absent fields are left out, not null
    assert parse_event(line) == event


def test_a_copy_of_a_serialised_event_is_serialised_anew() -> None:
    event = TelemetryEvent(t=1.0, speed_mph=1.0, speed_kmh=1.61)
    event.to_json()
    later = event.model_copy(update={"t": 2.0})
    assert json.loads(later.to_json())["t"] == 2.0
