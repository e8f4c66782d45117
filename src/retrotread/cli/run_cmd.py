"""`retrotread run`: parse the flags, choose the outputs, call the session runner."""

import contextlib
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
    coach: Annotated[
        bool,
        typer.Option(
            "--coach",
            help="Walk the plan `retrotread coach` suggests now, from your past sessions (the"
            " reason is shown first).",
        ),
    ] = False,
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
    rpe: Annotated[
        str | None,
        typer.Option(
            "--rpe",
            metavar="N",
            help="How hard the session felt, 6 (no exertion) to 20 (maximal), Borg's RPE:"
            " recorded at its end without asking (a session on a terminal asks).",
        ),
    ] = None,
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

    Keys in the live view (stdin a terminal): space, s, q or Esc stop the belt, and so do
    Ctrl-S, Ctrl-Z and Ctrl-\\ (which would freeze the terminal, suspend or kill the session);
    p pauses it (while paused: keeps it paused, cancelling a resume countdown); r resumes a
    pause (whoever paused; the belt restarts at the floor after a 3 s countdown); Enter starts
    the belt when asked. Arrow and other keys do nothing. Ctrl-C always stops
    the belt; without a terminal on stdin it is the only key.
    """
    from retrotread.channels.sinks import PlainTextSink, write_text
    from retrotread.cli.prompt import confirm_on_terminal, on_a_terminal
    from retrotread.run import (
        RunOptions,
        SessionAttachment,
        prepare,
        run_prepared_to_result,
    )
    from retrotread.validation import check_rpe

    state: CliState = ctx.obj
    max_speed_mph = parse_max_speed(max_speed)
    live = None
    attachments: list[SessionAttachment] = []
    # Human output goes to stdout, or to stderr beside --json (SPEC.md); logs always to stderr.
    # Python's sys.stdout / sys.stderr is None when that descriptor was closed at start (`>&-`):
    # the human-lines sink then has nowhere to write, and the session runs all the same.
    human, human_name = (sys.stderr, "stderr") if json_output else (sys.stdout, "stdout")
    if sys.stderr is not None and sys.stderr.isatty() and not json_output:
        from retrotread.cli.live import LiveView
        from retrotread.config import load_settings

        live = LiveView(units=load_settings(state.config_file).display.units)
        attachments.append(live.attach)
    # Plain lines unless the live view shows the same on the same terminal: `run > file` still
    # fills the file.
    plain = live is None or human is None or not human.isatty()
    options = RunOptions(
        device=device,
        sim=sim,
        program=program,
        plan_file=plan,
        coach=coach,
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
        rpe=check_rpe(rpe),
        config_file=state.config_file,
        confirm=live.confirm if live is not None else confirm_on_terminal,
        settings_sinks=(
            (lambda settings: PlainTextSink(human, name=human_name, units=settings.display.units)),
        )
        if plain
        else (),
        attachments=tuple(attachments),
        handle_signals=True,
    )
    prepared = prepare(options)
    if prepared.coach_reason is not None and human is not None:
        # Not `write_text`: a reader already gone is for the session's own sink to notice and
        # say once (SPEC.md), which it cannot once the stream has been given up on here.
        with contextlib.suppress(OSError, ValueError):
            print(f"Why this plan: {prepared.coach_reason}", file=human, flush=True)
    if dry_run:
        import json

        from retrotread.cli.programs_cmd import show_plan

        if json_output:
            print(json.dumps(prepared.plan.model_dump(mode="json")))
        else:
            show_plan(prepared.plan, prepared.settings.display.units)
            if prepared.cap_notice is not None:
                print(prepared.cap_notice)
        raise typer.Exit(0)
    result = run_prepared_to_result(prepared)
    write_text(human, result.summary_text)
    if result.rpe_wanted and not json_output and on_a_terminal(sys.stdin, sys.stdout):
        from retrotread.cli.prompt import ask_rpe
        from retrotread.run import record_rpe

        rating = ask_rpe()
        if rating is not None:
            record_rpe(result, rating)
    raise typer.Exit(result.exit_code)


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
