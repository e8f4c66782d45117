"""The five built-in programs of SPEC.md, shipped as TOML plans under configs/programs/."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrotread.errors import InputError
from retrotread.paths import configs_dir

if TYPE_CHECKING:
    from retrotread.session.plan import Plan

PROGRAM_NAMES: tuple[str, ...] = ("first-steps", "cooldown", "intervals", "rehab", "athletic")
DEFAULT_PROGRAM = "first-steps"

# Walking directions in the order `Direction` lists them; a plan segment's default is the first.
DIRECTIONS: tuple[str, ...] = ("backward", "forward")


def program_path(name: str) -> Path:
    return configs_dir() / "programs" / f"{name}.toml"


def load_program(name: str) -> Plan:
    """A built-in program by name; InputError naming the valid names when there is no such one."""
    # Imported here: the plan model is pydantic's, and listing the programs does without it.
    from retrotread.session.plan import load_plan

    if name not in PROGRAM_NAMES:
        raise InputError(
            f"unknown program {name!r}{did_you_mean(name, PROGRAM_NAMES)}; "
            f"built-in programs: {', '.join(PROGRAM_NAMES)}"
        )
    return load_plan(program_path(name))


def program_or_plan(name_or_file: str) -> Plan:
    """A built-in program by name, or a plan file (TOML or JSON) by path, checked; InputError
    naming the field, or the valid names when it is neither."""
    from pathlib import Path

    from retrotread.session.plan import load_plan

    if name_or_file in PROGRAM_NAMES:
        return load_program(name_or_file)
    path = Path(name_or_file)
    if path.exists() or path.suffix in (".toml", ".json"):
        return load_plan(path)
    raise InputError(
        f"unknown program {name_or_file!r}{did_you_mean(name_or_file, PROGRAM_NAMES)}; "
        f"built-in programs: {', '.join(PROGRAM_NAMES)} (or a path to a plan file)"
    )


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean first-steps?)` when one of `choices` is close to `word`, else ""."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def list_programs() -> list[Plan]:
    return [load_program(name) for name in PROGRAM_NAMES]


@dataclass(frozen=True)
class ProgramSummary:
    """What a list of programs shows of each: name, title, description, total time, and per
    direction walked the lowest start and highest ceiling speed (in `DIRECTIONS` order)."""

    name: str
    title: str
    description: str
    duration_s: float
    speed_spans_mph: tuple[tuple[str, float, float], ...]

    @classmethod
    def of_plan(cls, plan: Plan) -> ProgramSummary:
        """The summary of a validated plan, from the plan's own methods."""
        from retrotread.events import Direction

        spans = []
        for direction in Direction:
            span = plan.speed_span_mph(direction)
            if span is not None:
                spans.append((direction.value, *span))
        return cls(plan.name, plan.title, plan.description, plan.total_duration_s(), tuple(spans))


def program_summaries() -> list[ProgramSummary]:
    """The built-in programs' summaries, read from their TOML without the plan model.

    Listing the programs is a start-up-time command, and validating the plans means importing
    pydantic and the config, several times the rest of the command's time. The shipped files are
    trusted here (read directly, not through `inputs`' checks for files a person names): tests
    validate every one and check that these summaries equal those of the validated plans
    (`ProgramSummary.of_plan`), and running or showing a program validates it."""
    import tomllib

    summaries = []
    for name in PROGRAM_NAMES:
        data = tomllib.loads(program_path(name).read_text(encoding="utf-8"))
        segments: list[dict[str, Any]] = list(data["segments"])
        summaries.append(
            ProgramSummary(
                name=str(data.get("name", name)),
                title=str(data.get("title", "")),
                description=str(data.get("description", "")),
                duration_s=float(sum(segment["duration_s"] for segment in segments)),
                speed_spans_mph=_speed_spans(segments),
            )
        )
    return summaries


def _speed_spans(segments: Iterable[dict[str, Any]]) -> tuple[tuple[str, float, float], ...]:
    """As `Plan.speed_span_mph` for each direction: a segment starts at its target or the low
    end of its range and goes at most to its target or the top of its range."""
    starts: dict[str, list[float]] = {direction: [] for direction in DIRECTIONS}
    ceilings: dict[str, list[float]] = {direction: [] for direction in DIRECTIONS}
    for segment in segments:
        direction = segment.get("direction", DIRECTIONS[0])
        target = segment.get("target_mph")
        starts[direction].append(float(target if target is not None else segment["min_mph"]))
        ceilings[direction].append(float(target if target is not None else segment["max_mph"]))
    return tuple(
        (direction, min(starts[direction]), max(ceilings[direction]))
        for direction in DIRECTIONS
        if starts[direction]
    )


UNITS_ENV = "RETROTREAD_DISPLAY__UNITS"
_UNIT_NAMES = ("imperial", "metric")


def display_units(config_file: Path | None = None) -> str:
    """`[display] units`, as `load_settings` resolves it (environment, then `config_file` or the
    user's config file, then the shipped default), for `programs`.

    Listing the programs must start without the settings model (pydantic), so the plain cases
    are read directly: no RETROTREAD_* variable but the data directory and this one, and a file
    that parses with a valid value or none. Anything else (a variable that may be misspelled or
    carry a JSON section, a file that does not parse, a value that is neither word) goes through
    `load_settings`, which gives the same answer or the one error line (exit 2). Tests hold the
    two readings equal."""
    import os
    import tomllib

    from retrotread.paths import configs_dir

    variables = {
        name.upper(): value
        for name, value in os.environ.items()
        if name.upper().startswith("RETROTREAD_") and value != ""
    }
    variables.pop("RETROTREAD_DATA_DIR", None)
    from_env = variables.pop(UNITS_ENV, None)
    if from_env in _UNIT_NAMES and not variables:
        return str(from_env)
    if from_env is None and not variables:
        xdg = os.environ.get("XDG_CONFIG_HOME")
        user = (Path(xdg) if xdg else Path.home() / ".config") / "retrotread" / "config.toml"
        path = config_file if config_file is not None else user
        files = [configs_dir() / "default.toml"]
        if config_file is not None or path.is_file():
            files.append(path)
        try:
            units: object = None
            for file in files:
                display = tomllib.loads(file.read_text(encoding="utf-8")).get("display", {})
                units = display.get("units", units) if isinstance(display, dict) else display
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            units = "unreadable"
        if units in _UNIT_NAMES:
            return str(units)
    from retrotread.config import load_settings

    return load_settings(config_file).display.units
