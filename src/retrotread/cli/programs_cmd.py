"""`retrotread programs [NAME]`: list the built-in programs, or show one with its segments.

A rich table on a terminal; plain, tab-free text otherwise (pipes, scripts); `--json` for machines.
"""

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from retrotread.cli.app import QuietCommand, app

if TYPE_CHECKING:
    from retrotread.session.plan import Plan, Segment
    from retrotread.session.programs import ProgramSummary


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _span(summary: "ProgramSummary") -> str:
    parts = []
    for direction, lo, hi in summary.speed_spans_mph:
        speeds = f"{lo:.1f}" if lo == hi else f"{lo:.1f}-{hi:.1f}"
        parts.append(f"{direction} {speeds} mph")
    return ", ".join(parts)


def _speed(segment: "Segment") -> str:
    if segment.target_mph is not None:
        return f"{segment.target_mph:.1f} mph"
    return f"{segment.min_mph:.1f}-{segment.max_mph:.1f} mph"


def _segment_row(index: int, segment: "Segment") -> list[str]:
    incline = "" if segment.incline_pct is None else f"{segment.incline_pct:g} %"
    zone = f"{segment.hr_min_bpm}-{segment.hr_max_bpm} bpm" if segment.has_hr_zone else ""
    return [
        str(index + 1),
        segment.name,
        segment.direction.value,
        _duration(segment.duration_s),
        _speed(segment),
        incline,
        zone,
    ]


def _summary(description: str) -> str:
    """The first sentence: the list stays one line per program."""
    first, _, _ = description.partition(". ")
    return first.rstrip(".") + "."


def _plain_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _print_table(title: str | None, header: list[str], rows: list[list[str]]) -> None:
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(*header, title=title, title_justify="left")
        for row in rows:
            table.add_row(*row)
        Console().print(table)
    else:
        if title:
            print(title)
        print(_plain_table(header, rows))


def _show_list(summaries: "list[ProgramSummary]") -> None:
    header = ["name", "time", "speeds", "description"]
    rows = [
        [item.name, _duration(item.duration_s), _span(item), _summary(item.description)]
        for item in summaries
    ]
    _print_table(None, header, rows)


def show_plan(plan: "Plan") -> None:
    """The plan with its segments, as `programs NAME` and `run --dry-run` print it."""
    from retrotread.session.programs import ProgramSummary

    print(f"{plan.name}: {plan.title}" if plan.title else plan.name)
    print(plan.description)
    turns = plan.direction_changes()
    extra = f", {turns} turn-arounds" if turns else ""
    summary = ProgramSummary.of_plan(plan)
    print(f"total {_duration(summary.duration_s)} ({_span(summary)}{extra})")
    print()
    header = ["#", "segment", "direction", "time", "speed", "incline", "heart rate"]
    rows = [_segment_row(index, segment) for index, segment in enumerate(plan.segments)]
    _print_table(None, header, rows)


@app.command(cls=QuietCommand)
def programs(
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="[NAME|FILE]",
            help="Show this program (or check this plan file) with its segments.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the built-in programs, or show one (or a plan file, checked) with its segments."""
    if name is None and not as_json:
        # The list reads the shipped files' summaries: validating them would import pydantic.
        from retrotread.session.programs import program_summaries

        _show_list(program_summaries())
        return
    import json

    from retrotread.session.programs import list_programs, program_or_plan

    plans = [program_or_plan(name)] if name is not None else list_programs()
    if as_json:
        dumped = [plan.model_dump(mode="json") for plan in plans]
        print(json.dumps(dumped[0] if name is not None else dumped))
    else:
        show_plan(plans[0])
