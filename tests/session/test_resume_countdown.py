"""A pause that arrives during a resume countdown wins: the belt stays paused, and the walker is
told so. Checked on what reached the simulated machine (its control log), on the virtual clock,
for the walker's own resume (the live view's key) and for the turn-around's resume in both
turn-around modes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from retrotread.events import CommandEvent, CueEvent, Event, PromptEvent, SegmentEvent
from retrotread.ftms import OpCode
from retrotread.ftms.control_point import PAUSE_BYTES
from retrotread.run import SessionAttachment
from retrotread.session.control import SessionControl
from retrotread.session.engine import Session
from retrotread.session.pacer import MOVE_COUNTDOWN_S
from simulators.treadmill import ControlExchange
from tests.support.sessions import SHORT_PLAN, SimRun, simulate, turning_plan, write_plan

MOVING_OPS = {OpCode.start_or_resume, OpCode.set_target_speed}

Action = Callable[[Session], object]


def mqtt_pause(session: Session) -> object:
    return session.pause("mqtt")


def walker_resume(session: Session) -> object:
    return session.resume_local()


def scheduled(when: Callable[[Event], bool], *steps: tuple[float, Action]) -> SessionAttachment:
    """At the first event `when` accepts, run each (delay_s, action) that many seconds later on
    the session's clock; the session is left only once all of them finished."""

    @contextlib.asynccontextmanager
    async def attachment(control: SessionControl) -> AsyncIterator[None]:
        assert isinstance(control, Session)
        loop = asyncio.get_running_loop()
        tasks: list[asyncio.Future[object]] = []
        fired = False

        def run(action: Action) -> None:
            coroutine = action(control)
            assert asyncio.iscoroutine(coroutine)
            tasks.append(asyncio.ensure_future(coroutine))

        def on_event(event: Event) -> None:
            nonlocal fired
            if fired or not when(event):
                return
            fired = True
            for delay, action in steps:
                loop.call_later(delay, run, action)

        remove = control.add_listener(on_event)
        yield
        remove()
        await asyncio.gather(*tasks)

    return attachment


def log_of(run: SimRun) -> list[ControlExchange]:
    assert run.simulator is not None
    return run.simulator.treadmill.control_log


def moves_after(run: SimRun, write: ControlExchange, until: float) -> list[ControlExchange]:
    """Start/Resume and Set Target Speed writes that reached the machine after `write` (in the
    log's order: a ramp step may arrive in the same instant, just before it) and before `until`."""
    log = log_of(run)
    later = log[log.index(write) + 1 :]
    return [x for x in later if x.opcode in MOVING_OPS and x.t < until]


def pause_writes(run: SimRun) -> list[ControlExchange]:
    return [x for x in log_of(run) if x.request == PAUSE_BYTES]


def stays_paused(run: SimRun) -> tuple[PromptEvent, CueEvent]:
    """The one prompt and the one cue that say the belt stays paused after a countdown."""
    (prompt,) = [e for e in run.of(PromptEvent) if "stays paused" in e.message]
    (cue,) = [e for e in run.of(CueEvent) if e.kind == "paused" and "stays paused" in e.text]
    return prompt, cue


def test_a_pause_during_the_walkers_countdown_keeps_the_belt_paused(tmp_path: Path) -> None:
    """Paused from MQTT; the walker resumes 30 s later; 1 s into the 3 s countdown MQTT pauses
    again. Nothing moves until the walker resumes once more (at 60 s), and the walker is told
    that the belt stays paused and who paused it."""
    attachment = scheduled(
        lambda event: isinstance(event, SegmentEvent) and event.index == 1,
        (0.0, mqtt_pause),
        (30.0, walker_resume),
        (31.0, mqtt_pause),  # during the walker's countdown
        (60.0, walker_resume),
    )
    run = simulate(tmp_path, plan_file=write_plan(tmp_path, SHORT_PLAN), attachments=(attachment,))
    assert (run.exit_code, run.stopped.reason) == (0, "completed")
    (paused,) = pause_writes(run)  # the second pause found the belt paused: nothing to write
    restarts = [x for x in log_of(run) if x.opcode == OpCode.start_or_resume and x.t > paused.t]
    assert restarts
    # The first resume's countdown ended 33 s after the pause: nothing moved then, only after
    # the walker's second resume and its own countdown (60 + 3 s).
    assert not moves_after(run, paused, paused.t + 60 + MOVE_COUNTDOWN_S - 1e-6)
    assert restarts[0].t - paused.t >= 60 + MOVE_COUNTDOWN_S - 1e-6
    prompt, cue = stays_paused(run)
    first_pause = next(e for e in run.of(CommandEvent) if e.op == "pause")
    assert first_pause.t + 33 - 1e-6 <= prompt.t < first_pause.t + 60
    assert prompt.kind == "resume"
    assert "remotely (MQTT)" in prompt.message
    assert "remotely (MQTT)" in cue.text
    # The later resume clears that prompt when the belt moves.
    last_prompt = [e for e in run.of(PromptEvent) if e.kind == "resume"][-1]
    assert last_prompt.message == ""


