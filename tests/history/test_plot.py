"""The session plot: a PNG of the expected size, and (read back from the matplotlib figure) the
belt speed in the display units, the direction shading, heart rate on its own axis, pauses and
safety events named, the title's program, date and totals. matplotlib loads only to draw."""

from __future__ import annotations

import subprocess
import sys

import pytest

from retrotread.events import Direction
from retrotread.history import plot
from retrotread.history.plot import figure, png_bytes
from retrotread.units import KMH_PER_MPH
from tests.support.export_sessions import Seg, Shape, png_size, session_log

SHAPE = Shape(
    segments=(Seg(120, 1.0), Seg(90, 2.4, Direction.forward), Seg(180, 1.5, incline_pct=3.0)),
    pause=(60.0, 20.0),
    safety=((300.0, "heart_rate", "slow"),),
)


def _legend(fig: object) -> list[str]:
    ax = fig.axes[0]  # type: ignore[attr-defined]
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_a_png_of_the_expected_size() -> None:
    data = png_bytes(session_log(SHAPE))
    assert png_size(data) == (1200, 600)
    assert b"retrotread" in data[:200]  # the Software text chunk


def test_the_figure_shows_speed_direction_heart_rate_pauses_and_safety() -> None:
    log = session_log(SHAPE)
    fig = figure(log, units="metric")
    ax, hr_ax = fig.axes
    assert ax.get_ylabel() == "speed (km/h)"
    assert hr_ax.get_ylabel() == "heart rate (bpm)"
    (belt,) = [line for line in ax.get_lines() if line.get_label() == "belt"]
    assert list(belt.get_ydata()) == pytest.approx([s.speed_mph * KMH_PER_MPH for s in log.samples])
    assert list(belt.get_xdata()) == pytest.approx([s.t / 60 for s in log.samples])
    (commanded,) = [line for line in ax.get_lines() if line.get_label() == "commanded"]
    assert max(commanded.get_ydata()) == pytest.approx(2.4 * KMH_PER_MPH)
    legend = _legend(fig)
    for label in ("belt", "commanded", "segment target", "backward (facing away)", "forward"):
        assert label in legend
    assert "paused" in legend
    assert "heart rate (strap)" in legend
    marks = [text.get_text() for text in ax.texts]
    assert "paused by the walker" in marks
    assert "heart rate above the limit: slow" in marks
    assert "incline 3 %" in marks
    title = fig.get_suptitle()
    assert title.startswith("hand-made: 2026-03-02")
    assert "backward" in title
    assert "Program complete." in title


def test_imperial_units_and_no_heart_rate_axis_without_heart_rate() -> None:
    log = session_log(Shape(heart_rate=False, segments=(Seg(60, 1.0),)))
    fig = figure(log, units="imperial")
    assert len(fig.axes) == 1
    assert fig.axes[0].get_ylabel() == "speed (mph)"
    legend = _legend(fig)
    assert "forward" not in legend
    assert not any(text.startswith("heart rate") for text in legend)


def test_a_cut_off_journal_plots_what_it_holds() -> None:
    log = session_log(Shape(cut_off_at=100.0))
    fig = figure(log)
    (belt,) = [line for line in fig.axes[0].get_lines() if line.get_label() == "belt"]
    assert len(belt.get_xdata()) == len(log.samples)
    assert "Journal cut off" in plot.title(log)
    assert png_size(png_bytes(log)) == (1200, 600)
    nothing = session_log(Shape(cut_off_at=1.0))  # connected, no segment, no sample
    assert not nothing.samples
    assert png_size(png_bytes(nothing)) == (1200, 600)


def test_matplotlib_loads_only_to_draw() -> None:
    code = (
        "import sys, retrotread.history.plot, retrotread.cli.export_cmd, retrotread.export; "
        "print(sorted(m for m in ('matplotlib', 'fit_tool') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
