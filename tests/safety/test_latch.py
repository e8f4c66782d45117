"""The belt's state machine, swept exhaustively: every state, every transition, every write.

The expected machine is written out here on its own (SPEC.md "Stop guarantees": once a stop is
requested only Stop and Request Control leave, and the session can only end); every state is
reached by legal transitions only, and every transition is tried from every state: the legal ones
land where the table says, the illegal ones raise and change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrotread.errors import LatchedError
from retrotread.events import CommandOp, SessionState, StopReason
from retrotread.safety.latch import BeltState, IllegalTransition, Latch

S = BeltState


class Machine:
    TRANSITIONS: ClassVar[tuple[str, ...]] = (
        "start",
        "pause",
        "resume",
        "resumed",
        "resume_failed",
        "latch",
        "end",
    )
    # (state, transition) -> the state it leads to; every pair not named here is illegal.
    LEGAL: ClassVar[dict[tuple[BeltState, str], BeltState]] = {
        (S.idle, "start"): S.running,
        (S.running, "pause"): S.paused,
        (S.paused, "resume"): S.resuming,
        (S.resuming, "resumed"): S.running,
        (S.resuming, "resume_failed"): S.paused,
        (S.idle, "latch"): S.latched,
        (S.running, "latch"): S.latched,
        (S.paused, "latch"): S.latched,
        (S.resuming, "latch"): S.latched,
        (S.latched, "end"): S.ended,
    }
    # A legal way into each state.
    PATHS: ClassVar[dict[BeltState, tuple[str, ...]]] = {
        S.idle: (),
        S.running: ("start",),
        S.paused: ("start", "pause"),
        S.resuming: ("start", "pause", "resume"),
        S.latched: ("start", "latch"),
        S.ended: ("start", "latch", "end"),
    }
    BEFORE_LATCH: ClassVar[tuple[BeltState, ...]] = (S.idle, S.running, S.paused, S.resuming)
    WRITES: ClassVar[tuple[str, ...]] = get_args(CommandOp)
    AFTER_LATCH: ClassVar[frozenset[str]] = frozenset({"stop", "request_control"})
    SESSION_STATES: ClassVar[dict[BeltState, SessionState]] = {
        S.idle: SessionState.idle,
        S.running: SessionState.running,
        S.paused: SessionState.paused,
        S.resuming: SessionState.paused,  # still paused until the resume's writes are answered
        S.latched: SessionState.stopping,
    }


def apply(latch: Latch, transition: str) -> None:
    step: Callable[[], None] = (
        (lambda: latch.latch("estop", "test"))
        if transition == "latch"
        else getattr(latch, transition)
    )
    step()


def reach(state: BeltState) -> Latch:
    latch = Latch()
    for transition in Machine.PATHS[state]:
        apply(latch, transition)
    assert latch.state is state
    return latch


def test_every_state_is_covered() -> None:
    assert set(Machine.PATHS) == set(BeltState)
    assert Latch().state is S.idle


@pytest.mark.parametrize("state", list(BeltState))
@pytest.mark.parametrize("transition", Machine.TRANSITIONS)
def test_every_transition_from_every_state(state: BeltState, transition: str) -> None:
    latch = reach(state)
    expected = Machine.LEGAL.get((state, transition))
    if expected is None:
        with pytest.raises(IllegalTransition):
            apply(latch, transition)
        assert latch.state is state  # an illegal transition changes nothing
    else:
        apply(latch, transition)
        assert latch.state is expected


@pytest.mark.parametrize("state", list(BeltState))
def test_the_gate_holds_back_every_moving_write_once_latched(state: BeltState) -> None:
    latch = reach(state)
    for op in Machine.WRITES:
        if state in (S.latched, S.ended) and op not in Machine.AFTER_LATCH:
            with pytest.raises(LatchedError, match=op):
                latch.gate(op)
        else:
            latch.gate(op)  # lets it out


@pytest.mark.parametrize("before", Machine.BEFORE_LATCH)
def test_the_latch_remembers_what_it_closed_over(before: BeltState) -> None:
    """`started` (the belt may run: the stop must be verified) and `paused` stay what they were
    when the latch closed, through the end."""
    latch = reach(before)
    started, paused = latch.started, latch.paused
    assert started is (before is not S.idle)
    assert paused is (before in (S.paused, S.resuming))
    assert latch.latched_from is None
    latch.latch("console_stop", "treadmill")
    for _ in range(2):
        assert latch.latched
        assert latch.latched_from is before
        assert (latch.started, latch.paused) == (started, paused)
        assert (latch.reason, latch.source) == ("console_stop", "treadmill")
        if latch.ended:
            break
        latch.end()
    assert latch.ended


@pytest.mark.parametrize("state", list(BeltState))
def test_the_flags_each_state_reports(state: BeltState) -> None:
    latch = reach(state)
    assert latch.latched is (state in (S.latched, S.ended))
    assert latch.ended is (state is S.ended)
    if not latch.latched:
        assert latch.started is (state is not S.idle)
        assert latch.paused is (state in (S.paused, S.resuming))
        assert latch.reason is None
        assert latch.source is None


@pytest.mark.parametrize("state", list(BeltState))
def test_the_session_state_of_every_state(state: BeltState) -> None:
    latch = reach(state)
    if state is S.ended:
        assert latch.session_state is SessionState.stopped  # the paths latch with "estop"
    else:
        assert latch.session_state is Machine.SESSION_STATES[state]


@pytest.mark.parametrize("reason", get_args(StopReason))
def test_an_ended_session_is_a_fault_only_after_a_fault_stop(reason: StopReason) -> None:
    latch = reach(S.running)
    latch.latch(reason, "test")
    assert latch.session_state is SessionState.stopping
    latch.end()
    expected = SessionState.fault if reason == "fault" else SessionState.stopped
    assert latch.session_state is expected


def test_the_first_stop_is_the_one_named() -> None:
    latch = reach(S.running)
    latch.latch("safety_key", "treadmill")
    with pytest.raises(IllegalTransition):
        latch.latch("estop", "mqtt")
    latch.end()
    with pytest.raises(IllegalTransition):
        latch.latch("estop", "mqtt")
    assert (latch.reason, latch.source) == ("safety_key", "treadmill")


@given(st.lists(st.sampled_from(Machine.TRANSITIONS), max_size=40))
def test_any_sequence_follows_the_table_and_never_leaves_the_latch(
    transitions: list[str],
) -> None:
    latch = Latch()
    state = S.idle
    for transition in transitions:
        expected = Machine.LEGAL.get((state, transition))
        if expected is None:
            with pytest.raises(IllegalTransition):
                apply(latch, transition)
        else:
            apply(latch, transition)
            # Once latched, only the end is left; once ended, nothing.
            assert state not in (S.latched, S.ended) or expected is S.ended
            state = expected
        assert latch.state is state
