"""The product driven as SPEC.md words it: a command's outcome and a private sandbox of
directories standing in for a user's machine (the contract suite's fixtures build on these)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONSOLE_SCRIPT = Path(sys.executable).parent / "retrotread"
FAST = ("--time-scale", "100000")


@dataclass(frozen=True)
class Outcome:
    """What a command left behind: exit code and both streams."""

    code: int
    out: str
    err: str

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines()]

    def error_line(self) -> str:
        """The single non-empty stderr line of a failure (SPEC: one line, no traceback)."""
        lines = [line for line in self.err.splitlines() if line.strip()]
        assert len(lines) == 1, lines
        assert "Traceback" not in self.err
        return lines[0]

    def error_line_after_human(self) -> str:
        """The one error line of a session that failed after it had started talking to a person."""
        assert "Traceback" not in self.err
        errors = [line for line in self.err.splitlines() if line.startswith("retrotread: error:")]
        assert len(errors) == 1, self.err
        return errors[0]


@dataclass(frozen=True)
class Sandbox:
    """Private directories standing in for a user's machine."""

    root: Path
    env: dict[str, str]

    @property
    def data_dir(self) -> Path:
        return Path(self.env["RETROTREAD_DATA_DIR"])

    @property
    def sessions_dir(self) -> Path:
        return self.data_dir / "sessions"

    def plan(self, text: str, name: str = "plan.toml") -> Path:
        path = self.root / name
        path.write_text(text)
        return path


RunScript = Callable[..., Outcome]
