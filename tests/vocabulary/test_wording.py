"""The shared words and clocks: session clocks and durations, who asked, and a stop reason this
version does not know. (Each stop cause in words: tests/channels/test_sinks.py.)"""

from __future__ import annotations

import subprocess
import sys

import pytest

from retrotread.wording import SOURCE_WORDS, by_whom, clock, duration, heart_rate_text, stop_cause


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.0, "00:00"), (5.4, "00:05"), (59.6, "01:00"), (4500.0, "75:00"), (-3.0, "00:00")],
)
def test_a_session_clock_is_minutes_and_seconds_to_the_nearest_second(
    seconds: float, text: str
) -> None:
    assert clock(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, ""), (0.0, "0:00"), (330.4, "5:30"), (3599.6, "1:00:00"), (3725.0, "1:02:05")],
)
def test_a_duration_has_hours_only_from_an_hour(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text


def test_who_asked_in_words() -> None:
    assert by_whom(None) == by_whom("") == ""
    assert by_whom("mqtt") == "remotely (MQTT)"
    assert by_whom("turnaround") == "for the turn-around"
    assert by_whom("some-channel") == "by some-channel"  # free-form sources still read
    assert all(words.startswith(("by ", "from ", "at ", "for ", "because ", "remotely"))
               for words in SOURCE_WORDS.values())  # fmt: skip


def test_a_stop_reason_from_a_newer_version_is_named_not_hidden() -> None:
    assert stop_cause("rocket") == "Stopped (rocket)"
    assert stop_cause("estop", "") == "Emergency stop"  # an empty source names nobody


def test_a_heart_rate_with_and_without_its_source() -> None:
    assert heart_rate_text(97) == "97 bpm"
    assert heart_rate_text(96.6, "strap") == "97 bpm (strap)"


def test_the_words_import_no_event_models() -> None:
    """`history` prints stop reasons from the index without the event models (pydantic)."""
    code = "import sys, retrotread.wording; print('retrotread.events' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
