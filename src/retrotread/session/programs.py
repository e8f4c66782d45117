"""The five built-in programs of SPEC.md, shipped as TOML plans under configs/programs/."""

from __future__ import annotations

from pathlib import Path

from retrotread.errors import InputError
from retrotread.paths import configs_dir
from retrotread.session.plan import Plan, load_plan

PROGRAM_NAMES: tuple[str, ...] = ("first-steps", "cooldown", "intervals", "rehab", "athletic")
DEFAULT_PROGRAM = "first-steps"


def program_path(name: str) -> Path:
    return configs_dir() / "programs" / f"{name}.toml"


def load_program(name: str) -> Plan:
    """A built-in program by name; InputError naming the valid names when there is no such one."""
    if name not in PROGRAM_NAMES:
        raise InputError(f"unknown program {name!r}; built-in programs: {', '.join(PROGRAM_NAMES)}")
    return load_plan(program_path(name))


def list_programs() -> list[Plan]:
    return [load_program(name) for name in PROGRAM_NAMES]
