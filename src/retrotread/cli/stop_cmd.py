"""`retrotread stop` with options: `--device` / `--sim` (direct FTMS Stop), `--mqtt` (the broker).

A plain `retrotread stop` never gets here (the stdlib fast path in `stop_fast` answers it), except
when global options come first (`retrotread -v stop`); then this command takes the same path.
What is stopped, in which order, and the exit code are `retrotread.stop`'s; this only prints.
"""

from __future__ import annotations

from typing import Annotated

import typer

from retrotread.cli.app import app
from retrotread.cli.context import CliState
from retrotread.cli.stop_fast import say
from retrotread.stop import DEFAULT_TIMEOUT_S, StopRequest, stop_everywhere


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
        str | None,
        typer.Option(
            "--sim-profile", help="Simulator profile for --sim (default: config [sim] profile)."
        ),
    ] = None,
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
    ] = DEFAULT_TIMEOUT_S,
) -> int:
    state: CliState = ctx.obj
    request = StopRequest(
        device=device,
        sim=sim,
        sim_profile=sim_profile,
        mqtt=mqtt,
        target_id=target_id,
        all_=all_,
        timeout_s=timeout,
        config_file=state.config_file,
    )
    return stop_everywhere(request, say)
