"""`retrotread stop` with options: `--device` / `--sim` (direct FTMS Stop), `--mqtt` (the broker).

A plain `retrotread stop` never gets here (the stdlib fast path in `stop_fast` answers it), except
when global options come first (`retrotread -v stop`); then this command takes the same path.
Every variant stops the local sessions first: it is the fastest channel and costs nothing when
none is running. Heavy imports stay inside the branches that need them.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from retrotread.cli import stop_fast
from retrotread.cli.app import app
from retrotread.cli.context import CliState
from retrotread.errors import ConnectError, InputError, RetrotreadError


@app.command(
    help=(
        "Emergency stop: every running session on this machine, through its control socket. "
        "With --device (or --sim) and no session holding that treadmill, connect and send FTMS "
        "Stop directly; with --mqtt, also publish a stop to the configured broker. "
        "Exit 0 when something acknowledged, 1 when nothing was running, 4 when the device or "
        "broker could not be reached."
    )
)
def stop(
    ctx: typer.Context,
    device: Annotated[
        str | None,
        typer.Option("--device", help="Address or name of a treadmill to stop directly."),
    ] = None,
    sim: Annotated[
        bool, typer.Option("--sim", help="Stop a simulated treadmill directly (in-process).")
    ] = False,
    sim_profile: Annotated[
        str, typer.Option("--sim-profile", help="Simulator profile for --sim.")
    ] = "generic",
    mqtt: Annotated[
        bool, typer.Option("--mqtt", help="Publish a stop to the configured MQTT broker.")
    ] = False,
    target_id: Annotated[
        str | None, typer.Option("--id", help="With --mqtt: the treadmill id (default: config).")
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="With --mqtt: every treadmill on the broker.")
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for acknowledgements.", min=0.1)
    ] = stop_fast.DEFAULT_TIMEOUT_S,
) -> int:
    if (target_id is not None or all_) and not mqtt:
        raise InputError("--id and --all go with --mqtt")
    if target_id is not None and all_:
        raise InputError("give either --id or --all, not both")

    report = stop_fast.stop_all_sessions(timeout)
    if device is None and not sim and not mqtt:
        return stop_fast.print_report(report)

    state: CliState = ctx.obj
    stopped = report.any_acknowledged
    for line in report.lines() if report.sessions else []:
        _say(line)
    failures: list[RetrotreadError] = []
    if device is not None or sim:
        target = device
        if target is not None and _held_by_a_session(report, target):
            pass  # that session already stopped it; a second central could not connect anyway
        else:
            try:
                stopped |= _stop_device(target, sim, sim_profile, state)
            except RetrotreadError as err:
                failures.append(err)
    if mqtt:
        try:
            stopped |= _stop_over_mqtt(target_id, all_, timeout, state)
        except RetrotreadError as err:
            failures.append(err)
    for failure in failures:
        _say(f"error: {failure}")
    if stopped:
        return 0
    return max((failure.exit_code for failure in failures), default=4)


def _say(line: str) -> None:
    print(f"retrotread: {line}", file=sys.stderr if line.startswith("error") else sys.stdout)


def _held_by_a_session(report: stop_fast.StopReport, target: str) -> bool:
    wanted = target.casefold()
    return any(
        s.acknowledged and s.device is not None and wanted in s.device.casefold()
        for s in report.sessions
    )


def _stop_device(target: str | None, sim: bool, sim_profile: str, state: CliState) -> bool:
    from retrotread.direct_stop import stop_device

    config_file = state.config_file
    try:
        result = stop_device(target, sim=sim, sim_profile=sim_profile, config_file=config_file)
    except ValueError as err:  # an unknown simulator profile
        raise InputError(str(err)) from None
    belt = "belt speed unknown" if result.belt_mph is None else f"belt at {result.belt_mph:.1f} mph"
    if result.acknowledged:
        _say(f"stopped {result.device} ({belt})" + (f"; {result.detail}" if result.detail else ""))
    else:
        _say(f"{result.device} did not acknowledge the stop ({belt}): {result.detail}")
    return result.acknowledged


def _stop_over_mqtt(target_id: str | None, all_: bool, timeout: float, state: CliState) -> bool:
    import asyncio

    from retrotread.config import load_settings
    from retrotread.mqtt.remote_stop import publish_stop

    settings = load_settings(state.config_file)
    reports = asyncio.run(publish_stop(settings.mqtt, target_id, all_, timeout))
    if not reports:
        raise ConnectError("no treadmill is online on the MQTT broker")
    for r in reports:
        belt = "belt speed unknown" if r.belt_mph is None else f"belt at {r.belt_mph:.1f} mph"
        if r.acknowledged:
            _say(f"stopped {r.id} over MQTT ({belt}, state {r.state})")
        elif r.state in ("stopped", "fault"):
            # Typically stopped a moment ago through its local control socket, above.
            _say(f"{r.id} was already stopped ({belt}, state {r.state})")
        else:
            _say(f"{r.id} did not acknowledge the MQTT stop ({belt}, state {r.state})")
    return any(r.acknowledged for r in reports)
