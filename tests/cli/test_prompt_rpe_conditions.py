"""When the RPE question is asked, and what it reads.

- Never after an unverified stop (the treadmill refused Stop, the belt was never seen at 0):
  the belt may still be moving and the walker must deal with it, not with a question.
- Keys typed before the question (mashed during the session: `q`, space, a stray Enter) are
  thrown away, so they cannot spoil the answer.

Through the use case (`rpe_wanted`) and through the console script on a pseudo-terminal.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from retrotread.cli.prompt import RPE_AGAIN, RPE_SKIPPED
from retrotread.history.record import SessionLog
from retrotread.run import RunOptions, run_to_result
from tests.support.cli import CONSOLE_SCRIPT, private_env
from tests.support.settings import clean_environment
from tests.support.terminal import read_rest, read_until, run_on_a_terminal

PLAN = '[[segments]]\nname = "a"\nduration_s = 20\ntarget_mph = 0.8\n'
REFUSED_STOP = ("--sim-fault", "reject@0:stop")


def _plan(tmp_path: Path) -> Path:
    path = tmp_path / "plan.toml"
    path.write_text(PLAN)
    return path


@pytest.mark.parametrize(
    ("faults", "wanted"), [((), True), (("reject@0:stop",), False)], ids=["verified", "unverified"]
)
def test_the_rating_is_wanted_only_once_the_belt_was_seen_at_0(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, faults: tuple[str, ...], wanted: bool
) -> None:
    data = clean_environment(monkeypatch, tmp_path)
    result = run_to_result(
        RunOptions(
            sim=True,
            plan_file=_plan(tmp_path),
            sim_faults=faults,
            cues="off",
            time_scale=100000,
            control_socket=False,
            data_dir=data,
        )
    )
    log = SessionLog.read(result.journal)
    unverified = [e for e in log.safety if e.reason == "stop_unverified"]
    assert bool(unverified) is not wanted  # the rig did what it is for
    assert result.rpe_wanted is wanted


def _on_a_terminal(
    tmp_path: Path, *args: str, typed_first: bytes = b""
) -> tuple[int, subprocess.Popen[bytes]]:
    """`run --sim` on a short plan with stdin and stdout on a pseudo-terminal (stderr, the logs,
    to a pipe), `typed_first` typed before the child starts. Returns the pty's controller side
    (nothing read from it yet) and the child."""
    return run_on_a_terminal(
        [str(CONSOLE_SCRIPT), "run", "--sim", "--plan", str(_plan(tmp_path)), "--cues", "off",
         "--time-scale", "100000", *args],
        private_env(tmp_path, TERM="dumb"),
        typed_first=typed_first,
    )  # fmt: skip


def _journal(tmp_path: Path) -> SessionLog:
    (journal,) = (tmp_path / "data" / "sessions").glob("*.jsonl")
    return SessionLog.read(journal)


def _finish(controller: int, process: subprocess.Popen[bytes]) -> str:
    """Kill what is left, close the terminal, and return stderr (checked for tracebacks)."""
    process.kill()
    process.wait()
    os.close(controller)
    assert process.stderr is not None
    err = process.stderr.read().decode()
    process.stderr.close()
    assert "Traceback" not in err, err
    return err


def test_no_question_after_an_unverified_stop_on_a_terminal(tmp_path: Path) -> None:
    controller, process = _on_a_terminal(tmp_path, *REFUSED_STOP)
    try:
        # Everything the session shows, up to the child's end (it asks nothing, so it ends).
        screen = read_rest(controller, 60.0)
        code = process.wait(timeout=10)
    finally:
        _finish(controller, process)
    assert code == 3
    assert b"How hard" not in screen, screen[-500:]
    log = _journal(tmp_path)
    assert [e.reason for e in log.safety if e.reason == "stop_unverified"] == ["stop_unverified"]
    assert log.rpe is None
    assert log.events[-1].event == "summary"


def test_keys_typed_before_the_question_are_thrown_away(tmp_path: Path) -> None:
    # A whole line ("q q" and Enter) and the start of another: read as answers, the first
    # would be refused and the second ("q12") too, and the rating skipped.
    controller, process = _on_a_terminal(tmp_path, typed_first=b"q q\n q")
    try:
        screen = read_until(controller, b"How hard")
        os.write(controller, b"12\n")
        code = process.wait(timeout=60)
        screen += read_rest(controller, 0.5)
    finally:
        _finish(controller, process)
    assert code == 0
    assert RPE_AGAIN.encode() not in screen
    assert RPE_SKIPPED.encode() not in screen
    log = _journal(tmp_path)
    assert log.rpe == 12
    assert log.rpe_events[-1].source == "prompt"
