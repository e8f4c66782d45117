"""`retrotread history [--json] [--limit N] [--all]`, `show SESSION [--json]`, `rate SESSION RPE`.

Past sessions for people: a table (dates in local time, speeds and distances in `[display]
units`, energy marked as an estimate), or SPEC's JSON. The use cases (`retrotread.review`) do
the work; this module formats. Warnings (a damaged journal, an index that cannot be written)
go to stderr, one line each, so `--json` output stays clean.
"""

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from retrotread.cli.app import QuietCommand, app
from retrotread.cli.tables import plain_table
from retrotread.wording import clock, duration, heart_rate_text, local_time, stop_cause

if TYPE_CHECKING:
    from retrotread.history.store import SessionRow
    from retrotread.review import SegmentView, SessionDetail

_Session = Annotated[
    str, typer.Argument(metavar="SESSION", help="A session id, a unique prefix, or 'last'.")
]
_INCOMPLETE = "incomplete"
_NO_WEIGHT_NOTE = "energy: set user.weight_kg in the config for an estimate"
_INCOMPLETE_NOTE = (
    "incomplete: the journal ends before the session's summary (cut off by a crash, or still"
    " running)"
)


def _warn(lines: list[str]) -> None:
    for line in lines:
        print(f"retrotread: warning: {line}", file=sys.stderr)


def _local(started_at: str) -> str:
    from datetime import datetime

    return local_time(datetime.fromisoformat(started_at))


def _outcome(row: "SessionRow") -> str:
    if not row.complete:
        words = _INCOMPLETE
    elif row.outcome == "completed":
        words = "completed"
    else:
        cause = stop_cause(row.stop_reason or "unknown")
        words = cause[:1].lower() + cause[1:]
    return words if row.listed else f"{words}, no telemetry"


def _kcal(kcal: float | None) -> str:
    return "" if kcal is None else f"~{kcal:.0f} kcal (est.)"


def _heart_rate(bpm: float | None, source: str | None) -> str:
    return "" if bpm is None else heart_rate_text(bpm, source)


@app.command(name="history", cls=QuietCommand)
def history_command(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per session, newest first.")
    ] = False,
    limit: Annotated[
        str | None, typer.Option("--limit", metavar="N", help="At most N sessions (newest).")
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also failed starts (journals without telemetry).")
    ] = False,
) -> None:
    """Past sessions from the journal, newest first.

    Dates are local time; energy is an estimate (set user.weight_kg for one).
    """
    from retrotread.cli.context import CliState
    from retrotread.review import history
    from retrotread.units import format_distance, format_speed

    state: CliState = ctx.obj
    found = history(state.config_file, limit=limit, include_hidden=show_all)
    _warn(found.warnings)
    if as_json:
        import json

        for item in found.json_objects():
            print(json.dumps(item))
        return
    if not found.rows:
        print("No sessions yet: `retrotread run --sim` walks one on the simulator.")
        return
    units = found.units
    header = [
        "started (local)",
        "program",
        "outcome",
        "time",
        "backward",
        "avg backward",
        "distance",
        "energy",
        "heart rate",
        "RPE",
    ]
    rows = [
        [
            _local(row.started_at),
            row.program or "",
            _outcome(row),
            duration(row.duration_s),
            duration(row.backward_s),
            "" if row.avg_speed_mph is None else format_speed(row.avg_speed_mph, units),
            format_distance(row.distance_m, units),
            _kcal(row.kcal(found.weight_kg)),
            _heart_rate(row.avg_heart_rate_bpm, row.heart_rate_source),
            "" if row.rpe is None else str(row.rpe),
        ]
        for row in found.rows
    ]
    print(plain_table(header, rows))
    if found.weight_kg is None:
        print(_NO_WEIGHT_NOTE)
    if any(not row.complete for row in found.rows):
        print(_INCOMPLETE_NOTE)


def _segment_row(segment: "SegmentView", units: str) -> list[str]:
    from retrotread.units import format_distance, format_speed

    incline = "" if segment.incline_pct is None else f", {segment.incline_pct:g} %"
    return [
        str(segment.index + 1),
        segment.name,
        segment.direction,
        duration(segment.planned_s),
        duration(segment.actual_s),
        format_speed(segment.target_mph, units) + incline,
        "" if segment.avg_speed_mph is None else format_speed(segment.avg_speed_mph, units),
        format_distance(segment.distance_m, units),
        _heart_rate(segment.avg_heart_rate_bpm, None),
    ]