def _pause_plan(mode: str) -> str:
    return f'turnaround_mode = "{mode}"\n' + turning_plan(forward=(20, 1.0), backward=(20, 0.8))


def _countdown_started(event: Event) -> bool:
    return isinstance(event, PromptEvent) and event.phase == "resuming"


def test_a_pause_during_the_paused_turnarounds_countdown_keeps_the_belt_paused(
    tmp_path: Path,
) -> None:
    """Pause mode: the turn-around paused the belt and counts down to resume it; MQTT pauses
    1 s into that countdown. The turn-around's resume is refused (only its own pause may be
    resumed by it): no write moves the belt until the walker resumes 30 s later."""
    attachment = scheduled(_countdown_started, (1.0, mqtt_pause), (30.0, walker_resume))
    run = simulate(
        tmp_path, plan_file=write_plan(tmp_path, _pause_plan("pause")), attachments=(attachment,)
    )
    assert (run.exit_code, run.stopped.reason) == (0, "completed")
    (paused,) = pause_writes(run)  # the turn-around's own Pause; MQTT's found the belt paused
    countdown = next(e for e in run.of(PromptEvent) if _countdown_started(e))
    resuming = [x for x in log_of(run) if x.opcode == OpCode.start_or_resume and x.t > paused.t]
    assert resuming
    assert not moves_after(run, paused, resuming[0].t)  # not even the floor speed first
    # Paused 5 s (the hold) before the countdown; the walker resumed 30 s into it, with its own
    # 3 s countdown: the belt moved no earlier than 5 + 30 + 3 s after the turn-around's pause.
    assert resuming[0].t - paused.t >= 30 + MOVE_COUNTDOWN_S - 1e-6
    prompt, cue = stays_paused(run)
    assert countdown.t + MOVE_COUNTDOWN_S - 1e-6 <= prompt.t <= countdown.t + 30
    assert "remotely (MQTT)" in prompt.message
    assert "remotely (MQTT)" in cue.text


def test_a_pause_during_the_floor_turnarounds_countdown_keeps_the_belt_paused(
    tmp_path: Path,
) -> None:
    """Floor mode: the belt holds at the floor while the walker turns; MQTT pauses 1 s into the
    countdown. The Pause is written and nothing moves the belt again before the walker resumes."""
    attachment = scheduled(_countdown_started, (1.0, mqtt_pause), (30.0, walker_resume))
    run = simulate(
        tmp_path, plan_file=write_plan(tmp_path, _pause_plan("floor")), attachments=(attachment,)
    )
    assert (run.exit_code, run.stopped.reason) == (0, "completed")
    (paused,) = pause_writes(run)
    countdown = next(e for e in run.of(PromptEvent) if _countdown_started(e))
    resuming = [x for x in log_of(run) if x.opcode == OpCode.start_or_resume and x.t > paused.t]
    assert resuming
    assert not moves_after(run, paused, resuming[0].t)
    assert resuming[0].t - paused.t >= 29 + MOVE_COUNTDOWN_S - 1e-6
    pause = next(e for e in run.of(CommandEvent) if e.op == "pause")
    assert (pause.source, pause.result) == ("mqtt", "success")
    assert countdown.t < pause.t < countdown.t + MOVE_COUNTDOWN_S
