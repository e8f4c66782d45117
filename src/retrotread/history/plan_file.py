"""A plan as a file `run --plan` reads back: TOML for people, JSON for programs.

The standard library reads TOML (tomllib) but does not write it, and the plan schema is flat:
top-level strings and numbers, and one array of tables (`[[segments]]`) of strings and numbers.
That shape needs a dozen lines, not a dependency. Strings are written as TOML basic strings with
JSON's escapes, which TOML shares (`\\"`, `\\\\`, `\\n`, `\\t`, `\\uXXXX`); DEL, which JSON
leaves as it is and TOML does not allow raw, is escaped too. Tests read every written plan back
with tomllib and the plan model.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from retrotread.session.plan import Plan

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_TABLES = "segments"  # the plan's one array of tables


def plan_data(plan: Plan) -> dict[str, Any]:
    """The plan in the plan-file schema, absent fields left out (as the journal records it)."""
    return plan.model_dump(mode="json", exclude_none=True)


def plan_json(plan: Plan) -> str:
    """One JSON object, the plan-file schema (`run --plan FILE.json` reads it)."""
    return json.dumps(plan_data(plan))


def plan_toml(plan: Plan, header: str | None = None) -> str:
    """The plan as TOML (`run --plan FILE.toml` reads it); `header` is a comment line on top."""
    data = plan_data(plan)
    # The name and the reason first: what a person reads at the top of the file.
    first = [key for key in ("name", "reason") if key in data]
    keys = first + [key for key in data if key not in first and key != _TABLES]
    lines = [f"# {line}" for line in (header or "").splitlines()]
    lines += [_pair(key, data[key]) for key in keys]
    for table in data.get(_TABLES, []):
        lines += ["", f"[[{_TABLES}]]"]
        lines += [_pair(key, value) for key, value in table.items()]
    return "\n".join(lines) + "\n"


def _pair(key: str, value: Any) -> str:
    return f"{_key(key)} = {_value(value)}"


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a plan has no place for {value!r}")
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Mapping | list):
        raise ValueError(f"nested value {value!r}: the plan schema is flat")
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")
