"""A session laid out in time for the files made from it: laps that tile the session, the
pauses, the distance at every sample, the commanded speed. Pure functions of a `SessionLog`.

The FIT and TCX exports and the plot need the same answers (where a lap begins and ends, which
samples it holds, how far the belt went in it, when the walker paused), and a file that says
one thing in its laps and another in its records is one that Garmin Connect rejects or shows
wrongly. So they are computed once, here.

Laps tile the session: the first starts at the session's start (t = 0) and takes the samples
from before the first segment began (the countdown, the belt at rest); each later one starts
at its segment event; the last ends at the session's end. A journal with no segment at all
(cut off early) still has one lap, the whole session: FIT and TCX both need at least one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from retrotread import energy
from retrotread.events import Direction
from retrotread.history.record import (
    Lap,
    Sample,
    SessionLog,
    average_heart_rate,
    max_heart_rate,
    net_met_minutes,
)

MPS_PER_KMH = 1 / 3.6
# A pause the pacer asks for to let the walker turn is part of walking the program, not a
# break: the activity's timer runs through it.
TURNAROUND_SOURCE = "turnaround"


@dataclass(frozen=True)
class Pause:
    """The belt held paused on request (not for a turn-around): from the successful pause
    command to the next successful start (a resume), or to the session's end."""

    start_t: float
    end_t: float
    source: str | None

    @property
    def duration_s(self) -> float:
        return max(0.0, self.end_t - self.start_t)


@dataclass(frozen=True)
class LapSpan:
    """One lap of an export: a segment (`lap`, None for a journal with no segment) over the
    stretch of the session it covers, with its samples and their cumulative distances."""

    number: int  # 0-based position among the laps
    lap: Lap | None
    start_t: float
    end_t: float
    samples: tuple[Sample, ...]
    start_distance_m: float
    end_distance_m: float
    paused_s: float

    @property
    def elapsed_s(self) -> float:
        return max(0.0, self.end_t - self.start_t)

    @property
    def timer_s(self) -> float:
        """Elapsed time less the pauses in it: what a watch's timer would show."""
        return max(0.0, self.elapsed_s - self.paused_s)

    @property
    def distance_m(self) -> float:
        return max(0.0, self.end_distance_m - self.start_distance_m)

    @property
    def direction(self) -> Direction:
        return self.lap.direction if self.lap is not None else Direction.backward

    @property
    def name(self) -> str:
        return self.lap.name if self.lap is not None else "session"

    @property
    def avg_speed_mps(self) -> float | None:
        return self.distance_m / self.timer_s if self.timer_s > 0 else None

    @property
    def max_speed_mps(self) -> float | None:
        if not self.samples:
            return None
        return max(s.speed_kmh for s in self.samples) * MPS_PER_KMH

    @cached_property
    def avg_heart_rate_bpm(self) -> float | None:
        return average_heart_rate(self.samples)

    @property
    def max_heart_rate_bpm(self) -> int | None:
        return max_heart_rate(self.samples)

    def kcal(self, weight_kg: float | None) -> float | None:
        """The energy estimate of SPEC (`retrotread.energy`) over this lap; None without a
        weight."""
        return energy.kcal_from_met_minutes(net_met_minutes(self.samples), weight_kg)


def end_t(log: SessionLog) -> float:
    """When the session ended, in session seconds: its duration, or its last sample if later."""
    last_sample = log.samples[-1].t if log.samples else 0.0
    return max(log.duration_s, last_sample, 0.0)


def pauses(log: SessionLog) -> tuple[Pause, ...]:
    """Every pause asked for by someone (the walker, MQTT, the control socket), in order."""
    found: list[Pause] = []
    began: float | None = None
    source: str | None = None
    for command in log.commands:
        if command.result != "success":
            continue
        if command.op == "pause" and command.source != TURNAROUND_SOURCE and began is None:
            began, source = command.t, command.source
        elif command.op == "start" and began is not None:
            found.append(Pause(began, command.t, source))
            began = None
    if began is not None:
        found.append(Pause(began, max(began, end_t(log)), source))
    return tuple(found)


def cumulative_distances(samples: Sequence[Sample]) -> list[float]:
    """The distance walked at each sample, in metres: the machine's own figure when it reports
    one (it counts from 0 at the Start, as the session's summary does), else the belt speed
    integrated since the sample before. Never decreasing: a machine that resets its counter
    mid-session does not take distance away."""
    found: list[float] = []
    last = 0.0
    previous: Sample | None = None
    for sample in samples:
        if sample.distance_m is not None:
            value = max(last, sample.distance_m)
        elif previous is not None:
            value = last + previous.speed_kmh * MPS_PER_KMH * previous.dt_s
        else:
            value = last
        found.append(value)
        last, previous = value, sample
    return found


def lap_spans(log: SessionLog) -> tuple[LapSpan, ...]:
    """The laps of an export, tiling [0, end_t(log)]; one per segment (at least one)."""
    finish = end_t(log)
    laps: list[Lap | None] = list(log.laps) or [None]
    starts = [0.0] + [lap.start_t for lap in laps[1:] if lap is not None]
    ends = [*starts[1:], finish]
    distances = cumulative_distances(log.samples)
    breaks = pauses(log)
    spans = []
    i = 0
    n = len(log.samples)
    for number, (lap, start, stop) in enumerate(zip(laps, starts, ends, strict=True)):
        first = i
        last_lap = number == len(laps) - 1
        while i < n and (last_lap or log.samples[i].t < stop):
            i += 1
        before = distances[first - 1] if first > 0 else 0.0
        spans.append(
            LapSpan(
                number=number,
                lap=lap,
                start_t=start,
                end_t=max(start, stop),
                samples=log.samples[first:i],
                start_distance_m=before,
                end_distance_m=distances[i - 1] if i > first else before,
                paused_s=sum(_overlap(p.start_t, p.end_t, start, stop) for p in breaks),
            )
        )
    return tuple(spans)


def paused_s(log: SessionLog) -> float:
    return sum(p.duration_s for p in pauses(log))


def ascent_descent_m(samples: Sequence[Sample]) -> tuple[float, float]:
    """Metres climbed and descended walking up or down the belt's incline: the distance of
    each stretch times its grade."""
    up = down = 0.0
    distances = cumulative_distances(samples)
    for sample, here, there in zip(samples, distances, distances[1:], strict=False):
        rise = (there - here) * (sample.incline_pct or 0.0) / 100.0
        if rise > 0:
            up += rise
        else:
            down -= rise
    return up, down


def commanded_mph(log: SessionLog) -> list[tuple[float, float]]:
    """The speed the belt was told to run at, as steps (t, mph): each successful set_speed,
    0 from a successful pause or stop, and 0 at the start (the belt at rest)."""
    steps: list[tuple[float, float]] = [(0.0, 0.0)]
    for command in log.commands:
        if command.result != "success":
            continue
        if command.op == "set_speed" and command.mph is not None:
            steps.append((command.t, command.mph))
        elif command.op in ("pause", "stop"):
            steps.append((command.t, 0.0))
    return steps


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))