def _print_detail(detail: "SessionDetail") -> None:
    from retrotread.units import format_distance, format_speed

    row, units = detail.row, detail.units
    print(f"Session {row.session}, started {_local(row.started_at)} (local time)")
    print(f"  program     {row.program or '(unknown)'}")
    print(f"  outcome     {_outcome(row)}")
    print(f"  device      {row.device or '(unknown)'}")
    print(f"  journal     {row.path}")
    print()
    print("Totals")
    print(
        f"  time        {duration(row.duration_s)} (backward {duration(row.backward_s)},"
        f" forward {duration(row.forward_s)})"
    )
    print(f"  distance    {format_distance(row.distance_m, units)}")
    average = ""
    if row.avg_speed_mph is not None:
        average = f"avg backward {format_speed(row.avg_speed_mph, units)}, "
    print(f"  speed       {average}max {format_speed(row.max_speed_mph, units)}")
    print(f"  energy      {_kcal(detail.kcal) or _NO_WEIGHT_NOTE.removeprefix('energy: ')}")
    if row.avg_heart_rate_bpm is not None:
        source = f" ({row.heart_rate_source})" if row.heart_rate_source else ""
        print(
            f"  heart rate  avg {row.avg_heart_rate_bpm:.0f} bpm,"
            f" max {row.max_heart_rate_bpm} bpm{source}"
        )
    else:
        print("  heart rate  none recorded")
    rpe = f"{row.rpe} (Borg 6-20)" if row.rpe is not None else "not rated (retrotread rate)"
    print(f"  RPE         {rpe}")
    print()
    if detail.segments:
        print("Segments")
        header = [
            "#",
            "segment",
            "direction",
            "planned",
            "actual",
            "target",
            "avg speed",
            "distance",
            "heart rate",
        ]
        print(plain_table(header, [_segment_row(s, units) for s in detail.segments]))
    else:
        print("Segments: none started")
    counts = ", ".join(f"{op} {n}" for op, n in detail.command_counts().items())
    failed = detail.failed_commands()
    verdict = f"; {len(failed)} failed" if failed else "; all succeeded"
    print()
    print(f"Commands: {len(detail.commands)}" + (f" ({counts}){verdict}" if counts else ""))
    for command in failed:
        print(f"  [{clock(command['t'])}] {command['op']}: {command['result']}")
    if detail.safety:
        print("Safety events:")
        for event in detail.safety:
            why = f" ({event['detail']})" if event.get("detail") else ""
            print(f"  [{clock(event['t'])}] {event['reason']} -> {event['action']}{why}")
    else:
        print("Safety events: none")
    if not row.complete:
        print(_INCOMPLETE_NOTE)


@app.command(cls=QuietCommand)
def show(
    ctx: typer.Context,
    session: _Session,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """One past session in detail: segments, commands, safety events, totals."""
    from retrotread.cli.context import CliState
    from retrotread.review import show as show_session

    state: CliState = ctx.obj
    detail = show_session(state.config_file, session)
    _warn(detail.warnings)
    if as_json:
        import json

        print(json.dumps(detail.json()))
        return
    _print_detail(detail)


@app.command(cls=QuietCommand)
def rate(
    ctx: typer.Context,
    session: _Session,
    rpe: Annotated[
        str,
        typer.Argument(
            metavar="RPE", help="How hard it felt, Borg 6-20 (6 no exertion, 20 maximal)."
        ),
    ],
) -> None:
    """Record how hard a session felt (Borg 6-20) after the fact; the latest rating counts."""
    from retrotread.cli.context import CliState
    from retrotread.review import rate as rate_session

    state: CliState = ctx.obj
    rating = rate_session(state.config_file, session, rpe)
    replaced = "" if rating.previous is None else f" (was {rating.previous})"
    print(f"session {rating.session}: RPE {rating.rpe}{replaced} recorded in {rating.path}")
