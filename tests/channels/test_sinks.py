"""Plain lines for people: a heart rate says where it came from."""

from __future__ import annotations

from retrotread.channels.sinks import describe
from retrotread.events import TelemetryEvent


def test_a_heart_rate_line_names_its_source() -> None:
    strap = TelemetryEvent(
        t=1.0, speed_mph=1.0, speed_kmh=1.61, heart_rate_bpm=98, heart_rate_source="strap"
    )
    assert describe(strap) == "belt 1.00 mph, 98 bpm (strap)"
    bare = TelemetryEvent(t=1.0, speed_mph=1.0, speed_kmh=1.61, heart_rate_bpm=98)
    assert describe(bare) == "belt 1.00 mph, 98 bpm"
