"""Asking how hard the session felt (Borg's RPE, 6-20) once it is over: Enter, end of input and
Ctrl-C skip, a wrong answer is asked again once; on a terminal the answer lands in the journal.

The question itself is tried with text streams standing in for the terminal; the whole path
(a session, the question on a pseudo-terminal, the journal) with the console script on a pty."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from retrotread.cli.prompt import RPE_AGAIN, RPE_QUESTION, RPE_SKIPPED, ask_rpe
from retrotread.history.record import SessionLog
from tests.support.cli import CONSOLE_SCRIPT, private_env
from tests.support.terminal import read_rest, read_until, run_on_a_terminal


class Interrupting(io.StringIO):
    """A terminal at which the person pressed Ctrl-C."""

    def readline(self, size: int = -1, /) -> str:  # type: ignore[override]  # as typeshed
        raise KeyboardInterrupt


def _ask(typed: str) -> tuple[int | None, str]:
    shown = io.StringIO()
    return ask_rpe(io.StringIO(typed), shown), shown.getvalue()


def test_a_number_from_6_to_20_is_the_answer() -> None:
    assert _ask("13\n") == (13, RPE_QUESTION)
    assert _ask("  6 \n")[0] == 6
    assert _ask("20\n")[0] == 20


def test_enter_skips_without_asking_again() -> None:
    assert _ask("\n14\n") == (None, RPE_QUESTION)


def test_a_wrong_answer_is_asked_again_once() -> None:
    assert _ask("hard\n9\n") == (9, RPE_QUESTION + RPE_AGAIN)


def test_two_wrong_answers_skip_and_say_how_to_rate_later() -> None:
    rpe, shown = _ask("25\n5.5\n12\n")
    assert rpe is None
    assert shown == RPE_QUESTION + RPE_AGAIN + RPE_SKIPPED + "\n"
    assert "retrotread rate" in RPE_SKIPPED


def test_end_of_input_and_ctrl_c_skip() -> None:
    assert _ask("") == (None, RPE_QUESTION + "\n")
    shown = io.StringIO()
    assert ask_rpe(Interrupting(), shown) is None
    assert shown.getvalue() == RPE_QUESTION + "\n"


def _session_on_a_terminal(tmp_path: Path, typed: bytes) -> tuple[int, bytes, SessionLog]:
    """A short simulated session with stdin and stdout on a pseudo-terminal (stderr, the logs,
    to a pipe); `typed` is typed once the question shows."""
    plan = tmp_path / "plan.toml"
    plan.write_text('[[segments]]\nname = "a"\nduration_s = 20\ntarget_mph = 0.8\n')
    env = private_env(tmp_path, TERM="dumb")
    controller, process = run_on_a_terminal(
        [str(CONSOLE_SCRIPT), "run", "--sim", "--plan", str(plan), "--cues", "off",
         "--time-scale", "100000"],
        env,
    )  # fmt: skip
    try:
        screen = read_until(controller, b"How hard")
        assert b"How hard was that, 6 to 20?" in screen, screen
        os.write(controller, typed)
        code = process.wait(timeout=60)
        screen += read_rest(controller, 0.5)
    finally:
        process.kill()
        process.wait()
        os.close(controller)
    assert process.stderr is not None
    err = process.stderr.read().decode()
    process.stderr.close()
    assert "Traceback" not in err, err
    (journal,) = (tmp_path / "data" / "sessions").glob("*.jsonl")
    return code, screen, SessionLog.read(journal)


def test_the_answer_on_a_terminal_is_recorded_after_the_summary(tmp_path: Path) -> None:
    code, screen, log = _session_on_a_terminal(tmp_path, b"14\n")
    assert code == 0
    assert screen.index(b"retrotread show last") < screen.index(b"How hard")  # summary first
    assert log.rpe == 14
    assert [e.event for e in log.events[-2:]] == ["summary", "rpe"]
    assert log.rpe_events[-1].source == "prompt"


@pytest.mark.parametrize("typed", [b"\x03", b"\x04"], ids=["ctrl-c", "ctrl-d"])
def test_ctrl_c_or_ctrl_d_at_the_question_skips_it_and_keeps_the_exit_code(
    tmp_path: Path, typed: bytes
) -> None:
    code, _screen, log = _session_on_a_terminal(tmp_path, typed)
    assert code == 0  # the session completed; skipping the question changes nothing
    assert log.rpe is None
    assert log.events[-1].event == "summary"
