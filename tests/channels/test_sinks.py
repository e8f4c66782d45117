"""Plain lines for people: in the display units, with a heart rate's source, a pause and who asked
for it, no segment once a stop has begun, and who or what stopped the session in words."""

from __future__ import annotations

import io
import typing

import pytest

from retrotread.channels.sinks import (
    PlainLines,
    PlainTextSink,
    describe,
    first_safety_stop,
    write_text,
)
from retrotread.events import (
    CommandEvent,
    ConnectedEvent,
    CueEvent,
    Direction,
    Event,
    PromptEvent,
    SafetyEvent,
    SafetyReason,
    SegmentEvent,
    StoppedEvent,
    StopReason,
    SummaryEvent,
    TelemetryEvent,
)
from retrotread.wording import SAFETY_WORDS, stop_cause

PLAN = {"name": "p", "segments": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}
CONNECTED = ConnectedEvent(
    t=0.2, device="sim", speed_range_kmh=(0.5, 20.0, 0.01), features=[], plan=PLAN
)


def segment(t: float, index: int, mph: float = 1.0) -> SegmentEvent:
    return SegmentEvent(
        t=t, index=index, name=f"s{index}", direction=Direction.backward, target_mph=mph,
        duration_s=60.0,
    )  # fmt: skip


def lines_of(events: list[Event], units: str = "imperial") -> list[str]:
    """What the sink writes for `events` (every telemetry line: no throttling)."""
    out = io.StringIO()
    sink = PlainTextSink(out, telemetry_every_s=0.0, units=units)
    for event in events:
        sink(event)
    return out.getvalue().splitlines()


# -- telemetry and units ------------------------------------------------------------------------


def test_a_heart_rate_line_names_its_source() -> None:
    strap = TelemetryEvent(
        t=1.0, speed_mph=1.0, speed_kmh=1.61, heart_rate_bpm=98, heart_rate_source="strap"
    )
    assert describe(strap) == "belt 1.0 mph, 98 bpm (strap)"
    treadmill = strap.model_copy(update={"heart_rate_source": "treadmill"})
    assert describe(treadmill) == "belt 1.0 mph, 98 bpm (treadmill)"
    bare = TelemetryEvent(t=1.0, speed_mph=1.0, speed_kmh=1.61, heart_rate_bpm=98)
    assert describe(bare) == "belt 1.0 mph, 98 bpm"


def test_a_1_mph_belt_on_a_km_h_grid_reads_1_0_mph_not_0_99() -> None:
    written = TelemetryEvent(t=1.0, speed_mph=0.9942, speed_kmh=1.6)
    assert describe(written) == "belt 1.0 mph"


def test_telemetry_in_metric_and_imperial_units() -> None:
    event = TelemetryEvent(
        t=1.0, speed_mph=1.0, speed_kmh=1.61, distance_m=100.0, incline_pct=2.0, heart_rate_bpm=90
    )
    assert describe(event, "metric") == "belt 1.6 km/h, 100 m, incline 2 %, 90 bpm"
    assert describe(event, "imperial") == "belt 1.0 mph, 328 ft, incline 2 %, 90 bpm"
    far = event.model_copy(update={"distance_m": 1609.344, "incline_pct": 0.0})
    assert describe(far, "metric") == "belt 1.6 km/h, 1.61 km, 90 bpm"
    assert describe(far, "imperial") == "belt 1.0 mph, 1.00 mi, 90 bpm"


def test_segments_and_the_connection_in_the_display_units() -> None:
    assert lines_of([CONNECTED, segment(3.0, 1, 1.5)], "metric") == [
        "[00:00] connected to sim (belt 0.5 to 20.0 km/h)",
        "[00:03] segment 2 of 3: s1, backward at 2.4 km/h for 01:00",
    ]
    assert lines_of([CONNECTED, segment(3.0, 1, 1.5)]) == [
        "[00:00] connected to sim (belt 0.3 to 12.4 mph)",
        "[00:03] segment 2 of 3: s1, backward at 1.5 mph for 01:00",
    ]


def test_a_segment_shortened_by_its_turn_around_says_how_much_is_left() -> None:
    shortened = segment(150.0, 1).model_copy(update={"remaining_s": 35.0, "incline_pct": 2.0})
    assert describe(shortened) == (
        "segment 2: s1, backward at 1.0 mph for 00:35 (of 01:00), incline 2 %"
    )


