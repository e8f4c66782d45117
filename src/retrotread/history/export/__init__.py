"""A past session as a file other software reads: FIT and TCX for Strava, Garmin Connect and the
like, CSV for spreadsheets (and a physical therapist's). Each format is a pure function of the
journal, `SessionLog -> bytes`, in its own module, imported only by the command that asks for
it (fit-tool is not free to import).

FIT is the format to upload: it alone says what the session was, sport `walking` with
sub_sport `treadmill` (Strava cannot change an activity's type after upload, and has no
"virtual walk"). TCX knows only Running, Biking and Other; see `tcx.py`.
"""

from __future__ import annotations

from typing import Literal

Format = Literal["fit", "tcx", "csv"]
FORMATS: tuple[Format, ...] = ("fit", "tcx", "csv")
CREATOR = "retrotread"
