"""State shared by all commands: the global options."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path


class LogFormat(enum.StrEnum):
    auto = "auto"
    console = "console"
    json = "json"


@dataclass(frozen=True)
class CliState:
    config_file: Path | None
    log_format: LogFormat
    verbose: int
