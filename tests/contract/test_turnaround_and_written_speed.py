"""Direction changes (forward ceiling, turn-around with a pause and prompts) and the promise that a
`set_speed` event reports the value actually written to the treadmill."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from retrotread.run import RunOptions, run_to_result
from retrotread.units import KMH_PER_MPH
from simulators.harness import Simulator
from tests.support.cli import FAST, RunScript, Sandbox
from tests.support.schema import check_session, of_kind

TURN_PLAN = """
turnaround_mode = "pause"
[[segments]]
name = "forward"
direction = "forward"
duration_s = 5
target_mph = 1.2
[[segments]]
name = "back"
duration_s = 5
target_mph = 0.8
"""


def test_a_direction_change_pauses_prompts_and_resumes(cli: RunScript, sandbox: Sandbox) -> None:
    plan = sandbox.plan(TURN_PLAN)
    result = cli("run", "--sim", "--plan", str(plan), "--json", *FAST)
    assert result.code == 0, result.err
    events = result.events()
    check_session(events)
    assert [s["direction"] for s in of_kind(events, "segment")] == ["forward", "backward"]
    ops = [c["op"] for c in of_kind(events, "command")]
    pause_at = ops.index("pause")
    assert "start" in ops[pause_at:]  # the belt moves again only after the walker turned
    prompts = of_kind(events, "prompt")
    assert prompts
    assert any("BACKWARD" in p["message"] for p in prompts)
    assert any("paused" in p["message"] for p in prompts)  # says what the belt really does


def test_a_forward_segment_above_its_ceiling_is_refused(cli: RunScript, sandbox: Sandbox) -> None:
    plan = sandbox.plan(TURN_PLAN.replace("target_mph = 1.2", "target_mph = 4.5"))
    result = cli("run", "--sim", "--plan", str(plan), *FAST)
    assert result.code == 2
    assert "target_mph" in result.error_line()


def test_set_speed_events_report_the_bytes_written(sandbox: Sandbox, tmp_path: Path) -> None:
    plan = sandbox.plan('[[segments]]\nname = "a"\nduration_s = 15\ntarget_mph = 3.0\n')
    machines: list[Simulator] = []
    events: list[dict[str, Any]] = []
    result = run_to_result(
        RunOptions(
            sim=True,
            plan_file=plan,
            sim_profile="coarse-grid",
            time_scale=100000,
            json=False,
            control_socket=False,
            data_dir=tmp_path / "data",
            sinks=(lambda event: events.append(event.model_dump(mode="json")),),
            on_simulator=machines.append,
        )
    )
    assert result.exit_code == 0
    written = [
        int.from_bytes(exchange.request[1:3], "little") / 100
        for exchange in machines[0].treadmill.control_log
        if exchange.opcode == 0x02
    ]
    reported = [c for c in of_kind(events, "command") if c["op"] == "set_speed"]
    assert written
    assert [c["kmh"] for c in reported] == written
    for command in reported:
        assert math.isclose(command["mph"], command["kmh"] / KMH_PER_MPH, abs_tol=0.0001)
