"""SPEC.md "history, show, export, plot": `export` and `plot` through the console script, on one
real simulated session (intervals, heart rate from the simulated strap), as an outside test
suite would drive them.

- `export last --format fit`: fitdecode (CRC checked) reads sport walking / treadmill, a record
  per telemetry line of the journal, a lap per segment event, the summary's distance and
  duration;
- `--format tcx`: valid against TrainingCenterDatabase v2, a Lap per segment;
- `--format csv`: SPEC's header and a row per telemetry line (`-o -`: on stdout);
- `plot last -o s.png`: a PNG;
- an unknown SESSION, a bad `--format` and an unwritable `-o`: exit 2, one line.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import CONSOLE_SCRIPT, Outcome, console, private_env
from tests.support.export_sessions import fit_messages, png_size, tcx_schema

SESSION_ARGS = ("--program", "intervals", "--sim-hr-strap")
CSV_HEADER = "t,speed_mph,speed_kmh,distance_m,incline_pct,heart_rate_bpm,direction,segment"


@dataclass(frozen=True)
class Walked:
    """One finished simulated session and the way to run commands beside it."""

    root: Path
    env: dict[str, str]
    journal: list[dict[str, Any]]

    def run(self, *args: str) -> Outcome:
        done = subprocess.run(
            [str(CONSOLE_SCRIPT), *args],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            env=self.env,
            timeout=60,
            check=False,
        )
        return Outcome(done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode())

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.journal if e["event"] == kind]


@pytest.fixture(scope="module")
def walked() -> Iterator[Walked]:
    root = Path(tempfile.mkdtemp(prefix="rt-export-"))
    (root / "rt").mkdir(mode=0o700)
    env = private_env(root, root / "rt")
    done = console(
        env, "run", "--sim", "--time-scale", "1000", *SESSION_ARGS, "--json", timeout=120
    )
    assert done.code == 0, done.err
    (journal,) = (root / "data" / "sessions").glob("*.jsonl")
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    yield Walked(root, env, events)
    shutil.rmtree(root, ignore_errors=True)


def test_export_fit_is_a_treadmill_walk_that_matches_the_journal(walked: Walked) -> None:
    target = walked.root / "s.fit"
    done = walked.run("export", "last", "--format", "fit", "-o", str(target))
    assert done.code == 0, done.err
    assert str(target) in done.out
    found = fit_messages(target.read_bytes())
    (session,) = found["session"]
    assert (session["sport"], session["sub_sport"]) == ("walking", "treadmill")
    (summary,) = walked.of("summary")
    assert len(found["record"]) == len(walked.of("telemetry"))
    assert len(found["lap"]) == len(walked.of("segment")) == session["num_laps"]
    assert session["total_distance"] == pytest.approx(summary["distance_m"], abs=0.01)
    assert session["total_elapsed_time"] == pytest.approx(summary["duration_s"], abs=0.001)
    assert sum(lap["total_distance"] for lap in found["lap"]) == pytest.approx(
        summary["distance_m"], abs=0.5
    )
    assert found["file_id"][0]["type"] == "activity"
    assert found["activity"][0]["num_sessions"] == 1
    strap = [d for d in found["device_info"] if d.get("ble_device_type") == "heart_rate"]
    assert len(strap) == 1  # heart rate came from the strap, and the file says so
    assert {r["heart_rate"] for r in found["record"]} - {None}


def test_export_tcx_is_valid_with_a_lap_per_segment(walked: Walked) -> None:
    import xml.etree.ElementTree as ET

    target = walked.root / "s.tcx"
    done = walked.run("export", "last", "--format", "tcx", "-o", str(target))
    assert done.code == 0, done.err
    data = target.read_bytes()
    assert data.startswith(b"<?xml")
    tcx_schema().validate(data.decode())
    ns = {"tcx": "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"}
    root = ET.fromstring(data)
    assert len(root.findall(".//tcx:Lap", ns)) == len(walked.of("segment"))
    assert len(root.findall(".//tcx:Trackpoint", ns)) == len(walked.of("telemetry"))


def test_export_csv_to_a_file_and_to_stdout(walked: Walked) -> None:
    target = walked.root / "s.csv"
    done = walked.run("export", "last", "--format", "csv", "-o", str(target))
    assert done.code == 0, done.err
    lines = target.read_text().splitlines()
    assert lines[0] == CSV_HEADER
    assert len(lines) - 1 == len(walked.of("telemetry"))
    piped = walked.run("export", "last", "--format", "csv", "-o", "-")
    assert piped.code == 0, piped.err
    assert piped.out.splitlines() == lines  # stdout holds the file alone
    assert "CSV written to stdout" in piped.err


def test_plot_last_is_a_png(walked: Walked) -> None:
    target = walked.root / "s.png"
    done = walked.run("plot", "last", "-o", str(target))
    assert done.code == 0, done.err
    assert png_size(target.read_bytes()) == (1200, 600)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("export", "nosuchsession", "--format", "fit", "-o", "s.fit"), "SESSION 'nosuchsession'"),
        (("plot", "nosuchsession", "-o", "s.png"), "SESSION 'nosuchsession'"),
        (("export", "last", "--format", "gpx", "-o", "s.gpx"), "--format"),
        (("export", "last", "--format", "fit", "-o", "/nonexistent/dir/s.fit"), "-o"),
        (("plot", "last", "-o", "/nonexistent/dir/s.png"), "-o"),
        # SPEC: `-o` is not optional, and a file name carries its format's suffix.
        (("export", "last", "--format", "fit"), "Missing option '-o'"),
        (("plot", "last"), "Missing option '-o'"),
        (("plot", "last", "-o", "p.txt"), "-o p.txt: a PNG file needs a file name ending in .png"),
        (("export", "last", "--format", "fit", "-o", "w.tcx"), "ending in .fit"),
    ],
)
def test_bad_input_exits_2_with_one_line(walked: Walked, args: tuple[str, ...], words: str) -> None:
    done = walked.run(*args)
    assert done.code == 2
    line = done.error_line()
    assert line.startswith("retrotread: error:")
    assert words in line
