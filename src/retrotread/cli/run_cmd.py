"""`retrotread run`: parse the flags, choose the outputs, call the session runner."""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from retrotread.cli.app import app
from retrotread.cli.context import CliState

if TYPE_CHECKING:
    from retrotread.config import CueMode


@app.command()
def run(
    ctx: typer.Context,
    device: Annotated[
        str | None,
        typer.Option(
            "--device",
            metavar="ADDR_OR_NAME",
            help="Treadmill address or advertised name (find it with `retrotread scan`).",
        ),
    ] = None,
    sim: Annotated[
        bool, typer.Option("--sim", help="Walk on the built-in simulator instead of a treadmill.")
    ] = False,
    program: Annotated[
        str | None,
        typer.Option(
            "--program",
            metavar="NAME",
            help="Built-in program: first-steps (default), cooldown, intervals, rehab, athletic"
            " (`retrotread programs` shows them).",
        ),
    ] = None,
    plan: Annotated[
        Path | None,
        typer.Option(
            "--plan", metavar="FILE", help="Your own plan, a TOML or JSON file.", dir_okay=False
        ),
    ] = None,
    max_speed: Annotated[
        str | None,
        typer.Option(
            "--max-speed",
            metavar="MPH",
            help="Your top speed, 0.5 to 3.0 mph, backward and forward (above 3.0 is refused).",
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", help="Start the belt without waiting for Enter (needed without a terminal)."
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Check the plan, caps and config, print the resolved segments; connect to "
            "nothing.",
        ),
    ] = False,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json", help="JSON events on stdout, one per line; human output goes to stderr."
        ),
    ] = False,
    mqtt: Annotated[
        bool,
        typer.Option(
            "--mqtt", help="Publish state and telemetry to the [mqtt] broker of the config."
        ),
    ] = False,
    cues: Annotated[
        str | None,
        typer.Option(
            "--cues",
            metavar="auto|speech|bell|off",
            help="What the walker hears: speech (config [cues] engine, default espeak-ng), the"
            " terminal bell, or nothing; auto (default: config [cues] mode) speaks where the"
            " engine is installed, else rings the bell on a terminal.",
        ),
    ] = None,
    time_scale: Annotated[
        float | None,
        typer.Option(
            "--time-scale",
            metavar="X",
            help="Simulator: virtual time runs X times faster, 0.001 to 100000 (default: config"
            " [sim] time_scale, 1).",
        ),
    ] = None,
    sim_profile: Annotated[
        str | None,
        typer.Option(
            "--sim-profile",
            metavar="NAME|FILE",
            help="Simulator: the simulated machine, generic (default), coarse-grid, a quirk"
            " profile or a TOML file.",
        ),
    ] = None,
    sim_fault: Annotated[
        list[str] | None,
        typer.Option(
            "--sim-fault",
            metavar="KIND@T[:ARG]",
            help="Simulator: inject a fault T session seconds in (repeatable). KIND:"
            " disconnect[:S], safety-key, console-stop, overspeed:FACTOR, stall,"
            " reject:set-speed|start|stop|request-control, no-indication, hr:BPM,"
            " control-lost, struggle[:FACTOR] (profile step-count);"
            " with --sim-hr-strap: hr-drop[:S], hr-contact."
            " Example: overspeed@300:1.5.",
        ),
    ] = None,
    hr_device: Annotated[
        str | None,
        typer.Option(
            "--hr-device",
            metavar="ADDR_OR_NAME",
            help="A BLE heart-rate strap to read beside the treadmill (default: config"
            " [heart_rate] device); its heart rate wins over the treadmill's.",
        ),
    ] = None,
    hr_optional: Annotated[
        bool,
        typer.Option(
            "--hr-optional",
            help="A strap that cannot be reached at the start: warn and walk without it"
            " (default: exit 4).",
        ),
    ] = False,
    sim_hr_strap: Annotated[
        bool,
        typer.Option(
            "--sim-hr-strap",
            help="Simulator: also serve a heart-rate strap on the virtual radio, and read it.",
        ),
    ] = False,
    sim_wire_log: Annotated[
        Path | None,
        typer.Option(
            "--sim-wire-log",
            metavar="FILE",
            help="Simulator: write one JSON line per control-point write the machine received"
            " (t, hex, op, result, belt_kmh), to check what reached it.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Start an auto-paced backward session.

    Needs --device or --sim. Exit codes: 0 program completed and belt stopped; 2 bad input,
    nothing started; 3 ended by another stop (estop, safety key, console, fault); 4 could not
    connect or take control; 130 interrupted by Ctrl-C after the belt was stopped.
    """
    from retrotread.channels.sinks import PlainTextSink
    from retrotread.cli.prompt import confirm_on_terminal
    from retrotread.run import RunOptions, SessionAttachment, run_to_result

    state: CliState = ctx.obj
    max_speed_mph = parse_max_speed(max_speed)
    live = None
    sinks = []
    attachments: list[SessionAttachment] = []
    # Python's sys.stderr is None when descriptor 2 was closed at start (`2>&-`): no live view,
    # and the human-lines sink just has nowhere to write; the session runs all the same.
    if sys.stderr is not None and sys.stderr.isatty() and not json_output:
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
        max_speed_mph=max_speed_mph,
        yes=yes,
        dry_run=dry_run,
        json=json_output,
        mqtt=mqtt,
        cues=parse_cues(cues),
        time_scale=time_scale,
        configured_time_scale=True,
        sim_profile=sim_profile,
        sim_faults=tuple(sim_fault or ()),
        sim_wire_log=sim_wire_log,
        sim_hr_strap=sim_hr_strap,
        hr_device=hr_device,
        hr_optional=hr_optional,
        config_file=state.config_file,
        confirm=live.confirm if live is not None else confirm_on_terminal,
        sinks=tuple(sinks),
        attachments=tuple(attachments),
        handle_signals=True,
    )
    if dry_run:
        import json

        from retrotread.cli.programs_cmd import show_plan
        from retrotread.run import prepare

        prepared = prepare(options)
        if json_output:
            print(json.dumps(prepared.plan.model_dump(mode="json")))
        else:
            show_plan(prepared.plan)
            if prepared.cap_notice is not None:
                print(prepared.cap_notice)
        raise typer.Exit(0)
    raise typer.Exit(run_to_result(options).exit_code)


def parse_cues(text: str | None) -> "CueMode | None":
    """`--cues` as text, so that a wrong word gets one line naming the choices (exit 2)."""
    from retrotread.config import CUE_MODES
    from retrotread.errors import InputError

    if text is None:
        return None
    for mode in ("auto", "speech", "bell", "off"):
        if text == mode:
            return mode
    raise InputError(f"--cues = {text}: must be one of {', '.join(CUE_MODES)}")


def parse_max_speed(text: str | None) -> float | None:
    """`--max-speed` is read as text so that a non-number gets the same one line, naming the
    range, as a number outside it (the range check itself is the plan's)."""
    from retrotread.errors import InputError
    from retrotread.session.plan import validate_max_speed
    from retrotread.units import HARD_CEILING_MPH, HARD_FLOOR_MPH

    if text is None:
        return None
    try:
        mph = float(text)
    except ValueError:
        raise InputError(
            f"--max-speed = {text}: must be a number within "
            f"{HARD_FLOOR_MPH!r}..{HARD_CEILING_MPH!r} mph"
        ) from None
    return validate_max_speed(mph)
