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
    """The global options as the command sees them, merged from before and after its name;
    the defaults are the options' defaults."""

    config_file: Path | None = None
    log_format: LogFormat = LogFormat.auto
    verbose: int = 0
