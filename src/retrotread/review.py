"""`retrotread history`, `show` and `rate`: past sessions looked back on, one use case each.

`history` reads the index (`history.store`), which is cheap on an unchanged data dir; `show` and
`rate` read the one journal SESSION names. The JSON shapes of SPEC.md are made here, so the CLI
only prints; people get the same values through the CLI's formatting.

`rate` is the only command that writes to a journal after its session: it appends one `rpe`
event (opened for appending, one line, flushed and fsynced, never rewriting what is there),
and refuses a journal that a session is still writing, or whose last line was cut off, since
either would leave a damaged line in the middle of the record.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrotread.errors import InputError
from retrotread.history.store import (
    Listing,
    SessionRow,
    damage_warning,
    list_sessions,
    read_events,
    read_session,
    resolve_journal,
    row_of,
)

if TYPE_CHECKING:
    from retrotread.config import Settings
    from retrotread.history.record import Lap, Sample, SessionLog

RPE_ARGUMENT = "RPE"
LIMIT_OPTION = "--limit"
# A journal without a summary that changed this recently may belong to a session still running
# (telemetry is written every second, so a live one is never this quiet).
STILL_WRITING_S = 15.0


# -- history --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    """The sessions to list, newest first, and what the listing needs to show them."""

    rows: list[SessionRow]
    weight_kg: float | None
    units: str
    warnings: list[str] = field(default_factory=list)

    def json_objects(self) -> list[dict[str, Any]]:
        """SPEC's `history --json` objects, one per session, newest first."""
        return [history_json(row, self.weight_kg) for row in self.rows]


def parse_limit(text: str | None) -> int | None:
    """`--limit N`: a whole number of sessions, at least 1."""
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise InputError(f"{LIMIT_OPTION} {text!r}: must be a whole number >= 1 (sessions)")
    return value


def history(
    config_file: Path | None, *, limit: str | None = None, include_hidden: bool = False
) -> History:
    """The past sessions (failed starts only with `include_hidden`), at most `limit`."""
    count = parse_limit(limit)
    settings = _settings(config_file)
    listing: Listing = list_sessions(
        settings.data_dir(), include_hidden=include_hidden, limit=count
    )
    return History(
        rows=listing.rows,
        weight_kg=settings.user.weight_kg,
        units=settings.display.units,
        warnings=listing.warnings,
    )


def history_json(row: SessionRow, weight_kg: float | None) -> dict[str, Any]:
    """One session as `history --json` prints it (SPEC.md), plus where its heart rate came
    from (`heart_rate_source`)."""
    return {
        "session": row.session,
        "started_at": row.started_at,
        "program": row.program,
        "outcome": row.outcome,
        "stop_reason": row.stop_reason,
        "duration_s": _round(row.duration_s, 1),
        "distance_m": _round(row.distance_m, 1),
        "max_speed_mph": _round(row.max_speed_mph, 2),
        "avg_speed_mph": _round(row.avg_speed_mph, 2),
        "backward_s": _round(row.backward_s, 1),
        "forward_s": _round(row.forward_s, 1),
        "kcal": _round(row.kcal(weight_kg), 1),
        "avg_heart_rate_bpm": _round(row.avg_heart_rate_bpm, 1),
        "heart_rate_source": row.heart_rate_source,
        "rpe": row.rpe,
        "device": row.device,
        "complete": row.complete,
    }


# -- show -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentView:
    """One segment (lap) as it ran, beside what the plan asked of it."""

    index: int
    name: str
    direction: str
    target_mph: float
    incline_pct: float | None
    planned_s: float
    actual_s: float
    start_t: float
    end_t: float
    avg_speed_mph: float | None
    distance_m: float
    avg_heart_rate_bpm: float | None

    def json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "direction": self.direction,
            "target_mph": self.target_mph,
            "incline_pct": self.incline_pct,
            "planned_s": _round(self.planned_s, 1),
            "actual_s": _round(self.actual_s, 1),
            "start_t": _round(self.start_t, 3),
            "end_t": _round(self.end_t, 3),
            "avg_speed_mph": _round(self.avg_speed_mph, 2),
            "distance_m": _round(self.distance_m, 1),
            "avg_heart_rate_bpm": _round(self.avg_heart_rate_bpm, 1),
        }


@dataclass(frozen=True)
class SessionDetail:
    """One past session in detail: `show`."""

    row: SessionRow
    segments: list[SegmentView]
    safety: list[dict[str, Any]]
    commands: list[dict[str, Any]]
    rpe_events: list[dict[str, Any]]
    weight_kg: float | None
    units: str
    warnings: list[str] = field(default_factory=list)

    @property
    def kcal(self) -> float | None:
        return self.row.kcal(self.weight_kg)

    def command_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for command in self.commands:
            counts[command["op"]] = counts.get(command["op"], 0) + 1
        return counts

    def failed_commands(self) -> list[dict[str, Any]]:
        return [c for c in self.commands if c["result"] != "success"]

    def json(self) -> dict[str, Any]:
        """`show --json`: the session, its totals, segments, safety events and commands."""
        row = self.row
        totals = history_json(row, self.weight_kg)
        header = {key: totals.pop(key) for key in _HEADER_KEYS}
        totals["max_heart_rate_bpm"] = row.max_heart_rate_bpm
        totals["net_met_minutes"] = _round(row.net_met_minutes, 2)
        totals["commands"] = len(self.commands)
        totals["safety_events"] = len(self.safety)
        return {
            **header,
            "journal": str(row.path),
            "damaged_lines": list(row.bad_lines),
            "totals": totals,
            "segments": [segment.json() for segment in self.segments],
            "safety": self.safety,
            "commands": self.commands,
            "ratings": self.rpe_events,
        }


