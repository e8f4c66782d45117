"""One past session, read back from its journal: the typed view every history command shares.

The journal (JSON Lines, `session/journal.py`) is the source of truth; a `SessionLog` is a pure
function of its events, so `history`, `show`, the exports, the plot and the coach all agree on
what a session was. A journal cut off by a crash still reads (`complete` is False) and holds
whatever it recorded.

Time: `t` is session seconds (virtual seconds on the simulator); `started_at` is the wall-clock
start, taken from the session id (ids are UTC start stamps, `session/journal.new_session_id`),
so a sample's wall time is `started_at + t`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from retrotread import energy
from retrotread.events import (
    CommandEvent,
    ConnectedEvent,
    CueEvent,
    Direction,
    Event,
    RpeEvent,
    SafetyEvent,
    SegmentEvent,
    StoppedEvent,
    SummaryEvent,
    TelemetryEvent,
    facing_at_start,
)
from retrotread.session.journal import read_journal

_ID_STAMP = "%Y%m%dT%H%M%SZ"


def started_at_of(session_id: str, fallback: datetime | None = None) -> datetime:
    """The UTC start of a session from its id (`20261201T094915Z-6243`), else `fallback` (the
    file's modification time), else the epoch."""
    try:
        return datetime.strptime(session_id.split("-", 1)[0], _ID_STAMP).replace(tzinfo=UTC)
    except ValueError:
        return fallback or datetime.fromtimestamp(0, UTC)


@dataclass(frozen=True)
class Sample:
    """One telemetry sample, with the segment (lap) it fell in and that segment's direction."""

    t: float
    speed_mph: float
    speed_kmh: float
    distance_m: float | None
    incline_pct: float | None
    heart_rate_bpm: int | None
    heart_rate_source: str | None
    direction: Direction
    segment: int | None  # index of the segment event before it; None before the first
    dt_s: float  # seconds this sample stands for (to the next one, 0 after a long gap / at the end)

    @property
    def moving(self) -> bool:
        return self.speed_mph >= energy.STANDSTILL_MPH


@dataclass(frozen=True)
class Lap:
    """One segment as it ran: from its `segment` event to the next one (or the session's end)."""

    index: int
    name: str
    direction: Direction
    target_mph: float
    planned_s: float
    start_t: float
    end_t: float
    incline_pct: float | None

    @property
    def duration_s(self) -> float:
        return max(0.0, self.end_t - self.start_t)


@dataclass(frozen=True)
class SessionLog:
    """A session as its journal tells it. Build with `SessionLog.read(path)` or `from_events`."""

    id: str
    path: Path | None
    events: tuple[Event, ...]
    started_at: datetime
    connected: ConnectedEvent | None = None
    summary: SummaryEvent | None = None
    stopped: StoppedEvent | None = None
    samples: tuple[Sample, ...] = ()
    laps: tuple[Lap, ...] = ()
    safety: tuple[SafetyEvent, ...] = ()
    commands: tuple[CommandEvent, ...] = ()
    cues: tuple[CueEvent, ...] = ()
    rpe_events: tuple[RpeEvent, ...] = field(default=())

    # -- building -----------------------------------------------------------------------------

    @classmethod
    def read(cls, path: Path) -> SessionLog:
        """Read one journal (InputError for damage before its last line, OSError as raised)."""
        return cls.of_journal(path, read_journal(path))

    @classmethod
    def of_journal(cls, path: Path, events: Iterable[Event]) -> SessionLog:
        """The session of the journal at `path`, from its events as read: its id is the file's
        name, and the file's modification time its start should the id not say."""
        try:
            mtime: datetime | None = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except OSError:
            mtime = None
        return cls.from_events(path.stem, events, path=path, fallback_start=mtime)

    @classmethod
    def from_events(
        cls,
        session_id: str,
        events: Iterable[Event],
        *,
        path: Path | None = None,
        fallback_start: datetime | None = None,
    ) -> SessionLog:
        events = tuple(events)
        end_t = events[-1].t if events else 0.0
        segments = [e for e in events if isinstance(e, SegmentEvent)]
        telemetry = [e for e in events if isinstance(e, TelemetryEvent)]
        stopped = next((e for e in events if isinstance(e, StoppedEvent)), None)
        connected = next((e for e in events if isinstance(e, ConnectedEvent)), None)
        laps = _laps(segments, stopped.t if stopped is not None else end_t)
        return cls(
            id=session_id,
            path=path,
            events=events,
            started_at=started_at_of(session_id, fallback_start),
            connected=connected,
            summary=next((e for e in reversed(events) if isinstance(e, SummaryEvent)), None),
            stopped=stopped,
            samples=_samples(telemetry, segments, facing_at_start(connected)),
            laps=laps,
            safety=tuple(e for e in events if isinstance(e, SafetyEvent)),
            commands=tuple(e for e in events if isinstance(e, CommandEvent)),
            cues=tuple(e for e in events if isinstance(e, CueEvent)),
            rpe_events=tuple(e for e in events if isinstance(e, RpeEvent)),
        )

    # -- what it was ----------------------------------------------------------------------------

    @property
    def complete(self) -> bool:
        """The session got as far as its `summary`: not cut off by a crash."""
        return self.summary is not None

    @property
    def worth_listing(self) -> bool:
        """The belt was seen moving: a start that failed (refused control, a rejected Start,
        a machine that reported only zeros) is no session to list by default (`history --all`
        still shows it)."""
        return any(s.moving for s in self.samples)

    @property
    def program(self) -> str | None:
        if self.summary is not None and self.summary.program is not None:
            return self.summary.program
        return self.connected.program if self.connected is not None else None

    @property
    def plan(self) -> dict[str, Any] | None:
        """The plan as run (the schema of a plan file), when the journal recorded it."""
        return self.connected.plan if self.connected is not None else None

    @property
    def device(self) -> str | None:
        return self.connected.device if self.connected is not None else None

    @property
    def outcome(self) -> str:
        """`completed` / `stopped` from the summary; `incomplete` for a cut-off journal."""
        return self.summary.outcome if self.summary is not None else "incomplete"

    @property
    def stop_reason(self) -> str | None:
        return self.stopped.reason if self.stopped is not None else None

    @property
    def rpe(self) -> int | None:
        """The latest RPE recorded (a `rate` afterwards replaces the one asked at the end)."""
        return self.rpe_events[-1].rpe if self.rpe_events else None

    def wall_time(self, t: float) -> datetime:
        return self.started_at + timedelta(seconds=t)

    # -- totals ---------------------------------------------------------------------------------

    @property
    def duration_s(self) -> float:
        if self.summary is not None:
            return self.summary.duration_s
        return self.events[-1].t if self.events else 0.0

    @cached_property
    def distance_m(self) -> float:
        """The machine's distance when it reports one (summary, else its last sample), else the
        belt speed integrated over the samples."""
        if self.summary is not None:
            return self.summary.distance_m
        reported = [s.distance_m for s in self.samples if s.distance_m is not None]
        if reported:
            return max(reported) - min(reported)
        return sum(s.speed_kmh / 3.6 * s.dt_s for s in self.samples)

    @cached_property
    def max_speed_mph(self) -> float:
        if self.summary is not None:
            return self.summary.max_speed_mph
        return max((s.speed_mph for s in self.samples), default=0.0)

    def moving_s(self, direction: Direction) -> float:
        """Seconds the belt moved with the walker facing `direction`."""
        return sum(s.dt_s for s in self.samples if s.direction is direction and s.moving)

    @cached_property
    def backward_s(self) -> float:
        return self.moving_s(Direction.backward)

    @cached_property
    def forward_s(self) -> float:
        return self.moving_s(Direction.forward)

    @cached_property
    def avg_backward_mph(self) -> float | None:
        """Time-weighted belt speed while moving backward; None with no backward walking."""
        return average_speed_mph(s for s in self.samples if s.direction is Direction.backward)

    @cached_property
    def avg_heart_rate_bpm(self) -> float | None:
        return average_heart_rate(self.samples)

    @cached_property
    def max_heart_rate_bpm(self) -> int | None:
        return max_heart_rate(self.samples)

    @cached_property
    def net_met_minutes(self) -> float:
        """The weight-free energy estimate (`retrotread.energy`): kcal = this x 3.5 x kg / 200."""
        return net_met_minutes(self.samples)

    @cached_property
    def heart_rate_sources(self) -> tuple[str, ...]:
        """Where the heart rate came from (`strap`, `treadmill`), most samples first (by name
        between equals); empty without heart rate."""
        counts: dict[str, int] = {}
        for sample in self.samples:
            if sample.heart_rate_bpm and sample.heart_rate_source:
                counts[sample.heart_rate_source] = counts.get(sample.heart_rate_source, 0) + 1
        return tuple(sorted(counts, key=lambda name: (-counts[name], name)))

    def kcal(self, weight_kg: float | None) -> float | None:
        """The energy estimate for `weight_kg`; None without a weight (SPEC.md)."""
        return energy.kcal_from_met_minutes(self.net_met_minutes, weight_kg)


# -- over any stretch of samples (a session, a lap) -----------------------------------------------


def average_speed_mph(samples: Iterable[Sample]) -> float | None:
    """Time-weighted belt speed while it moved; None when it did not move."""
    moving = [s for s in samples if s.moving]
    seconds = sum(s.dt_s for s in moving)
    if seconds <= 0:
        return None
    return sum(s.speed_mph * s.dt_s for s in moving) / seconds


def average_heart_rate(samples: Iterable[Sample]) -> float | None:
    """Time-weighted; a plain mean when no sample with a heart rate has a duration (a single
    one, the last)."""
    rates = [(s.heart_rate_bpm, s.dt_s) for s in samples if s.heart_rate_bpm]
    seconds = sum(dt for _, dt in rates)
    if seconds > 0:
        return sum(bpm * dt for bpm, dt in rates) / seconds
    return sum(bpm for bpm, _ in rates) / len(rates) if rates else None


def max_heart_rate(samples: Iterable[Sample]) -> int | None:
    return max((s.heart_rate_bpm for s in samples if s.heart_rate_bpm), default=None)


def net_met_minutes(samples: Iterable[Sample]) -> float:
    """The weight-free energy estimate of the samples (`retrotread.energy.net_met_minutes`)."""
    return sum(
        energy.net_met_minutes(
            s.speed_mph, s.incline_pct or 0.0, s.dt_s, backward=s.direction is Direction.backward
        )
        for s in samples
    )


def _laps(segments: Sequence[SegmentEvent], end_t: float) -> tuple[Lap, ...]:
    laps = []
    for i, seg in enumerate(segments):
        stop = segments[i + 1].t if i + 1 < len(segments) else max(end_t, seg.t)
        laps.append(
            Lap(
                index=seg.index,
                name=seg.name,
                direction=seg.direction,
                target_mph=seg.target_mph,
                planned_s=seg.duration_s,
                start_t=seg.t,
                end_t=stop,
                incline_pct=seg.incline_pct,
            )
        )
    return tuple(laps)


def _samples(
    telemetry: Sequence[TelemetryEvent], segments: Sequence[SegmentEvent], facing: Direction
) -> tuple[Sample, ...]:
    """Each sample with its segment; before the first segment starts (the countdown, the first
    ramp) the walker faces `facing`, the way the plan's first segment goes."""
    samples = []
    seg_i = -1
    for i, tel in enumerate(telemetry):
        while seg_i + 1 < len(segments) and segments[seg_i + 1].t <= tel.t:
            seg_i += 1
        segment = segments[seg_i] if seg_i >= 0 else None
        gap = telemetry[i + 1].t - tel.t if i + 1 < len(telemetry) else 0.0
        samples.append(
            Sample(
                t=tel.t,
                speed_mph=tel.speed_mph,
                speed_kmh=tel.speed_kmh,
                distance_m=tel.distance_m,
                incline_pct=tel.incline_pct,
                heart_rate_bpm=tel.heart_rate_bpm,
                heart_rate_source=tel.heart_rate_source,
                direction=segment.direction if segment is not None else facing,
                segment=segment.index if segment is not None else None,
                dt_s=energy.counted_s(gap),
            )
        )
    return tuple(samples)
