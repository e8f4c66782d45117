"""One past session as a picture (PNG): what the belt did, what it was asked to do, which way
the walker faced, heart rate, and where the session was paused or the supervisor stepped in.

- Speed in `[display] units` over session time (minutes): the belt as measured (solid), the
  commanded speed (the values actually written, a step line: the ramps, the slow-downs for a
  turn-around or a heart-rate limit) and the segment's target (dashed steps).
- Backward and forward segments shaded in two colours, named in the legend.
- Heart rate on a second axis when the session has any, with its source.
- Pauses shaded grey and named; each safety event a vertical line with what the supervisor
  saw and did; a stop that was not the program's end marked with its cause.
- The title: program, local date and time, and the totals (duration, backward time,
  distance, and how it ended).

matplotlib (Agg, through `Figure` without pyplot: no global state, no GUI) costs about a
second to import, so it is imported inside `figure()` only: nothing else pays for it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from retrotread.channels.sinks import first_safety_stop
from retrotread.events import Direction
from retrotread.history import timeline
from retrotread.history.record import SessionLog
from retrotread.units import IMPERIAL, format_distance, format_speed, speed_unit, speed_value
from retrotread.wording import by_whom, duration, local_time, safety_words, stop_cause

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

WIDTH_IN, HEIGHT_IN, DPI = 12.0, 6.0, 100  # 1200 x 600 pixels
COLOURS = {
    "belt": "#1f5fa8",
    "commanded": "#e08a1e",
    "target": "#444444",
    "heart_rate": "#c0392b",
    Direction.backward: "#b9a7e8",
    Direction.forward: "#bfe3c2",
    "pause": "#8a8a8a",
    "pause_text": "#555555",
    "incline": "#5b4a8a",
    "safety": "#d62728",
}
DIRECTION_LABELS = {
    Direction.backward: "backward (facing away)",
    Direction.forward: "forward",
}


def png_bytes(log: SessionLog, *, units: str = IMPERIAL) -> bytes:
    """The PNG of `log` (1200 x 600 pixels)."""
    fig = figure(log, units=units)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": "retrotread"})
    return out.getvalue()


def figure(log: SessionLog, *, units: str = IMPERIAL) -> Figure:
    """The session drawn on a matplotlib Figure (Agg): `png_bytes` saves it; tests read it."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    unit = speed_unit(units)
    end_min = max(timeline.end_t(log), 1.0) / 60.0

    spans = timeline.lap_spans(log)
    shaded: set[Direction] = set()
    for span in spans:
        if span.lap is None:
            continue
        ax.axvspan(
            span.start_t / 60.0,
            span.end_t / 60.0,
            color=COLOURS[span.direction],
            alpha=0.45,
            linewidth=0,
            zorder=0,
        )
        shaded.add(span.direction)
        if span.number > 0:  # where one segment ends and the next begins
            ax.axvline(span.start_t / 60.0, color="white", linewidth=1.0, zorder=1)

    for pause in timeline.pauses(log):
        ax.axvspan(
            pause.start_t / 60.0,
            pause.end_t / 60.0,
            facecolor="none",
            edgecolor=COLOURS["pause"],
            hatch="///",
            linewidth=0,
            zorder=1,
        )

    minutes = [s.t / 60.0 for s in log.samples]
    speeds = [speed_value(s.speed_mph, units) for s in log.samples]
    step_v = _speed_steps(
        ax,
        timeline.commanded_mph(log),
        end_min,
        units,
        color=COLOURS["commanded"],
        linewidth=1.2,
        label="commanded",
        zorder=5,
    )
    if log.laps:
        _speed_steps(
            ax,
            [(lap.start_t, lap.target_mph) for lap in log.laps],
            log.laps[-1].end_t / 60.0,
            units,
            color=COLOURS["target"],
            linewidth=1.0,
            linestyle=(0, (5, 3)),
            label="segment target",
            zorder=2,
        )
    ax.plot(minutes, speeds, color=COLOURS["belt"], linewidth=2.6, label="belt", zorder=4)

    top = max([*speeds, *step_v, speed_value(0.5, units)]) * 1.25
    ax.set_ylim(0, top)
    ax.set_xlim(0, end_min)
    ax.set_ylabel(f"speed ({unit})")
    ax.set_xlabel("time (min:s)")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=12, steps=[1, 2, 2.5, 5, 10]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: duration(x * 60.0)))
    ax.grid(True, axis="y", color="#dddddd", linewidth=0.6, zorder=0)

    handles, labels = ax.get_legend_handles_labels()
    order = {"belt": 0, "commanded": 1, "segment target": 2}
    handles = [h for _, h in sorted(zip(labels, handles, strict=True), key=lambda p: order[p[0]])]
    handles += [
        Patch(facecolor=COLOURS[d], alpha=0.45, label=DIRECTION_LABELS[d])
        for d in (Direction.backward, Direction.forward)
        if d in shaded
    ]
    if timeline.pauses(log):
        handles.append(
            Patch(facecolor="none", edgecolor=COLOURS["pause"], hatch="///", label="paused")
        )

    hr_ax = _heart_rate(ax, log)
    if hr_ax is not None:
        hr_handles, _ = hr_ax.get_legend_handles_labels()
        handles += hr_handles
    _inclines(ax, spans, top)
    _marks(ax, log, top, end_min)
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.13),
        ncol=min(len(handles), 7),
        frameon=False,
        fontsize=9,
    )
    fig.suptitle(title(log, units), fontsize=12, x=0.01, horizontalalignment="left")
    return fig


