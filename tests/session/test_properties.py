"""Session-level properties on the simulator (virtual time): whatever the plan, the machine and
the faults, the belt is commanded only inside the band, ramps within the limits, never moves
after the stop latch, stands still at the end, and the journal holds the whole story."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrotread.events import (
    CommandEvent,
    CueEvent,
    Event,
    PromptEvent,
    QuirkName,
    SafetyEvent,
    SegmentEvent,
    SummaryEvent,
)
from retrotread.safety.limits import SpeedGrid, mph_to_centi, ramp_step_c, step_wait_s
from retrotread.session.journal import read_journal
from simulators.profiles import Profile
from tests.support.sessions import simulate
from tests.support.wire import event_param, moving_writes_after_first_stop, speed_params

BAND = (0.5, 3.0)
FORWARD_MAX = 4.0
MAX_STEP = 0.1
STEP_INTERVAL = 1.0
EPS = 1e-6

speeds = st.floats(0.5, 3.0).map(lambda v: round(v, 2))
segments = st.fixed_dictionaries(
    {
        "direction": st.sampled_from(["backward", "backward", "forward"]),
        "duration_s": st.integers(5, 40),
        "target_mph": speeds,
    }
)
faults = st.one_of(
    st.just("safety-key"),
    st.just("console-stop"),
    st.floats(1.3, 2.0).map(lambda f: f"overspeed:{f:.2f}"),
    st.just("stall"),
    st.integers(1, 4).map(lambda s: f"disconnect:{s}"),
    st.sampled_from(
        ["reject:set-speed", "reject:start", "reject:request-control", "reject:stop"]
    ),
    st.integers(60, 220).map(lambda b: f"hr:{b}"),
)
fault_schedules = st.lists(
    st.tuples(faults, st.integers(0, 90)).map(
        lambda pair: (
            pair[0].replace(":", f"@{pair[1]}:", 1) if ":" in pair[0] else f"{pair[0]}@{pair[1]}"
        )
    ),
    max_size=2,
)
profiles = st.sampled_from(
    [
        "generic",
        "coarse-grid",
        "start-before-speed",
        "ack-by-status",
        "min-speed-1kmh",
        "stale-stop",
        "offset-grid",
        "offset-grid-multiples",
        "mph-coarse",
        "laggy",
        "strict-procedure",
    ]
)


def plan_toml(plan: list[dict[str, object]]) -> str:
    lines = ['name = "random"']
    for index, segment in enumerate(plan):
        lines += [
            "[[segments]]",
            f'name = "s{index}"',
            f'direction = "{segment["direction"]}"',
            f"duration_s = {segment['duration_s']}",
            f"target_mph = {segment['target_mph']}",
        ]
    return "\n".join(lines) + "\n"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    plan=st.lists(segments, min_size=1, max_size=3),
    profile=profiles,
    schedule=fault_schedules,
)
def test_safety_properties_hold_for_any_plan_machine_and_faults(
    plan: list[dict[str, object]], profile: str, schedule: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory)
        plan_file = data_dir / "plan.toml"
        plan_file.write_text(plan_toml(plan))
        run = simulate(
            data_dir, plan_file=plan_file, sim_profile=profile, sim_faults=tuple(schedule)
        )
        assert run.exit_code in (0, 3, 4)
        assert run.exit_code != 0 or run.stopped.reason == "completed"

        # The journal holds every event, in order, and ends with the summary.
        assert run.journal is not None
        assert read_journal(run.journal) == run.events
        assert isinstance(run.events[-1], SummaryEvent)
        # The walker's closing cue (belt at 0) may stand between `stopped` and `summary`.
        assert [e for e in run.events if not isinstance(e, CueEvent)][-2] is run.stopped

        assert run.simulator is not None
        grid = _grid(run.simulator.profile)
        _check_band_and_ramps(run.events, grid)

        # What reached the machine: every speed inside the band under both readings of its
        # grid, and nothing that starts or speeds up the belt once FTMS Stop was written.
        log = run.simulator.treadmill.control_log
        ceiling = FORWARD_MAX if any(s["direction"] == "forward" for s in plan) else BAND[1]
        for param in speed_params(log):
            setpoint = grid.setpoint(param)
            assert setpoint.low_c >= mph_to_centi(BAND[0]), setpoint
            assert setpoint.high_c <= mph_to_centi(ceiling), setpoint
        assert moving_writes_after_first_stop(log) == []

        # A stop is verified only by an acknowledged Stop and a belt seen at 0: a belt still
        # moving after the session was reported as such (stop_unverified, exit 3). It may move
        # only where the schedule made every Stop fail: Stop refused, or a dropped link that
        # takes control away from a machine that then refuses Request Control.
        unverified = any(
            isinstance(e, SafetyEvent) and e.reason == "stop_unverified" for e in run.events
        )
        if run.final_belt_kmh != 0:
            assert run.exit_code == 3
            assert unverified
        deaf = any(s.startswith("disconnect") for s in schedule) and any(
            s.startswith("reject") and s.endswith("request-control") for s in schedule
        )
        if not deaf and not any(s.startswith("reject") and s.endswith(":stop") for s in schedule):
            assert run.final_belt_kmh == 0


def _grid(profile: Profile) -> SpeedGrid:
    speed = profile.speed
    return SpeedGrid.from_range(
        speed.min_kmh,
        speed.max_kmh,
        speed.increment_kmh,
        unit_is_mph=profile.has(QuirkName.speed_param_mph),
        min_belt_kmh=1.0 if profile.has(QuirkName.min_speed_1kmh) else 0.0,
    )


def _check_band_and_ramps(events: Sequence[Event], grid: SpeedGrid) -> None:
    """Every set_speed inside the band of the direction the belt runs in (backward 0.5..3.0, the
    direction switching only at the turn-around prompt), and every change one ramp step (at most
    max_step, or one grid point where the grid is coarser) at most max_step per interval on
    average; the floor after a pause (resume) is the only exception to the step rule."""
    direction = None
    previous: CommandEvent | None = None
    step_c = ramp_step_c(MAX_STEP)
    for event in events:
        if isinstance(event, SegmentEvent) and direction in (None, event.direction):
            direction = event.direction
        elif isinstance(event, PromptEvent) and "Turn around" in event.message:
            direction = "backward" if "BACKWARD" in event.message else "forward"
        elif isinstance(event, CommandEvent) and event.op == "pause":
            previous = None
        elif (
            isinstance(event, CommandEvent)
            and event.op == "set_speed"
            and event.result == "success"
        ):
            setpoint = grid.setpoint(event_param(grid, event))
            ceiling = BAND[1] if direction in (None, "backward") else FORWARD_MAX
            assert mph_to_centi(BAND[0]) <= setpoint.low_c, (direction, event)
            assert setpoint.high_c <= mph_to_centi(ceiling), (direction, event)
            if previous is not None:
                before = grid.setpoint(event_param(grid, previous))
                change = setpoint.high_c - before.high_c
                wait = step_wait_s(change, step_c, STEP_INTERVAL)
                assert event.t - previous.t >= wait - EPS, (previous, event)
                assert abs(change) <= max(step_c, grid.inc_u * grid.kmh_per_unit * 2)
            previous = event