_HEADER_KEYS = ("session", "started_at", "program", "outcome", "stop_reason", "device", "complete")


def show(config_file: Path | None, ref: str) -> SessionDetail:
    """The session SESSION names (an id, a unique prefix, or `last`); InputError (exit 2) when
    it names none."""
    settings = _settings(config_file)
    path = resolve_journal(settings.data_dir(), ref)
    log, bad_lines = _read(path)
    row = row_of(log, path, bad_lines)
    return SessionDetail(
        row=row,
        segments=[
            _segment_view(log, lap, last=i == len(log.laps) - 1) for i, lap in enumerate(log.laps)
        ],
        safety=[_event_json(e) for e in log.safety],
        commands=[_event_json(e) for e in log.commands],
        rpe_events=[_event_json(e) for e in log.rpe_events],
        weight_kg=settings.user.weight_kg,
        units=settings.display.units,
        warnings=[damage_warning([row])] if bad_lines else [],
    )


def _segment_view(log: SessionLog, lap: Lap, last: bool) -> SegmentView:
    from retrotread.history.record import average_heart_rate, average_speed_mph

    # The last segment runs until the stop, and its sample at the stop belongs to it.
    samples = [
        s
        for s in log.samples
        if lap.start_t <= s.t and (s.t < lap.end_t or (last and s.t <= lap.end_t))
    ]
    return SegmentView(
        index=lap.index,
        name=lap.name,
        direction=lap.direction.value,
        target_mph=lap.target_mph,
        incline_pct=lap.incline_pct,
        planned_s=lap.planned_s,
        actual_s=lap.duration_s,
        start_t=lap.start_t,
        end_t=lap.end_t,
        avg_speed_mph=average_speed_mph(samples),
        distance_m=_lap_distance(log, lap, samples),
        avg_heart_rate_bpm=average_heart_rate(samples),
    )


def _lap_distance(log: SessionLog, lap: Lap, samples: list[Sample]) -> float:
    """The machine's distance over the lap when it reports one, else the belt speed integrated."""
    reported = [(s.t, s.distance_m) for s in log.samples if s.distance_m is not None]
    if not reported:
        return sum(s.speed_kmh / 3.6 * s.dt_s for s in samples)
    before = [d for t, d in reported if t <= lap.start_t]
    until = [d for t, d in reported if t <= lap.end_t]
    start = before[-1] if before else reported[0][1]
    end = until[-1] if until else start
    return max(0.0, end - start)


def _event_json(event: Any) -> dict[str, Any]:
    data: dict[str, Any] = event.model_dump(mode="json", exclude_none=True)
    return data


# -- rate -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rating:
    """What `rate` recorded: the session, its journal, the new RPE and the one it replaces."""

    session: str
    path: Path
    rpe: int
    previous: int | None


def parse_rpe(text: str) -> int:
    """RPE on Borg's scale: a whole number within 6..20."""
    from retrotread.validation import check_rpe

    rpe = check_rpe(text, RPE_ARGUMENT)
    assert rpe is not None  # text is never None
    return rpe


def rate(config_file: Path | None, ref: str, rpe_text: str) -> Rating:
    """Append how hard SESSION felt to its journal (an `rpe` event, source `rate`, at the
    journal's last `t`); the latest rating counts. InputError (exit 2) for an RPE outside
    6..20, an unknown SESSION, or a journal that cannot take one more line safely."""
    from retrotread.events import RpeEvent, SummaryEvent
    from retrotread.session.journal import append_event

    rpe = parse_rpe(rpe_text)
    settings = _settings(config_file)
    path = resolve_journal(settings.data_dir(), ref)
    try:
        events = read_events(path).events
        ending = _last_byte(path)
    except OSError as err:
        raise InputError(f"SESSION {ref!r}: journal {path} cannot be read ({err})") from None
    if _still_running(path, ended=any(isinstance(e, SummaryEvent) for e in events)):
        raise InputError(
            f"SESSION {path.stem} is still running (its journal is being written): rate it"
            " once the session has ended"
        )
    if ending not in (b"", b"\n"):
        raise InputError(
            f"SESSION {path.stem}: its journal {path} ends in a line cut off by a crash; "
            "appending to it would damage the record"
        )
    previous = next((e.rpe for e in reversed(events) if isinstance(e, RpeEvent)), None)
    event = RpeEvent(t=events[-1].t if events else 0.0, rpe=rpe, source="rate")
    try:
        append_event(path, event)
    except OSError as err:
        raise InputError(f"SESSION {path.stem}: journal {path} cannot be written ({err})") from None
    return Rating(session=path.stem, path=path, rpe=rpe, previous=previous)


def _last_byte(path: Path) -> bytes:
    with path.open("rb") as journal:
        journal.seek(0, os.SEEK_END)
        if journal.tell() == 0:
            return b""
        journal.seek(-1, os.SEEK_END)
        return journal.read(1)


def _still_running(path: Path, *, ended: bool) -> bool:
    """A session is still writing this journal: its control socket answers, or (a session
    without one) a journal without its summary changed in the last few seconds."""
    from retrotread.channels.socket import paths

    for directory in paths.search_dirs():
        socket = paths.socket_path(directory, path.stem)
        if os.path.exists(socket) and not paths.is_stale(socket):
            return True
    return not ended and time.time() - path.stat().st_mtime < STILL_WRITING_S


# -- shared ---------------------------------------------------------------------------------------


def _settings(config_file: Path | None) -> Settings:
    from retrotread.config import load_settings

    return load_settings(config_file)


def _read(path: Path) -> tuple[SessionLog, tuple[int, ...]]:
    try:
        return read_session(path)
    except OSError as err:
        raise InputError(f"journal {path} cannot be read ({err.strerror or err})") from None


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)
