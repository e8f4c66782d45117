"""The live view after a countdown that a pause won: the belt stays paused, the countdown is
over, and `r` resumes it again (folded from hand-made events)."""

from __future__ import annotations

from retrotread import events as ev
from retrotread.cli.live import LiveState, keys_text
from retrotread.session.pacer import RESUMING_TEXT, stays_paused


def _paused_turnaround_counting_down() -> LiveState:
    state = LiveState(keys=True, can_resume=True)
    for event in (
        ev.CommandEvent(t=3.0, op="start", result="success"),
        ev.CommandEvent(t=30.0, op="pause", result="success", source="turnaround"),
        ev.CueEvent(t=32.0, kind="resuming", text=RESUMING_TEXT, in_s=3.0),
    ):
        state.fold(event)
    return state


def test_a_countdown_that_a_pause_won_lets_r_resume_again() -> None:
    state = _paused_turnaround_counting_down()
    assert state.resuming
    assert "r: resume" not in keys_text(state)  # one countdown at a time
    for event in stays_paused(35.0, "mqtt", ev.Direction.backward):
        state.fold(event)
    assert not state.resuming
    assert state.belt_paused
    assert "r: resume" in keys_text(state)
    assert state.prompt is not None
    assert state.prompt.message == (
        "Paused remotely (MQTT): the belt stays paused until you resume it"
    )


def test_the_resume_after_it_clears_the_stays_paused_prompt() -> None:
    state = _paused_turnaround_counting_down()
    for event in stays_paused(35.0, "mqtt", ev.Direction.backward):
        state.fold(event)
    state.fold(ev.CommandEvent(t=60.0, op="start", result="success"))
    assert state.prompt is None
    assert not state.belt_paused
