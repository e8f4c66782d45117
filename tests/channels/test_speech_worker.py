"""The speech worker with real engine processes: a hung engine gives way to the bell, a stop's
cues go before the others queued, and `stopping` / `belt_moving` cut off a cue of another sort.

The engines are tiny shell scripts that write the text they were given to a file when they
start (and `done TEXT` when they end), then hang or wait for a gate file; the tests wait on the
file, on `wait_idle` or on the loop's clock, never for a fixed time.
"""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from retrotread.channels.cues import SPEAK_AFTER_S, Bell, Speech
from retrotread.events import CueKind
from tests.support.waiting import until_async

# Writes "PID TEXT" to $0, then never ends on its own (an engine stuck on an audio device).
HANGING = 'printf "%s %s\\n" "$$" "$1" >> "$0"; exec sleep 60'
# Writes TEXT to $0; a text beginning with $2 then waits (at most 30 s) for the gate file $1;
# writes "done TEXT" once it ends by itself.
GATED = """
printf '%s\\n' "$3" >> "$0"
case "$3" in
"$2"*) n=0; while [ ! -e "$1" ] && [ "$n" -lt 3000 ]; do sleep 0.01; n=$((n + 1)); done;;
esac
printf 'done %s\\n' "$3" >> "$0"
"""


class Terminal(io.StringIO):
    """stderr as a terminal, to count bells."""

    def isatty(self) -> bool:
        return True


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


async def _until_idle(speech: Speech) -> None:
    async with asyncio.timeout(10.0):
        await speech.wait_idle()


def _gated(log: Path, gate: Path, slow_prefix: str) -> list[str]:
    return ["/bin/sh", "-c", GATED, str(log), str(gate), slow_prefix]


def test_a_hung_engine_is_killed_and_the_bell_takes_over_with_one_warning(
    tmp_path: Path,
) -> None:
    log = tmp_path / "said.txt"
    terminal = Terminal()

    async def main() -> Speech:
        # The floor of the timeout wins for a short text: 3 s leaves a loaded machine time to
        # start the engine and let it log its line before it counts as hung.
        speech = Speech(
            ["/bin/sh", "-c", HANGING, str(log)], Bell(terminal), rate_wpm=400, min_timeout_s=3.0
        )
        assert speech.timeout_for("Speeding up") == pytest.approx(3.0)
        speech.say("speed_up", "Speeding up")
        await _until_idle(speech)  # the hung engine was given up on
        assert speech.failed
        speech.say("stopping", "Stopping the belt")
        speech.say("belt_moving", "Belt still moving: stop it at the console")
        speech.close()
        return speech

    with capture_logs() as logs:
        speech = asyncio.run(main())
    (line,) = _lines(log)
    pid, text = line.split(" ", 1)
    assert text == "Speeding up"
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid), 0)  # killed and reaped, not left running
    assert speech.spoken == 1  # never started again
    # The cue it hung on, then the later ones: all rung.
    assert terminal.getvalue() == "\a\a\a"
    warnings = [entry for entry in logs if entry["log_level"] == "warning"]
    assert len(warnings) == 1, logs
    assert "did not finish" in warnings[0]["event"]
    assert "bell" in warnings[0]["event"]


def test_the_time_an_engine_gets_grows_with_the_text_and_never_drops_below_the_floor() -> None:
    async def main() -> tuple[float, float]:
        speech = Speech(["true"], Bell(), rate_wpm=100)
        long_text = " ".join(["word"] * 20)
        times = speech.timeout_for("Belt stopped"), speech.timeout_for(long_text)
        speech.close()
        return times

    short, long = asyncio.run(main())
    assert short == 10.0
    assert long == pytest.approx(20 * 0.6 * 4)  # 0.6 s a word at 100 wpm, four times over


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("stopping", "Stopping the belt"),
        ("belt_moving", "Belt still moving: stop it at the console"),
    ],
)
def test_a_stop_cue_cuts_off_a_long_cue_and_goes_before_the_queued_ones(
    tmp_path: Path, kind: CueKind, text: str
) -> None:
    log, gate = tmp_path / "said.txt", tmp_path / "gate"
    terminal = Terminal()
    speed_up = "Speeding up to 2.0 miles per hour"

    async def main() -> Speech:
        speech = Speech(_gated(log, gate, "Speeding"), Bell(terminal), min_timeout_s=60.0)
        speech.say("speed_up", speed_up)
        # What an engine process wrote to a file announces nothing: polled.
        await until_async(lambda: _lines(log) == [speed_up], what="the long cue being said")
        speech.say("time_left", "One minute left")
        speech.say(kind, text)
        await _until_idle(speech)  # only a cut-off lets this happen: the gate stays shut
        speech.close()
        return speech

    speech = asyncio.run(main())
    assert not gate.exists()
    assert _lines(log) == [
        speed_up,  # and never "done": it was cut off
        text,
        f"done {text}",
        "One minute left",
        "done One minute left",
    ]
    assert not speech.failed  # a cut-off engine is no failing one
    assert terminal.getvalue() == ""
    assert speech.spoken == 3


def test_stop_and_heart_rate_cues_go_first_without_cutting_off(tmp_path: Path) -> None:
    log, gate = tmp_path / "said.txt", tmp_path / "gate"
    speed_up = "Speeding up to 2.0 miles per hour"

    async def main() -> None:
        speech = Speech(_gated(log, gate, "Speeding"), Bell(), min_timeout_s=60.0)
        speech.say("speed_up", speed_up)
        await until_async(lambda: _lines(log) == [speed_up], what="the long cue being said")
        speech.say("time_left", "One minute left")
        speech.say("heart_rate", "Heart rate high: slowing down")
        speech.say("stopped", "Belt stopped")
        # Opened after every cue above was handed over: none of them cut the long one off.
        loop = asyncio.get_running_loop()
        loop.call_later(2 * SPEAK_AFTER_S, gate.touch)
        await _until_idle(speech)
        speech.close()

    asyncio.run(main())
    assert _lines(log) == [
        speed_up,
        f"done {speed_up}",
        "Belt stopped",
        "done Belt stopped",
        "Heart rate high: slowing down",
        "done Heart rate high: slowing down",
        "One minute left",
        "done One minute left",
    ]
