"""The typer app: parses, calls library functions, prints. Logic here is a bug.

Each command lives in its own module under `retrotread.cli` and registers itself on `app`.
Start-up is part of the interface (a command should start like a native tool), so nothing is
imported or built before it is needed: a command's module is imported and its click command
built only when that command runs or help lists it (`retrotread.cli.commands`), the command
modules import their libraries inside the command functions, typer's pydantic-based conversion
is bypassed for plain parameters (`retrotread.cli.coercion`), help is formatted without rich, and
logging (structlog) is set up only for the commands that log. The CLI modules do without
`from __future__ import annotations`: typer reads a command's signature three times as it builds
it, and would evaluate string annotations each time.
"""

import copy
import importlib
import sys
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Annotated, Any, ClassVar

import typer
from typer._click.core import Command as ClickCommand
from typer._click.core import Context, Parameter, ParameterSource
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer._click.formatting import HelpFormatter
from typer._click.utils import make_default_short_help
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_from_info, get_command_name
from typer.models import CommandFunctionType, CommandInfo

from retrotread.cli.coercion import convert_without_pydantic
from retrotread.cli.commands import COMMAND_MODULES, COMMAND_SUMMARIES
from retrotread.cli.context import CliState, LogFormat
from retrotread.errors import RetrotreadError

# The options of the synopsis `retrotread [--config FILE] [--log-format ...] [-v] COMMAND`, by
# parameter name; every command accepts them after its name too (`retrotread run --sim -v`).
GLOBAL_OPTIONS = ("config", "log_format", "verbose")


class Command(TyperCommand):
    """A command that also takes the global options after its name.

    Given before and after the command, `-v` counts both, and `--config` / `--log-format`
    after the command win. The merged options are applied (config file checked, logging set
    up) just before the command runs, so a command sees one `CliState` however they were typed.
    """

    # Whether the command logs: setting up logging imports structlog, which is most of the
    # start-up time of a command that only decodes bytes or reads shipped files.
    sets_up_logging: ClassVar[bool] = True

    def get_params(self, ctx: Context) -> list[Parameter]:
        params = super().get_params(ctx)
        convert_without_pydantic(params)  # the help option is made here, hence not in __init__
        return params

    def invoke(self, ctx: Context) -> Any:
        before = ctx.obj if isinstance(ctx.obj, CliState) else CliState()
        after = {name: ctx.params.pop(name) for name in GLOBAL_OPTIONS if name in ctx.params}

        def given_after(name: str) -> bool:
            return name in after and ctx.get_parameter_source(name) not in (
                None,
                ParameterSource.DEFAULT,
            )

        state = CliState(
            config_file=after["config"] if given_after("config") else before.config_file,
            log_format=after["log_format"] if given_after("log_format") else before.log_format,
            verbose=before.verbose + (after["verbose"] if given_after("verbose") else 0),
        )
        _apply(state, logging=self.sets_up_logging)
        ctx.obj = state
        return super().invoke(ctx)


class QuietCommand(Command):
    """A command that never logs (decode, programs): no logging set-up, no structlog import."""

    sets_up_logging = False


class Group(TyperGroup):
    """The top-level group: its commands are built on first use (`LazyCommands`), and each
    gets the global options, which it parses too."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        shared = [param for param in self.params if param.name in GLOBAL_OPTIONS]
        self.commands = LazyCommands(shared)

    def get_params(self, ctx: Context) -> list[Parameter]:
        params = super().get_params(ctx)
        # Here, not in __init__: typer adds the completion options after creating the group,
        # and the help option is made here.
        convert_without_pydantic(params)
        return params

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        """The command list from `COMMAND_SUMMARIES`: help builds no command (building all of
        them cost `--help` most of its start-up), only those without a summary."""
        names = sorted(self.commands)  # the names alone: typer's list_commands builds each
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in COMMAND_SUMMARIES:
                rows.append((name, make_default_short_help(COMMAND_SUMMARIES[name], limit)))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


class LazyCommands(MutableMapping[str, ClickCommand]):
    """The group's commands by name: every name is known up front (for suggestions after a
    typo), and a command's module is imported and its click command built on first lookup."""

    def __init__(self, global_options: list[Parameter]) -> None:
        self._global_options = global_options
        self._built: dict[str, ClickCommand] = {}

    def __getitem__(self, name: str) -> ClickCommand:
        if name not in self._built:
            if name not in app.command_infos and name in COMMAND_MODULES:
                importlib.import_module(COMMAND_MODULES[name])  # registers it on `app`
            command = get_command_from_info(
                app.command_infos[name],
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode,
            )
            if isinstance(command, Command):
                command.params.extend(copy.copy(param) for param in self._global_options)
            self._built[name] = command
        return self._built[name]

    def __setitem__(self, name: str, command: ClickCommand) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        raise TypeError("commands cannot be removed from the app")

    def __iter__(self) -> Iterator[str]:
        yield from COMMAND_MODULES
        yield from (name for name in app.command_infos if name not in COMMAND_MODULES)

    def __len__(self) -> int:
        return len(COMMAND_MODULES.keys() | app.command_infos.keys())

    def __contains__(self, name: object) -> bool:
        return name in COMMAND_MODULES or name in app.command_infos


class App(typer.Typer):
    """A typer app whose commands are `Command`s unless a command names another class, kept
    by name for `LazyCommands` to build when needed (typer would build every command at once)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.command_infos: dict[str, CommandInfo] = {}

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        register = super().command(name, cls=cls or Command, **kwargs)

        def decorator(function: CommandFunctionType) -> CommandFunctionType:
            register(function)
            info = self.registered_commands.pop()
            self.command_infos[name or get_command_name(function.__name__)] = info
            return function

        return decorator


app = App(
    name="retrotread",
    help="Auto-paced backward-walking sessions on Bluetooth FTMS treadmills.",
    cls=Group,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    # `--install-completion` / `--show-completion` (the shell is detected): typer's completion.
    add_completion=True,
    pretty_exceptions_enable=False,
    # Plain help: rich would add its import to every `--help` and nothing a person needs.
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        from retrotread.cli import version_line

        print(version_line())
        raise typer.Exit(0)


@app.callback()
def _global_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", metavar="FILE", help="Config file (TOML) instead of the user's."),
    ] = None,
    log_format: Annotated[
        LogFormat, typer.Option("--log-format", help="console or json; default by terminal.")
    ] = LogFormat.auto,
    verbose: Annotated[
        int,
        typer.Option(
            "-v",
            "--verbose",
            count=True,
            show_default=False,
            help="More detail (-vv: libraries' too).",
        ),
    ] = 0,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            expose_value=False,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    # Only recorded here: the command merges in the options given after its name and applies
    # them (`Command.invoke`).
    ctx.obj = CliState(config_file=config, log_format=log_format, verbose=verbose)


def _apply(state: CliState, *, logging: bool) -> None:
    if logging:
        from retrotread.logs import configure_logging

        configure_logging(state.log_format.value, state.verbose)
    if state.config_file is not None:
        # Checked here so that every command refuses it, not only those that read the config.
        from retrotread.inputs import check_regular_file

        check_regular_file(state.config_file, f"--config {state.config_file}")


def run(argv: list[str]) -> int:
    """Run the app without click's standalone handling, so every failure becomes one line."""
    try:
        result = app(args=argv, prog_name="retrotread", standalone_mode=False)
    except NoArgsIsHelpError as err:
        # A bare `retrotread` asks what there is: the help, as `--help` prints it, exit 0.
        print(err.format_message())
        return 0
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
