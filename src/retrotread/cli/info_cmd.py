"""`retrotread info (--device ADDR | --sim) [--sim-profile NAME] [--json]`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from retrotread.cli.app import app
from retrotread.errors import InputError


@app.command()
def info(
    ctx: typer.Context,
    device: Annotated[
        str | None, typer.Option("--device", help="Treadmill address or advertised name.")
    ] = None,
    sim: Annotated[bool, typer.Option("--sim", help="Ask a simulated treadmill.")] = False,
    sim_profile: Annotated[
        str, typer.Option("--sim-profile", help="Simulated machine (with --sim).")
    ] = "generic",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Features, target-setting features, supported speed and incline ranges.

    Exits 4 when there is no Bluetooth adapter or the treadmill cannot be found.
    """
    import asyncio

    from retrotread.cli.context import CliState
    from retrotread.config import load_settings
    from retrotread.treadmill.info import device_info_json, read_device_info, read_sim_device_info

    state: CliState = ctx.obj
    # A broken config is reported by every command that reads it, not only by `run`.
    load_settings(state.config_file)

    if device is None and not sim:
        raise InputError("say which treadmill: --device ADDR (see `retrotread scan`) or --sim")
    if device is not None and sim:
        raise InputError("--device and --sim exclude each other")
    if sim:
        from simulators.clock import run_virtual

        try:
            found = run_virtual(read_sim_device_info(sim_profile))
        except ValueError as err:
            raise InputError(f"--sim-profile {sim_profile}: {err}") from err
    else:
        assert device is not None
        found = asyncio.run(read_device_info(device))
    report = device_info_json(found)
    if as_json:
        print(json.dumps(report))
        return
    for key, value in report.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        print(f"{key:17} {shown}")
