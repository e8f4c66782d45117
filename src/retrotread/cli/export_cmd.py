"""`retrotread export SESSION --format fit|tcx|csv -o FILE` and `plot SESSION -o FILE.png`.

The use cases (`retrotread.export`) render and write; this module parses and says what was
written, on one line (stderr when the file itself went to stdout, so a pipe gets only the
file). Warnings (a damaged or cut-off journal) go to stderr.
"""

import enum
import sys
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer

from retrotread.cli.app import QuietCommand, app

if TYPE_CHECKING:
    from retrotread.export import Written

_SESSION_HELP = "A session id, a unique prefix, or 'last'."


class ExportFormat(enum.StrEnum):
    fit = "fit"
    tcx = "tcx"
    csv = "csv"


def _stdout() -> "BinaryIO | None":
    """The bytes side of stdout (None when stdout is closed: `-o -` then says so)."""
    stream = sys.stdout
    return getattr(stream, "buffer", None) if stream is not None else None


def _on_terminal() -> bool:
    return sys.stdout is not None and sys.stdout.isatty()


def _report(written: "Written") -> None:
    from retrotread.export import FORMAT_NAMES

    for line in written.warnings:
        print(f"retrotread: warning: {line}", file=sys.stderr)
    where = "stdout" if written.path is None else str(written.path)
    cut = "" if written.complete else " (journal cut off: what it holds)"
    line = (
        f"session {written.session}: {FORMAT_NAMES[written.fmt]} written to {where}, "
        f"{written.size} bytes{cut}"
    )
    print(line, file=sys.stderr if written.path is None else sys.stdout)


@app.command(cls=QuietCommand)
def export(
    ctx: typer.Context,
    session: Annotated[str, typer.Argument(metavar="SESSION", help=_SESSION_HELP)],
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="fit (Strava, Garmin Connect: a treadmill walk), tcx, or csv (spreadsheets).",
        ),
    ],
    output: Annotated[
        str,
        typer.Option(
            "-o",
            "--output",
            metavar="FILE",
            help="Where to write: a file named *.fit, *.tcx or *.csv as --format says "
            "(a directory: <session>.<format> in it; - for stdout).",
        ),
    ],
) -> None:
    """A session as a file Strava, Garmin Connect or a spreadsheet accepts.

    FIT says what the session was (sport walking, sub-sport treadmill); TCX can only say
    "Other". Energy appears only as the estimate for backward walking, with user.weight_kg.
    """
    from retrotread.cli.context import CliState
    from retrotread.export import export_session

    state: CliState = ctx.obj
    written = export_session(
        state.config_file,
        session,
        fmt.value,
        output,
        stdout=_stdout(),
        stdout_is_terminal=_on_terminal(),
    )
    _report(written)


@app.command(cls=QuietCommand)
def plot(
    ctx: typer.Context,
    session: Annotated[str, typer.Argument(metavar="SESSION", help=_SESSION_HELP)],
    output: Annotated[
        str,
        typer.Option(
            "-o",
            "--output",
            metavar="FILE.png",
            help="Where to write the PNG: a file named *.png (a directory: <session>.png in "
            "it; - for stdout).",
        ),
    ],
) -> None:
    """Speed, target and heart rate over time, direction and safety events marked (PNG)."""
    from retrotread.cli.context import CliState
    from retrotread.export import plot_session

    state: CliState = ctx.obj
    written = plot_session(
        state.config_file,
        session,
        output,
        stdout=_stdout(),
        stdout_is_terminal=_on_terminal(),
    )
    _report(written)
