"""Walker cues: speech in its own process, the bell when it fails, and the event order.

Speech is rendered to WAV files (`espeak-ng -w FILE`) and measured with the stdlib `wave`
module: a cue must hold sound of a plausible length, not merely have been "run".
"""

from __future__ import annotations

import array
import asyncio
import io
import shutil
import sys
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from retrotread.channels.cues import (
    SPEAK_AFTER_S,
    Bell,
    CueChannel,
    Speech,
    engine_argv,
    voice_for,
)
from retrotread.config import CuesConfig
from retrotread.events import (
    CommandEvent,
    CueEvent,
    CueKind,
    Event,
    PromptEvent,
    SafetyEvent,
    SegmentEvent,
    StoppedEvent,
    SummaryEvent,
)
from retrotread.session.control import EventListener
from tests.support.virtual_time import advance

ESPEAK = shutil.which("espeak-ng")
needs_espeak = pytest.mark.skipif(
    ESPEAK is None, reason="espeak-ng is not installed (scripts/test installs it as root)"
)


class Terminal(io.StringIO):
    """stderr as a terminal, to count bells."""

    def isatty(self) -> bool:
        return True


class FakeSession:
    """What the cue channel needs of a session: listeners, emit, a clock."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._listeners: list[EventListener] = []

    def add_listener(self, listener: EventListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def emit(self, event: Event) -> None:
        self.events.append(event)
        for listener in list(self._listeners):
            listener(event)

    def session_time(self) -> float:
        return asyncio.get_running_loop().time()

    def cues(self) -> list[CueEvent]:
        return [e for e in self.events if isinstance(e, CueEvent)]


async def _until_idle(speech: Speech) -> None:
    async with asyncio.timeout(10.0):
        await speech.wait_idle()


def _seconds_of_sound(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2
        frames = wav.readframes(wav.getnframes())
        samples = array.array("h", frames)
        loud = [s for s in samples if abs(s) > 500]
        assert len(loud) > wav.getframerate() // 20, "the file holds silence"
        return wav.getnframes() / wav.getframerate()


@needs_espeak
def test_a_cue_is_spoken_to_a_wav_file_of_plausible_length(tmp_path: Path) -> None:
    wav = tmp_path / "starting.wav"
    config = CuesConfig(engine=f"espeak-ng -w {wav}", rate_wpm=150)
    argv = engine_argv(config)
    assert argv[:3] == ["espeak-ng", "-s", "150"]

    async def main() -> None:
        speech = Speech(argv, Bell(Terminal()))
        speech.say("starting", "Belt starting in 3, 2, 1")
        await _until_idle(speech)
        assert not speech.failed

    asyncio.run(main())
    seconds = _seconds_of_sound(wav)
    assert 0.3 < seconds < 10, seconds


def _said_into(wav: Path, kind: CueKind, text: str, **config: Any) -> Path:
    """`text` said by espeak-ng into `wav`, with the cue settings `config`."""
    argv = engine_argv(CuesConfig(engine=f"espeak-ng -w {wav}", **config))

    async def main() -> None:
        speech = Speech(argv, Bell())
        speech.say(kind, text)
        await _until_idle(speech)

    asyncio.run(main())
    return wav


@needs_espeak
def test_a_faster_rate_says_the_same_cue_in_less_time(tmp_path: Path) -> None:
    lengths = [
        _seconds_of_sound(
            _said_into(tmp_path / f"rate{rate}.wav", "stopping", "Stopping the belt", rate_wpm=rate)
        )
        for rate in (100, 300)
    ]
    assert lengths[0] > lengths[1] > 0.3, lengths


def _recording_engine(log: Path, delay_s: float) -> list[str]:
    """An engine that takes `delay_s` to "say" its last argument, then writes it to `log`."""
    script = (
        "import sys, threading; threading.Event().wait(float(sys.argv[1])); "
        "open(sys.argv[2], 'a').write(sys.argv[3] + '\\n')"
    )
    return [sys.executable, "-c", script, str(delay_s), str(log)]


def test_a_newer_cue_of_a_kind_replaces_the_queued_one(tmp_path: Path) -> None:
    log = tmp_path / "said.txt"

    async def main() -> Speech:
        speech = Speech(_recording_engine(log, 0.3), Bell())
        speech.say("starting", "Belt starting")
        speech.say("speed_up", "Speeding up to 1.0 miles per hour")
        speech.say("time_left", "One minute left")
        speech.say("speed_up", "Speeding up to 1.2 miles per hour")
        # Nothing starts in this loop pass (a stop's acknowledgements go first), and the newer
        # speed_up took the older one's place.
        assert speech.pending == {
            "starting": "Belt starting",
            "speed_up": "Speeding up to 1.2 miles per hour",
            "time_left": "One minute left",
        }
        await _until_idle(speech)
        return speech

    speech = asyncio.run(main())
    assert log.read_text().splitlines() == [
        "Belt starting",
        "Speeding up to 1.2 miles per hour",
        "One minute left",
    ]
    assert speech.spoken == 3


def test_saying_only_queues_and_the_engine_starts_after_the_hand_over(tmp_path: Path) -> None:
    said = tmp_path / "said.txt"

    async def main() -> tuple[int, tuple[int, dict[CueKind, str]], int]:
        speech = Speech(_recording_engine(said, 0.0), Bell())
        loop = asyncio.get_running_loop()
        for n in range(20):
            speech.say("belt_moving", f"cue {n}")
        at_once = speech.spoken  # `say` queued the text and started nothing
        # Halfway to the hand-over the worker has not even taken the cue.
        halfway: list[tuple[int, dict[CueKind, str]]] = []
        loop.call_later(SPEAK_AFTER_S / 2, lambda: halfway.append((speech.spoken, speech.pending)))
        await _until_idle(speech)
        speech.close()
        return at_once, halfway[0], speech.spoken

    assert asyncio.run(main()) == (0, (0, {"belt_moving": "cue 19"}), 1)
    assert said.read_text().splitlines() == ["cue 19"]


def test_a_missing_engine_falls_back_to_the_bell_with_one_warning() -> None:
    terminal = Terminal()

    async def main() -> None:
        config = CuesConfig(mode="speech", engine="/nonexistent/espeak-ng")
        voice = voice_for(config, stream=terminal)
        assert isinstance(voice, Bell)
        for _ in range(3):
            voice.say("stopping", "Stopping the belt")

    with capture_logs() as logs:
        asyncio.run(main())
    assert terminal.getvalue() == "\a\a\a"
    warnings = [entry for entry in logs if entry["log_level"] == "warning"]
    assert len(warnings) == 1, logs
    assert "bell" in warnings[0]["event"]


def test_a_crashing_engine_falls_back_to_the_bell_with_one_warning() -> None:
    terminal = Terminal()

    async def main() -> Speech:
        speech = Speech([sys.executable, "-c", "raise SystemExit(3)"], Bell(terminal))
        speech.say("starting", "Belt starting")
        await _until_idle(speech)
        speech.say("stopping", "Stopping the belt")
        speech.say("stopped", "Belt stopped")
        return speech

    with capture_logs() as logs:
        speech = asyncio.run(main())
    assert speech.failed
    assert speech.spoken == 1  # never started again once it failed
    assert terminal.getvalue() == "\a\a"
    warnings = [entry for entry in logs if entry["log_level"] == "warning"]
    assert len(warnings) == 1, logs
    assert "status 3" in warnings[0]["event"]


def test_auto_without_an_engine_rings_only_on_a_terminal() -> None:
    config = CuesConfig(engine="/nonexistent/speaker")

    async def main() -> None:
        assert isinstance(voice_for(config, stream=Terminal()), Bell)
        assert voice_for(config, stream=io.StringIO()) is None
        assert voice_for(config, mode="off", stream=Terminal()) is None

    asyncio.run(main())


def test_the_stop_command_comes_before_its_stopping_cue() -> None:
    async def main() -> FakeSession:
        session = FakeSession()
        channel = CueChannel(session, None, [60.0])
        session.add_listener(channel)
        session.emit(CommandEvent(t=1.0, op="stop", result="success", source="walker"))
        assert session.cues() == []  # only scheduled: the stop's own work goes first
        await asyncio.sleep(0)
        session.emit(StoppedEvent(t=2.0, reason="estop", belt_mph=0.0, source="walker"))
        session.emit(
            SummaryEvent(
                t=2.0, outcome="stopped", duration_s=2, distance_m=0, max_speed_mph=0, session="x"
            )
        )
        channel.close()
        return session

    session = asyncio.run(main())
    names = [e.event if not isinstance(e, CueEvent) else e.kind for e in session.events]
    assert names == ["command", "stopping", "stopped", "stopped", "summary"]


def test_a_ramp_of_a_new_segment_names_its_speed() -> None:
    async def main() -> FakeSession:
        session = FakeSession()
        channel = CueChannel(session, None, [60.0, 60.0])
        session.add_listener(channel)
        session.emit(CommandEvent(t=0.0, op="set_speed", mph=0.5, kmh=0.8, result="success"))
        session.emit(
            SegmentEvent(
                t=0.0, index=0, name="a", direction="backward", target_mph=0.6, duration_s=60
            )
        )
        session.emit(CommandEvent(t=1.0, op="set_speed", mph=0.6, kmh=0.97, result="success"))
        session.emit(
            SegmentEvent(
                t=60.0, index=1, name="b", direction="backward", target_mph=1.2, duration_s=60
            )
        )
        session.emit(CommandEvent(t=61.0, op="set_speed", mph=0.7, kmh=1.13, result="success"))
        await asyncio.sleep(0)
        channel.close()
        return session

    cues = asyncio.run(main()).cues()
    assert [(c.kind, c.text) for c in cues] == [("speed_up", "Speeding up to 1.2 miles per hour")]


class Recorder:
    """A voice that remembers what it was asked to say."""

    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []

    def say(self, kind: CueKind, text: str) -> None:
        self.said.append((kind, text))

    def close(self) -> None:
        return None


def test_the_engines_own_countdown_is_said_once_and_not_re_emitted() -> None:
    async def main() -> tuple[FakeSession, Recorder]:
        session, voice = FakeSession(), Recorder()
        channel = CueChannel(session, voice, [60.0])
        session.add_listener(channel)
        session.emit(CueEvent(t=0.0, kind="starting", text="Belt starting in 3, 2, 1", in_s=3))
        session.emit(CommandEvent(t=3.0, op="stop", result="success", source="walker"))
        await asyncio.sleep(0)
        channel.close()
        return session, voice

    session, voice = asyncio.run(main())
    assert voice.said == [
        ("starting", "Belt starting in 3, 2, 1"),
        ("stopping", "Stopping the belt"),
    ]
    assert [c.kind for c in session.cues()] == ["starting", "stopping"]


def test_the_volume_is_espeaks_amplitude() -> None:
    argv = engine_argv(CuesConfig(volume=150, voice="en-us"))
    assert argv[0] == "espeak-ng"
    assert argv[argv.index("-a") + 1] == "150"
    assert argv[argv.index("-v") + 1] == "en-us"
    # Another engine gets none of espeak's flags: they could mean anything to it.
    assert engine_argv(CuesConfig(engine="say", volume=150)) == ["say"]


def test_a_volume_outside_0_to_200_is_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=r"0\.\.200"):
        CuesConfig(volume=201)


def _peak(path: Path) -> int:
    with wave.open(str(path), "rb") as wav:
        return max(abs(s) for s in array.array("h", wav.readframes(wav.getnframes())))


@needs_espeak
def test_a_louder_volume_says_the_same_cue_louder(tmp_path: Path) -> None:
    peaks = [
        _peak(_said_into(tmp_path / f"volume{v}.wav", "turnaround", "Turn around now", volume=v))
        for v in (20, 200)
    ]
    assert peaks[1] > 3 * peaks[0] > 0, peaks


def _segment(t: float, index: int, mph: float, remaining_s: float | None = None) -> SegmentEvent:
    return SegmentEvent(
        t=t,
        index=index,
        name=f"s{index}",
        direction="backward",
        target_mph=mph,
        duration_s=60,
        remaining_s=remaining_s,
    )


def _set_speed(t: float, mph: float) -> CommandEvent:
    kmh = round(mph * 1.609344, 2)
    return CommandEvent(t=t, op="set_speed", mph=mph, kmh=kmh, result="success")


def _run_channel(events: list[Event], units: str = "imperial") -> list[CueEvent]:
    async def main() -> FakeSession:
        session = FakeSession()
        channel = CueChannel(session, None, [60.0, 60.0], units=units)
        session.add_listener(channel)
        for event in events:
            session.emit(event)
            await asyncio.sleep(0)
        channel.close()
        return session

    return asyncio.run(main()).cues()


def test_speeds_are_said_in_the_display_units() -> None:
    events: list[Event] = [
        _set_speed(0.0, 0.5),
        _segment(0.0, 0, 1.2),
        _set_speed(1.0, 0.6),
    ]
    (imperial,) = _run_channel(events)
    (metric,) = _run_channel(events, units="metric")
    assert imperial.text == "Speeding up to 1.2 miles per hour"
    assert metric.text == "Speeding up to 1.9 kilometres per hour"


def test_the_struggle_governor_is_said_at_its_step_down_naming_the_speed() -> None:
    events: list[Event] = [
        _set_speed(0.0, 1.5),
        SafetyEvent(t=100.0, reason="struggle", action="slow", detail="step length 0.29 m"),
        _set_speed(100.5, 1.4),
        _set_speed(200.0, 1.3),  # a later, ordinary step says nothing of struggling
    ]
    cues = _run_channel(events)
    assert [(c.kind, c.text) for c in cues] == [
        ("slow_down", "Shorter steps: slowing down to 1.4 miles per hour")
    ]


def test_a_turn_around_is_said_when_it_slows_and_when_the_belt_is_at_the_floor() -> None:
    events: list[Event] = [
        _set_speed(0.0, 2.0),
        PromptEvent(
            t=60.0,
            message="Slowing down to turn around: keep walking FORWARD",
            kind="turnaround",
            phase="slowing",
            direction="forward",
            next_direction="backward",
            target_mph=0.5,
        ),
        _set_speed(61.0, 1.9),  # the slow-down's own steps are not a slow_down of their own
        _set_speed(75.0, 0.5),
        _segment(80.0, 1, 1.2, remaining_s=40.0),
        PromptEvent(
            t=80.0,
            message="Turn around now: next you walk BACKWARD.",
            kind="turnaround",
            phase="turn",
            direction="backward",
        ),
    ]
    cues = _run_channel(events)
    assert [(c.kind, c.text) for c in cues] == [
        ("slow_down", "Slowing down to 0.5 miles per hour to turn around; keep walking forward"),
        ("turnaround", "Turn around now: walk backward next"),
    ]


def test_time_left_counts_from_what_is_left_of_a_segment_after_a_turn_around() -> None:
    from simulators.clock import run_virtual

    async def main() -> list[CueEvent]:
        session = FakeSession()
        channel = CueChannel(session, None, [60.0, 120.0])
        session.add_listener(channel)
        await advance(100.0)
        # The last segment began 25 s late (a turn-around took them): the program ends at
        # 100 + 95 s, not at 100 + 120 s.
        session.emit(_segment(100.0, 1, 1.2, remaining_s=95.0))
        await advance(100.0)
        channel.close()
        return session.cues()

    cues = run_virtual(main())
    assert [(c.kind, c.in_s, round(c.t, 3)) for c in cues] == [
        ("time_left", 60.0, 135.0),
        ("time_left", 10.0, 185.0),
    ]
