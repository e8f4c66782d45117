"""`retrotread coach` as a library call: the next session from the journals and the settings.

The rules live in `retrotread.history.coach` (a pure function over past sessions); this reads
the settings (`[safety]` for the band, `[user]` for the name, `[display]` for the units of the
reason) and the data directory, and renders the plan the way `run --plan` reads it back.
`run --coach` asks `history.coach.suggest_for` directly (a use case does not call another), so
both always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from retrotread.config import load_settings
from retrotread.history.coach import Suggestion, suggest_for
from retrotread.history.plan_file import plan_json, plan_toml

TOML_HEADER = "The next session from `retrotread coach`; walk it with `retrotread run --plan FILE`."


@dataclass(frozen=True)
class CoachAnswer:
    """The suggestion, and the plan as the file `coach` prints (TOML, or JSON)."""

    suggestion: Suggestion

    @property
    def reason(self) -> str:
        return self.suggestion.reason

    def toml(self) -> str:
        return plan_toml(self.suggestion.plan, header=TOML_HEADER)

    def json(self) -> str:
        return plan_json(self.suggestion.plan)


def coach(
    config_file: Path | None = None,
    *,
    data_dir: Path | None = None,
    now: datetime | None = None,
) -> CoachAnswer:
    """The suggestion for `now` (default: the current time) from the journals under `data_dir`
    (default: the configured data directory). InputError (exit 2) for a bad setting or a
    journal the rules need that cannot be read."""
    settings = load_settings(config_file)
    directory = data_dir if data_dir is not None else settings.data_dir()
    return CoachAnswer(suggest_for(settings, directory, now=now))
