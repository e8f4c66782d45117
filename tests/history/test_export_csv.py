"""The CSV export: SPEC's header, one row per telemetry sample, empty cells for absent values."""

from __future__ import annotations

import csv
import io

from retrotread.events import Direction
from retrotread.history.export.csv import HEADER, csv_bytes
from tests.support.export_sessions import Seg, Shape, session_log

SPEC_HEADER = "t,speed_mph,speed_kmh,distance_m,incline_pct,heart_rate_bpm,direction,segment"


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_header_and_one_row_per_sample() -> None:
    log = session_log(
        Shape(segments=(Seg(30, 1.0, incline_pct=2.0), Seg(30, 2.0, Direction.forward)))
    )
    data = csv_bytes(log)
    assert data.decode().splitlines()[0] == SPEC_HEADER == ",".join(HEADER)
    rows = _rows(data)
    assert len(rows) == len(log.samples)
    for row, sample in zip(rows, log.samples, strict=True):
        assert float(row["t"]) == round(sample.t, 3)
        assert float(row["speed_mph"]) == sample.speed_mph
        assert float(row["speed_kmh"]) == sample.speed_kmh
        assert float(row["distance_m"]) == sample.distance_m
        assert int(row["heart_rate_bpm"]) == sample.heart_rate_bpm
        assert row["direction"] == sample.direction.value
        assert row["segment"] == str(sample.segment)
    assert {row["incline_pct"] for row in rows} == {"2.0", ""}
    assert {row["direction"] for row in rows} == {"backward", "forward"}


def test_absent_values_are_empty_cells() -> None:
    log = session_log(Shape(heart_rate=False, distance=False))
    rows = _rows(csv_bytes(log))
    assert rows
    assert {row["heart_rate_bpm"] for row in rows} == {""}
    assert {row["distance_m"] for row in rows} == {""}
    assert {row["incline_pct"] for row in rows} == {""}


def test_a_cut_off_journal_gives_the_rows_it_holds() -> None:
    log = session_log(Shape(cut_off_at=100.0))
    rows = _rows(csv_bytes(log))
    assert len(rows) == len(log.samples)
    assert float(rows[-1]["t"]) < 100.0


def test_no_samples_is_the_header_alone() -> None:
    log = session_log(Shape(cut_off_at=1.0))
    assert csv_bytes(log) == (SPEC_HEADER + "\n").encode()
