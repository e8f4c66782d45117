"""The typer app: parses, calls library functions, prints. Logic here is a bug.

Each command lives in its own module under `retrotread.cli` and registers itself on `app`; heavy
libraries are imported inside the command functions so that `--help` and `decode` stay quick.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from typer._click.exceptions import UsageError

from retrotread.cli.context import CliState, LogFormat
from retrotread.errors import RetrotreadError

app = typer.Typer(
    name="retrotread",
    help="Auto-paced backward-walking sessions on Bluetooth FTMS treadmills.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _global_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", help="Config file (TOML) instead of the user's.")
    ] = None,
    log_format: Annotated[
        LogFormat, typer.Option("--log-format", help="console or json; default by terminal.")
    ] = LogFormat.auto,
    verbose: Annotated[int, typer.Option("-v", "--verbose", count=True, help="More detail.")] = 0,
) -> None:
    from retrotread.logs import configure_logging

    configure_logging(log_format.value, verbose)
    if config is not None:
        # Checked here so that every command refuses it, not only those that read the config.
        from retrotread.inputs import check_regular_file

        check_regular_file(config, f"--config {config}")
    ctx.obj = CliState(config_file=config, log_format=log_format, verbose=verbose)


def _register_commands() -> None:
    # Imported for their side effect of adding commands to `app`.
    from retrotread.cli import commands  # noqa: F401


def run(argv: list[str]) -> int:
    """Run the app without click's standalone handling, so every failure becomes one line."""
    _register_commands()
    try:
        result = app(args=argv, prog_name="retrotread", standalone_mode=False)
    except UsageError as err:
        _fail(err.format_message())
        return 2
    except typer.Abort:
        print("retrotread: interrupted", file=sys.stderr)
        return 130
    except RetrotreadError as err:
        _fail(str(err))
        return err.exit_code
    except KeyboardInterrupt:
        print("retrotread: interrupted", file=sys.stderr)
        return 130
    return result if isinstance(result, int) else 0


def _fail(message: str) -> None:
    line = " ".join(message.split())
    print(f"retrotread: error: {line}", file=sys.stderr)
