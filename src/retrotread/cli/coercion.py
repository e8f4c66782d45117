"""Command-line values of the plain kinds turned into Python values without pydantic.

typer 0.29 converts every parameter through a pydantic TypeAdapter built when the command runs.
Importing pydantic and building the adapters took most of the start-up time of `decode`,
`programs` and `--help`, whose parameters are only flags, text, choices, paths and counts. For
those kinds the value is converted here with typer's own functions (the same checks and messages,
less pydantic's "Value error, " before a bad choice's); any other kind (numbers, for one), and a
value of an unexpected type, still goes to typer's adapter.

This reaches into typer's internals (`typer._coercion`, `typer._param_types`): typer is pinned
to 0.29 in pyproject.toml, and a test fails if `decode` or `--help` import pydantic again.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Literal, get_args

from typer._click import Context
from typer._click.core import Parameter
from typer._click.exceptions import BadParameter
from typer._click.utils import _escape_control_characters
from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
from typer._param_types import choice_coercion_annotation, coerce_cli_choice, lenient_issubclass
from typer._param_types import coerce_cli_path as _coerce_cli_path
from typer.core import _TyperParameter
from typer.models import OptionInfo

Kind = Literal["flag", "text", "texts", "choice", "path", "count"]


@dataclass(frozen=True)
class PlainRuntimeParam(RuntimeParam):
    """Converts one parameter's value of a plain kind; anything else goes to typer's adapter."""

    kind: Kind
    descriptor: TypeDescriptor

    def _coerce_value(self, value: Any, param: _TyperParameter, ctx: Context) -> Any:
        info = self.parameter_info
        if self.kind == "flag" and isinstance(value, bool):
            return value
        if self.kind == "text" and isinstance(value, str):
            return value
        if (
            self.kind == "texts"
            and isinstance(value, list | tuple)
            and all(isinstance(item, str) for item in value)
        ):
            return list(value)
        if self.kind == "count" and type(value) is int:
            return value
        if self.kind == "choice" and isinstance(value, str | Enum):
            choices, case_sensitive = self._choices
            try:
                return coerce_cli_choice(
                    value, choices=choices, case_sensitive=case_sensitive, ctx=ctx
                )
            except ValueError as err:
                message = _escape_control_characters(str(err))
                raise BadParameter(message, ctx=ctx, param=param) from None
        if self.kind == "path" and isinstance(value, str | os.PathLike):
            # Made a Path first: typer's own function would build a pydantic adapter for that.
            path_type: type[Path] = self.annotation
            return _coerce_cli_path(
                path_type(value), info, path_type=path_type, param=param, ctx=ctx
            )
        return self._typer_adapter._coerce_value(value, param, ctx)

    @functools.cached_property
    def _choices(self) -> tuple[tuple[Any, ...], bool]:
        choices = choice_coercion_annotation(self.annotation, self.parameter_info)
        assert choices is not None  # `plain_kind` found them
        return choices

    @functools.cached_property
    def _typer_adapter(self) -> RuntimeParam:
        return build_runtime_param(self.descriptor)


def plain_kind(descriptor: TypeDescriptor) -> Kind | None:
    """Which plain kind a parameter is, or None when only typer's adapter knows it."""
    annotation = descriptor.annotation
    info = descriptor.parameter_info
    if info.parser is not None or descriptor.is_file:
        return None
    if descriptor.is_list:
        return "texts" if get_args(annotation) == (str,) else None
    if annotation is bool:
        return "flag"
    if annotation is str:
        return "text"
    if choice_coercion_annotation(annotation, info) is not None:
        return "choice"
    counted = isinstance(info, OptionInfo) and info.count
    if annotation is int and counted and info.min is None and info.max is None:
        return "count"
    if lenient_issubclass(annotation, Path) and info.path_type is None:
        return "path"
    return None


def convert_without_pydantic(params: Iterable[Parameter]) -> None:
    """Give each typer parameter of a plain kind the converter above, before typer builds its
    adapter (typer builds it when the parameter's first value arrives, even a missing one)."""
    for param in params:
        if not isinstance(param, _TyperParameter) or param._runtime_param is not None:
            continue
        kind = plain_kind(param.type_descriptor)
        if kind is not None:
            descriptor = param.type_descriptor
            param._runtime_param = PlainRuntimeParam(
                parameter_info=descriptor.parameter_info,
                annotation=descriptor.annotation,
                kind=kind,
                descriptor=descriptor,
            )