def _speed_steps(
    ax: Axes, steps: Sequence[tuple[float, float]], end_min: float, units: str, **style: Any
) -> list[float]:
    """Speeds (t in session seconds, mph) drawn as steps, each held to the next and the last to
    `end_min`; the values drawn, in `units`."""
    values = [speed_value(mph, units) for _, mph in steps]
    values.append(values[-1])
    ax.plot([t / 60.0 for t, _ in steps] + [end_min], values, drawstyle="steps-post", **style)
    return values


def title(log: SessionLog, units: str = IMPERIAL) -> str:
    """Program, local date and time; totals and how the session ended, on a second line."""
    when = local_time(log.started_at)
    program = log.program or "session"
    totals = [
        f"{duration(log.duration_s)} total",
        f"{duration(log.backward_s)} backward",
    ]
    if log.forward_s:
        totals.append(f"{duration(log.forward_s)} forward")
    totals.append(format_distance(log.distance_m, units))
    if log.avg_backward_mph is not None:
        totals.append(f"avg backward {format_speed(log.avg_backward_mph, units)}")
    return f"{program}: {when}\n{', '.join(totals)}. {_ending(log)}"


def _ending(log: SessionLog) -> str:
    if log.stopped is None:
        return "Journal cut off (no stop on record)."
    return stop_cause(log.stopped.reason, log.stopped.source, first_safety_stop(log.safety)) + "."


def _heart_rate(ax: Axes, log: SessionLog) -> Axes | None:
    points = [(s.t / 60.0, s.heart_rate_bpm) for s in log.samples if s.heart_rate_bpm]
    if not points:
        return None
    sources = log.heart_rate_sources
    named = ", ".join(sources)  # strap, treadmill
    hr_ax = ax.twinx()
    hr_ax.plot(
        [t for t, _ in points],
        [bpm for _, bpm in points],
        color=COLOURS["heart_rate"],
        linewidth=1.2,
        alpha=0.85,
        label=f"heart rate ({named})" if named else "heart rate",
    )
    rates = [bpm for _, bpm in points]
    low, high = min(rates), max(rates)
    margin = max(10, (high - low) * 0.25)
    hr_ax.set_ylim(max(0, low - margin), high + margin * 2)
    hr_ax.set_ylabel("heart rate (bpm)", color=COLOURS["heart_rate"])
    hr_ax.tick_params(axis="y", colors=COLOURS["heart_rate"])
    return hr_ax


def _inclines(ax: Axes, spans: tuple[timeline.LapSpan, ...], top: float) -> None:
    """The incline of each segment that has one, at the foot of its stretch."""
    for span in spans:
        incline = span.lap.incline_pct if span.lap is not None else None
        if not incline:
            continue
        ax.text(
            (span.start_t + span.end_t) / 120.0,
            top * 0.025,
            f"incline {incline:g} %",
            color=COLOURS["incline"],
            fontsize=8.5,
            horizontalalignment="center",
            verticalalignment="bottom",
            zorder=6,
        )


def _marks(ax: Axes, log: SessionLog, top: float, end_min: float) -> None:
    """Pauses, safety events and a stop that was not the program's end, named where they are;
    labels step down the plot so that events close together stay readable."""
    marks: list[tuple[float, str, str]] = []
    for pause in timeline.pauses(log):
        who = by_whom(pause.source)
        marks.append((pause.start_t, f"paused {who}".strip(), COLOURS["pause_text"]))
    for event in log.safety:
        marks.append((event.t, f"{safety_words(event.reason)}: {event.action}", COLOURS["safety"]))
    stopped = log.stopped
    said = any(e.action == "stop" for e in log.safety)  # a safety stop is marked already
    if stopped is not None and stopped.reason != "completed" and not said:
        marks.append((stopped.t, stop_cause(stopped.reason, stopped.source), COLOURS["safety"]))
    levels = (0.97, 0.88, 0.79, 0.70)
    for i, (t, text, colour) in enumerate(sorted(marks)):
        x = t / 60.0
        left = x > end_min * 0.75  # near the right edge: the label goes left of its line
        ax.axvline(x, color=colour, linewidth=1.2, linestyle="-", zorder=5)
        ax.annotate(
            text,
            xy=(x, top * levels[i % len(levels)]),
            xytext=(-3 if left else 3, 0),
            textcoords="offset points",
            horizontalalignment="right" if left else "left",
            color=colour,
            fontsize=8.5,
            verticalalignment="top",
            bbox={
                "boxstyle": "round,pad=0.2",
                "facecolor": "white",
                "edgecolor": "none",
                "alpha": 0.8,
            },
            zorder=6,
        )