def test_telemetry_is_thinned_to_one_line_per_interval() -> None:
    out = io.StringIO()
    sink = PlainTextSink(out, telemetry_every_s=30.0)
    for t in range(0, 100):
        sink(TelemetryEvent(t=float(t), speed_mph=1.0, speed_kmh=1.61))
    assert [line[:7] for line in out.getvalue().splitlines()] == [
        "[00:00]",
        "[00:30]",
        "[01:00]",
        "[01:30]",
    ]


# -- pauses -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "who"),
    [
        ("control-socket", "from another terminal (the control socket)"),
        ("mqtt", "remotely (MQTT)"),
        ("keyboard", "by you (a key in the live view)"),
        ("a-script", "by a-script"),
    ],
)
def test_a_pause_is_printed_with_who_paused_and_the_restart_too(source: str, who: str) -> None:
    pause = CommandEvent(t=40.0, op="pause", result="success", source=source)
    start = CommandEvent(t=70.0, op="start", result="success")
    lines = lines_of([pause, start])
    assert lines == [
        f"[00:40] PAUSED {who}: the belt stops and waits; "
        "Ctrl-C or `retrotread stop` ends the session",
        "[01:10] belt moving again after the pause",
    ]


def test_a_turn_around_pause_is_no_alarm_and_its_restart_is_not_a_resume() -> None:
    pause = CommandEvent(t=40.0, op="pause", result="success", source="turnaround")
    start = CommandEvent(t=48.0, op="start", result="success")
    assert lines_of([pause, start]) == ["[00:40] belt paused for the turn-around"]


def test_the_first_start_and_routine_commands_are_not_printed() -> None:
    routine = [
        CommandEvent(t=3.0, op="set_speed", mph=0.5, kmh=0.81, result="success"),
        CommandEvent(t=3.0, op="start", result="success"),
        CueEvent(t=3.0, kind="speed_up", text="Speeding up"),
    ]
    assert lines_of(routine) == []
    refused = CommandEvent(t=4.0, op="set_speed", result="operation_failed")
    assert lines_of([refused]) == ["[00:04] command set_speed failed: operation_failed"]


# -- after a stop -------------------------------------------------------------------------------

STOPS: list[Event] = [
    SafetyEvent(t=30.0, reason="overspeed", action="stop", detail="belt 1.4 mph"),
    CommandEvent(t=30.0, op="stop", result="success", source="sigint"),
    CueEvent(t=30.0, kind="stopping", text="Stopping"),
    StoppedEvent(t=30.0, reason="estop", belt_mph=0.0, source="control-socket"),
]


@pytest.mark.parametrize("stop", STOPS, ids=lambda e: e.event)
def test_no_segment_or_turn_around_is_announced_once_a_stop_began(stop: Event) -> None:
    after = [
        segment(31.0, 2),
        PromptEvent(t=31.0, message="Turn around now", kind="turnaround"),
        PromptEvent(t=31.0, message="Resuming in 3", kind="resume"),
    ]
    lines = lines_of([segment(1.0, 0), stop, *after])
    assert lines[0] == "[00:01] segment 1: s0, backward at 1.0 mph for 01:00"
    later = lines[1:]
    assert not [line for line in later if "segment" in line or "Turn" in line or "Resum" in line]


def test_a_slow_down_is_no_stop_and_segments_go_on() -> None:
    slow = SafetyEvent(t=20.0, reason="heart_rate", action="slow", detail="150 bpm")
    lines = lines_of([slow, segment(60.0, 1)])
    assert lines == [
        "[00:20] SAFETY: heart rate above the limit -> slow (150 bpm)",
        "[01:00] segment 2: s1, backward at 1.0 mph for 01:00",
    ]


def test_a_fault_stop_names_what_the_supervisor_saw() -> None:
    lines = lines_of(
        [
            SafetyEvent(t=64.0, reason="overspeed", action="stop", detail="belt 0.91 mph"),
            StoppedEvent(t=65.0, reason="fault", belt_mph=0.0, source="supervisor"),
            SummaryEvent(
                t=65.0, outcome="stopped", duration_s=65.0, distance_m=16.0, max_speed_mph=0.9,
                session="x",
            ),
        ]
    )  # fmt: skip
    assert lines == [
        "[01:04] SAFETY: belt overspeed -> stop (belt 0.91 mph)",
        "[01:05] Stopped by the supervisor: belt overspeed; the belt is stopped",
    ]  # the summary event is left to the summary in words that follows the session


def test_a_belt_last_seen_moving_is_said_in_the_display_units() -> None:
    moving = StoppedEvent(t=90.0, reason="fault", belt_mph=0.5, source="supervisor")
    assert PlainLines("metric").line(moving) == (
        "Stopped by the supervisor; the belt was last seen moving at 0.8 km/h: "
        "check it, stop it at the console"
    )


