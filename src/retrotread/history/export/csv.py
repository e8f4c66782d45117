"""A session as CSV, for spreadsheets: SPEC's header and one row per telemetry sample.

`t` is seconds since the session's start; speeds in mph and km/h as the machine reported them;
`distance_m` as the machine reported it (empty when it did not); `incline_pct` and
`heart_rate_bpm` likewise empty when absent; `direction` the way the walker faced
(`backward` / `forward`) and `segment` the index of the segment the sample fell in (empty
before the first). Rows end in a bare newline.
"""

from __future__ import annotations

import csv
import io

from retrotread.history.record import Sample, SessionLog

HEADER = (
    "t",
    "speed_mph",
    "speed_kmh",
    "distance_m",
    "incline_pct",
    "heart_rate_bpm",
    "direction",
    "segment",
)


def csv_bytes(log: SessionLog) -> bytes:
    """The CSV of `log`: the header, then a row per telemetry sample, UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(row(sample) for sample in log.samples)
    return out.getvalue().encode("utf-8")


def row(sample: Sample) -> tuple[str, ...]:
    return (
        f"{sample.t:.3f}",
        _value(sample.speed_mph),
        _value(sample.speed_kmh),
        _value(sample.distance_m),
        _value(sample.incline_pct),
        "" if sample.heart_rate_bpm is None else str(sample.heart_rate_bpm),
        sample.direction.value,
        "" if sample.segment is None else str(sample.segment),
    )


def _value(value: float | None) -> str:
    return "" if value is None else str(value)
