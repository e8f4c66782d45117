"""Readable, one-line validation errors for config files, plans and flags.

A person who typed a bad value wants one line that names the key, repeats what they wrote and says
what is allowed. Pydantic's messages name one bound at a time and its locations are tuples, so the
range checks here carry both bounds in their message and `one_line` renders the location as
`segments[2].target_mph`.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable
from typing import Any, get_args

from pydantic import BaseModel, ValidationError, ValidatorFunctionWrapHandler, WrapValidator
from pydantic_core import PydanticCustomError

Location = tuple[str | int, ...]

# A key that looks like it holds a secret, spelled right or not (`passwd`, `api_key`, `Token`):
# its value is never repeated in an error line, which may end up in a log or a bug report.
_SECRET_KEY = re.compile(r"pas+w|pass|pwd|secret|token|key|cred|auth|private", re.IGNORECASE)
_HIDDEN = "***"
_SHOWN_DEPTH = 8
_URL_CREDENTIALS = re.compile(r"(//)[^/@]*@")


def format_number(value: float) -> str:
    """Floats keep their decimal point (3.0 mph, not 3), ints stay ints (220 bpm)."""
    return repr(float(value)) if isinstance(value, float) else str(value)


def _range_text(lo: float | None, hi: float | None, unit: str, lo_open: bool) -> str:
    suffix = f" {unit}" if unit else ""
    if lo is not None and hi is not None:
        if lo_open:
            return f"> {format_number(lo)} and <= {format_number(hi)}{suffix}"
        return f"within {format_number(lo)}..{format_number(hi)}{suffix}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {format_number(lo)}{suffix}"
    if hi is not None:
        return f"<= {format_number(hi)}{suffix}"
    return "a number"


def in_range(
    lo: float | None,
    hi: float | None,
    unit: str = "",
    *,
    lo_open: bool = False,
    hint: str = "",
) -> WrapValidator:
    """A validator for `Annotated[float, in_range(...)]` whose message names the whole range.

    It wraps the type check too, so `"abc"` and `3.5` get the same kind of answer ("must be a number
    within 0.5..3.0 mph"). NaN and infinities are refused: they would slip through comparisons.
    """
    allowed = _range_text(lo, hi, unit, lo_open)
    extra = f" ({hint})" if hint else ""

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        # `true` is not 1.0 mph, whatever Python's bool-is-an-int says, even in a lax model.
        if isinstance(value, bool):
            raise PydanticCustomError("out_of_range", "must be a number " + allowed + extra)
        try:
            number = handler(value)
        except ValidationError as err:
            whole = any(str(e["type"]).startswith("int") for e in err.errors())
            kind = "a whole number " if whole else "a number "
            raise PydanticCustomError("out_of_range", "must be " + kind + allowed + extra) from None
        too_low = lo is not None and (number <= lo if lo_open else number < lo)
        too_high = hi is not None and number > hi
        if not math.isfinite(number) or too_low or too_high:
            raise PydanticCustomError("out_of_range", "must be " + allowed + extra)
        return number

    return WrapValidator(check)


def field_error(field: str, value: object, message: str) -> PydanticCustomError:
    """An error raised from a model validator that `one_line` reports against one field.

    Cross-field rules (min <= max, speed by direction) run after the fields are parsed, where
    pydantic would blame the whole model; the context carries the field and value to blame instead.
    """
    return PydanticCustomError(
        "field_error", message.replace("{", "(").replace("}", ")"), {"field": field, "value": value}
    )


def format_location(loc: Location) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def looks_secret(key: object) -> bool:
    """Whether a key's value must be hidden from messages (see `_SECRET_KEY`)."""
    return isinstance(key, str) and _SECRET_KEY.search(key) is not None


def _redacted(value: object, depth: int = 0) -> object:
    """`value` with every secret-looking key's value hidden (an unknown section echoed whole may
    carry a password). Only a few levels are shown: the line is cut at 60 characters anyway."""
    if depth > _SHOWN_DEPTH and isinstance(value, dict | list | tuple):
        return "..."
    if isinstance(value, dict):
        return {
            key: _HIDDEN if looks_secret(key) else _redacted(child, depth + 1)
            for key, child in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redacted(child, depth + 1) for child in value]
    return value


def _fmt_value(loc: Location, value: object) -> str:
    if any(looks_secret(part) for part in loc):
        return _HIDDEN
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(_URL_CREDENTIALS.sub(r"\1***@", value), ensure_ascii=False)
    try:
        text = json.dumps(_redacted(value), default=str, ensure_ascii=False)
    except (ValueError, RecursionError):
        text = "..."
    return text if len(text) <= 60 else text[:57] + "..."


# Strict types (a TOML `"yes"` is not a bool) in the words of the person who wrote the file.
_TYPE_MESSAGES = {
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a string (in quotes)",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
}


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation holds: itself, or inside `X | None`, `tuple[X, ...]`,
    `Annotated[X, ...]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _keys_at(model: type[BaseModel] | None, loc: Location) -> list[str]:
    """The keys `model` allows in the table at `loc` (list indices are skipped)."""
    for part in loc:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        model = _model_in(field.annotation) if field is not None else None
    return list(model.model_fields) if model is not None else []


def _did_you_mean(word: object, choices: list[str]) -> str:
    """` (did you mean max_step_mph?)` when one of `choices` is close to `word`."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _message(error: Any, model: type[BaseModel] | None = None) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        loc = tuple(error["loc"])
        return "unknown key" + _did_you_mean(loc[-1] if loc else None, _keys_at(model, loc[:-1]))
    if kind == "missing":
        return "required"
    if kind in ("literal_error", "enum"):
        expected = str(error["ctx"]["expected"])
        words = re.findall(r"'([^']*)'", expected)
        return f"must be one of {expected}" + _did_you_mean(error.get("input"), words)
    if kind in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[kind]
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    return message


def one_line(
    err: ValidationError,
    source: str,
    source_of: Callable[[Location], str] | None = None,
    *,
    model: type[BaseModel] | None = None,
) -> str:
    """`<source>: <field.path> = <value>: <message>`; several errors are joined with "; ".

    `source_of` names where one location's value came from (a file, an environment variable);
    it overrides `source` for that error. `model` is the model validated, whose keys an unknown
    key is matched against for a "did you mean" (a misspelled key, a choice mistyped).
    """
    parts: list[str] = []
    for error in err.errors():
        loc: Location = tuple(error["loc"])
        value = error.get("input")
        ctx = error.get("ctx") or {}
        if error["type"] == "field_error":
            loc = (*loc, ctx["field"])
            value = ctx["value"]
        where = source_of(loc) if source_of else source
        path = format_location(loc)
        head = f"{where}: " if where else ""
        message = _message(error, model)
        if error["type"] == "missing" or not path:
            body = f"{path}: {message}" if path else message
        else:
            body = f"{path} = {_fmt_value(loc, value)}: {message}"
        parts.append(head + body)
    if not parts:
        return f"{source}: invalid"
    if source_of is None and len(parts) > 1:
        prefix = f"{source}: "
        return prefix + "; ".join(p.removeprefix(prefix) for p in parts)
    return "; ".join(parts)


def check_rpe(value: int | str | None, name: str = "--rpe") -> int | None:
    """An RPE as given (a number or its text), or None; InputError (exit 2) naming `name` and
    the range unless it is a whole number on Borg's 6-20 scale. One check for `run --rpe`, the
    question at the end of a session and `retrotread rate`."""
    from retrotread.errors import InputError
    from retrotread.events import RPE_MAX, RPE_MIN

    if value is None:
        return None
    rpe: int | None
    if isinstance(value, bool):
        rpe = None
    elif isinstance(value, int):
        rpe = value
    else:
        try:
            rpe = int(value.strip())
        except ValueError:
            rpe = None
    if rpe is None or not RPE_MIN <= rpe <= RPE_MAX:
        raise InputError(
            f"{name} = {value!r}: must be a whole number within {RPE_MIN}..{RPE_MAX} "
            "(Borg's rating of perceived exertion: 6 no exertion, 13 somewhat hard, 20 maximal)"
        )
    return rpe