def test_a_machine_stop_says_what_the_machine_said_once() -> None:
    key = SafetyEvent(t=40.0, reason="safety_key", action="stop", detail="safety key pulled")
    assert describe(key) == "SAFETY: safety key pulled -> stop"


def test_an_empty_prompt_clears_the_screen_and_prints_nothing_unless_it_ends_a_turn() -> None:
    assert lines_of([PromptEvent(t=1.0, message="")]) == []
    done = PromptEvent(
        t=160.0, message="", phase="done", slowing_s=25.0, holding_s=5.0, ramping_s=7.0
    )
    assert lines_of([done]) == [
        "[02:40] turn-around done: slowing 25 s, turning 5 s, ramping 7 s"
    ]


# -- who or what stopped the session -----------------------------------------------------------

OVERSPEED = SafetyEvent(t=1.0, reason="overspeed", action="stop")
PAUSE_FAILED = SafetyEvent(t=1.0, reason="pause_failed", action="stop")


@pytest.mark.parametrize(
    ("reason", "source", "safety", "words"),
    [
        ("completed", "program", None, "Program complete"),
        ("interrupted", "sigint", None, "Stopped by you (Ctrl-C)"),
        ("interrupted", "sigterm", None, "Stopped by a termination signal (SIGTERM)"),
        ("interrupted", "sighup", None, "Stopped because the terminal closed (SIGHUP)"),
        ("estop", "control-socket", None, "Stopped by `retrotread stop` from another terminal"),
        ("estop", "mqtt", None, "Stopped remotely (MQTT)"),
        ("estop", "keyboard", None, "Stopped by you (a key in the live view)"),
        ("estop", "walker", None, "Not started: the start was not confirmed"),
        ("estop", "mqtt", PAUSE_FAILED, "Stopped: the pause failed, so the belt was stopped instead"),  # noqa: E501
        ("estop", None, None, "Emergency stop"),
        ("console_stop", "treadmill", None, "Stopped at the console"),
        ("safety_key", "treadmill", None, "Safety key pulled"),
        ("fault", "supervisor", OVERSPEED, "Stopped by the supervisor: belt overspeed"),
        ("fault", "supervisor", None, "Stopped by the supervisor"),
        ("fault", "engine", None, "Stopped by an internal error"),
        ("interrupted", None, None, "Interrupted"),
    ],
)  # fmt: skip
def test_stop_causes_in_words(
    reason: StopReason, source: str | None, safety: SafetyEvent | None, words: str
) -> None:
    assert stop_cause(reason, source, safety) == words


@pytest.mark.parametrize("reason", typing.get_args(StopReason))
@pytest.mark.parametrize("source", [None, "sigint", "control-socket", "supervisor", "odd"])
def test_a_stop_never_reads_as_a_bare_code(reason: StopReason, source: str | None) -> None:
    for safety in (None, *(SafetyEvent(t=0, reason=r, action="stop") for r in SAFETY_WORDS)):
        words = stop_cause(reason, source, safety)
        assert "estop" not in words
        assert "_" not in words  # no `console_stop`, `safety_key`, `telemetry_stale`
        assert words[0].isupper()


def test_every_safety_reason_has_words() -> None:
    reasons: tuple[SafetyReason, ...] = typing.get_args(SafetyReason)
    assert set(SAFETY_WORDS) == set(reasons)
    assert all("_" not in words for words in SAFETY_WORDS.values())


def test_the_first_safety_stop_is_the_cause_not_a_later_one() -> None:
    events: list[Event] = [
        SafetyEvent(t=10.0, reason="heart_rate", action="slow"),
        SafetyEvent(t=40.0, reason="telemetry_stale", action="stop"),
        SafetyEvent(t=100.0, reason="stop_unverified", action="stop"),
    ]
    first = first_safety_stop(events)
    assert first is not None
    assert first.reason == "telemetry_stale"
    assert first_safety_stop(events[:1]) is None


# -- streams ------------------------------------------------------------------------------------


class _Gone(io.StringIO):
    def write(self, _text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_text_after_the_session_is_written_where_it_can_be_and_never_raises() -> None:
    out = io.StringIO()
    assert write_text(out, "Program complete.\n  time 04:34")
    assert out.getvalue() == "Program complete.\n  time 04:34\n"
    assert not write_text(None, "x")
    assert not write_text(_Gone(), "x")
