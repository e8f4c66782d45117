"""`retrotread run`: parse the flags, choose the outputs, call the session runner."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from retrotread.cli.app import app
from retrotread.cli.context import CliState


@app.command()
def run(
    ctx: typer.Context,
    device: Annotated[
        str | None, typer.Option("--device", help="Treadmill address or advertised name.")
    ] = None,
    sim: Annotated[bool, typer.Option("--sim", help="Walk on the built-in simulator.")] = False,
    program: Annotated[
        str | None, typer.Option("--program", help="Built-in program (default first-steps).")
    ] = None,
    plan: Annotated[
        Path | None, typer.Option("--plan", help="Plan file (TOML or JSON).", dir_okay=False)
    ] = None,
    max_speed: Annotated[
        float | None, typer.Option("--max-speed", help="Lower the backward ceiling (mph).")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Start without asking to confirm.")] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="JSON events on stdout, one per line.")
    ] = False,
    mqtt: Annotated[bool, typer.Option("--mqtt", help="Publish to the configured broker.")] = False,
    time_scale: Annotated[
        float | None,
        typer.Option(
            "--time-scale",
            help="Simulator: run X times faster (default: config [sim] time_scale, 1).",
        ),
    ] = None,
    sim_profile: Annotated[
        str | None, typer.Option("--sim-profile", help="Simulator: machine profile, name or file.")
    ] = None,
    sim_fault: Annotated[
        list[str] | None,
        typer.Option("--sim-fault", help="Simulator: inject KIND@T[:ARG] (repeatable)."),
    ] = None,
) -> None:
    """Start an auto-paced backward session."""
    from retrotread.logs import configure_logging
    from retrotread.session.output import PlainTextSink
    from retrotread.session.runner import RunOptions, SessionAttachment, run_to_result

    state: CliState = ctx.obj
    configure_logging(state.log_format.value, state.verbose)
    live = None
    sinks = []
    attachments: list[SessionAttachment] = []
    if sys.stderr.isatty() and not json_output:
        from retrotread.cli.live import LiveView

        live = LiveView()
        attachments.append(live.attach)
    else:
        sinks.append(PlainTextSink(sys.stderr))
    options = RunOptions(
        device=device,
        sim=sim,
        program=program,
        plan_file=plan,
        max_speed_mph=max_speed,
        yes=yes,
        json=json_output,
        mqtt=mqtt,
        time_scale=time_scale,
        configured_time_scale=True,
        sim_profile=sim_profile,
        sim_faults=tuple(sim_fault or ()),
        config_file=state.config_file,
        confirm=live.confirm if live is not None else None,
        sinks=tuple(sinks),
        attachments=tuple(attachments),
        handle_signals=True,
    )
    raise typer.Exit(run_to_result(options).exit_code)
