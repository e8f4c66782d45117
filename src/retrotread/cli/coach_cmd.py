"""`retrotread coach [--json]`: the next session suggested from history, as a plan file."""

from typing import Annotated

import typer

from retrotread.cli.app import app
from retrotread.cli.context import CliState


@app.command()
def coach(
    ctx: typer.Context,
    json_output: Annotated[
        bool, typer.Option("--json", help="The plan as one JSON object (with its `reason`).")
    ] = False,
) -> None:
    """The next session, suggested from your past sessions, as a plan.

    Prints TOML that `retrotread run --plan FILE` accepts (`--json`: the same plan as JSON);
    `reason` says why in one line. `retrotread run --coach` walks it straight away.
    """
    from retrotread.coach import coach as suggest

    state: CliState = ctx.obj
    answer = suggest(state.config_file)
    print(answer.json() if json_output else answer.toml(), end="\n" if json_output else "")
