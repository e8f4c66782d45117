"""`retrotread config [--json]`: the effective settings and where each came from."""

from typing import Annotated

import typer

from retrotread.cli.app import app
from retrotread.cli.context import CliState


@app.command(name="config")
def config_command(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """The effective settings and where each came from (default, file, environment).

    Secrets are never printed, only whether one is set. A bad setting exits 2 naming it.
    """
    import json

    from retrotread.config import effective_settings, load_settings

    state: CliState = ctx.obj
    report = effective_settings(load_settings(state.config_file))
    if json_output:
        print(json.dumps(report))
        return
    for section, entries in report.items():
        for key, entry in entries.items():
            print(f"{section}.{key} = {json.dumps(entry['value'])}  ({entry['source']})")
