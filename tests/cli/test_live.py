"""The live panel as a walker sees it: every item on its own line, the stop keys always shown."""

from __future__ import annotations

from rich.console import Console

from retrotread.cli.live import LiveState, render
from retrotread.events import SegmentEvent, StoppedEvent, TelemetryEvent


def _screen(state: LiveState) -> list[str]:
    console = Console(width=100, record=True, color_system=None)
    console.print(render(state))
    return [line.rstrip() for line in console.export_text().splitlines()]


def test_the_panel_shows_segment_progress_and_the_stop_keys_on_their_own_lines() -> None:
    state = LiveState()
    state.fold(
        SegmentEvent(
            t=0.0,
            index=1,
            name="short steps",
            direction="backward",
            target_mph=0.7,
            duration_s=60.0,
        )
    )
    state.fold(TelemetryEvent(t=20.0, speed_mph=0.68, speed_kmh=1.09, distance_m=29.0))
    lines = _screen(state)
    assert lines[-1] == "space / s / Esc: STOP THE BELT   r: resume after a pause"
    assert any(line.startswith("segment") and "2. short steps (backward)" in line for line in lines)
    assert any(line.startswith("segment left") and line.endswith("00:40") for line in lines)
    assert any(line.startswith("belt / target") and "0.68 mph / 0.70 mph" in line for line in lines)


def test_after_a_stop_the_panel_shows_no_target() -> None:
    state = LiveState()
    state.fold(
        SegmentEvent(
            t=0.0, index=0, name="a", direction="backward", target_mph=0.8, duration_s=60.0
        )
    )
    state.fold(StoppedEvent(t=5.0, reason="estop", belt_mph=0.0, source="keyboard"))
    lines = _screen(state)
    assert any(line.startswith("belt / target") and line.endswith("- / -") for line in lines)
    assert "stopped: estop (belt 0.00 mph)" in lines
