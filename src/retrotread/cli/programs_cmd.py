"""`retrotread programs [NAME]`: list the built-in programs, or show one with its segments.

A rich table on a terminal; plain, tab-free text otherwise (pipes, scripts); `--json` for machines.
Speeds read in the `[display] units`; JSON keeps the plan file's mph.
"""

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from retrotread.cli.app import QuietCommand, app
from retrotread.cli.tables import plain_table

if TYPE_CHECKING:
    from retrotread.session.plan import Plan, Segment
    from retrotread.session.programs import ProgramSummary


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _speeds(lo: float, hi: float, units: str) -> str:
    from retrotread.units import format_speed

    if format_speed(lo, units) == format_speed(hi, units):
        return format_speed(lo, units)
    return f"{format_speed(lo, units, unit=False)}-{format_speed(hi, units)}"


def _span(summary: "ProgramSummary", units: str) -> str:
    parts = [
        f"{direction} {_speeds(lo, hi, units)}" for direction, lo, hi in summary.speed_spans_mph
    ]
    return ", ".join(parts)


def _speed(segment: "Segment", units: str) -> str:
    return _speeds(segment.start_mph, segment.ceiling_mph, units)  # a target, or a range


def _segment_row(index: int, segment: "Segment", units: str) -> list[str]:
    incline = "" if segment.incline_pct is None else f"{segment.incline_pct:g} %"
    zone = f"{segment.hr_min_bpm}-{segment.hr_max_bpm} bpm" if segment.has_hr_zone else ""
    return [
        str(index + 1),
        segment.name,
        segment.direction.value,
        _duration(segment.duration_s),
        _speed(segment, units),
        incline,
        zone,
    ]


def _turnaround(plan: "Plan") -> str:
    """How the plan turns around, where it says (a resolved plan, `run --dry-run`, always does)."""
    how = {"floor": "slowing to the floor", "pause": "pausing the belt"}.get(
        plan.turnaround_mode or ""
    )
    hold = f"{plan.turnaround_hold_s:g} s to turn" if plan.turnaround_hold_s else None
    said = ", ".join(part for part in (how, hold) if part)
    return f": {said}" if said else ""


def _summary(description: str) -> str:
    """The first sentence: the list stays one line per program."""
    first, _, _ = description.partition(". ")
    return first.rstrip(".") + "."


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
        print(plain_table(header, rows))


def _show_list(summaries: "list[ProgramSummary]", units: str) -> None:
    header = ["name", "time", "speeds", "description"]
    rows = [
        [item.name, _duration(item.duration_s), _span(item, units), _summary(item.description)]
        for item in summaries
    ]
    _print_table(None, header, rows)


def show_plan(plan: "Plan", units: str = "imperial") -> None:
    """The plan with its segments, as `programs NAME` and `run --dry-run` print it, speeds in
    `units` ([display] units)."""
    from retrotread.session.programs import ProgramSummary

    print(f"{plan.name}: {plan.title}" if plan.title else plan.name)
    print(plan.description)
    turns = plan.direction_changes()
    extra = f", {turns} turn-arounds{_turnaround(plan)}" if turns else ""
    summary = ProgramSummary.of_plan(plan)
    print(f"total {_duration(summary.duration_s)} ({_span(summary, units)}{extra})")
    print()
    header = ["#", "segment", "direction", "time", "speed", "incline", "heart rate"]
    rows = [_segment_row(index, segment, units) for index, segment in enumerate(plan.segments)]
    _print_table(None, header, rows)


@app.command(cls=QuietCommand)
def programs(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="[NAME|FILE]",
            help="Show this program (or check this plan file) with its segments.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the built-in programs, or show one (or a plan file, checked) with its segments.

    Speeds in the config's [display] units (mph or km/h); --json keeps the plan file's mph.
    """
    from retrotread.cli.context import CliState

    state: CliState = ctx.obj
    if name is None and not as_json:
        # The list reads the shipped files' summaries: validating them would import pydantic.
        from retrotread.session.programs import display_units, program_summaries

        _show_list(program_summaries(), display_units(state.config_file))
        return
    import json

    from retrotread.session.programs import display_units, list_programs, program_or_plan

    plans = [program_or_plan(name)] if name is not None else list_programs()
    if as_json:
        dumped = [plan.model_dump(mode="json") for plan in plans]
        print(json.dumps(dumped[0] if name is not None else dumped))
    else:
        show_plan(plans[0], display_units(state.config_file))
