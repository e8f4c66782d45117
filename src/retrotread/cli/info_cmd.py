"""`retrotread info (--device ADDR | --sim) [--sim-profile NAME] [--json]`."""

from typing import Annotated

import typer

from retrotread.cli.app import app


@app.command()
def info(
    ctx: typer.Context,
    device: Annotated[
        str | None, typer.Option("--device", help="Treadmill address or advertised name.")
    ] = None,
    sim: Annotated[bool, typer.Option("--sim", help="Ask a simulated treadmill.")] = False,
    sim_profile: Annotated[
        str | None,
        typer.Option(
            "--sim-profile", help="Simulated machine (with --sim; default: config [sim] profile)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Features, target-setting features, supported speed and incline ranges.

    Speeds in the config's [display] units; --json keeps SPEC's km/h.

    Exits 4 when there is no Bluetooth adapter or the treadmill cannot be found.
    """
    import json

    from retrotread.cli.context import CliState
    from retrotread.info import device_info_json, info_for_target, info_lines_for_target

    state: CliState = ctx.obj
    if as_json:
        found = info_for_target(
            device, sim=sim, sim_profile=sim_profile, config_file=state.config_file
        )
        print(json.dumps(device_info_json(found)))
        return
    lines = info_lines_for_target(
        device, sim=sim, sim_profile=sim_profile, config_file=state.config_file
    )
    print("\n".join(lines))
