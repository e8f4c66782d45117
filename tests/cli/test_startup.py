"""What the quick commands load: no pydantic, rich, structlog or bleak before they are needed.

Measured with `-X importtime` on the installed console script, which names every module a fresh
interpreter imports (timings are ignored: the speed itself is `benchmarks/cli.py`'s). Plus the
table that lets the app import only the command that runs.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest
import typer.main
from typer._click import core as click_core
from typer._click.utils import make_default_short_help

from retrotread.cli.app import Group, app, run
from retrotread.cli.commands import COMMAND_MODULES, COMMAND_SUMMARIES
from tests.support.cli import imported_modules

HEAVY = frozenset({"pydantic", "pydantic_core", "pydantic_settings", "rich", "structlog", "bleak"})
TREADMILL_DATA = "84 04 90 01 01 00 00 00 00 ff ff ff 04 00"


def imported_packages(*argv: str) -> tuple[int, set[str]]:
    """Run the console script in a fresh interpreter; its exit code and the top-level packages
    of every module it imported."""
    done, modules = imported_modules(*argv)
    return done.returncode, {module.split(".")[0] for module in modules}


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["-h"],
        [],
        ["programs"],
        ["decode", "treadmill-data", TREADMILL_DATA],
        ["decode", "control-point", "08:01", "-v", "--log-format", "json"],
        ["run", "--help"],
        ["--version"],
    ],
    ids=" ".join,
)
def test_quick_commands_do_not_import_the_heavy_libraries(argv: list[str]) -> None:
    code, packages = imported_packages(*argv)
    assert code == 0
    # The probe sees the app's imports, except where the entry answers without typer.
    without_typer = argv == ["--version"] or argv == ["decode", "treadmill-data", TREADMILL_DATA]
    assert ("typer" in packages) != without_typer
    assert not packages & HEAVY, sorted(packages & HEAVY)


def test_a_command_that_logs_still_sets_up_logging() -> None:
    """The other side of the rule above: `info` logs, so it loads structlog (and pydantic for
    the config) as before."""
    code, packages = imported_packages("info", "--sim", "--json")
    assert code == 0
    assert {"structlog", "pydantic"} <= packages


def test_decode_imports_only_its_own_command_module() -> None:
    probe = (
        "import json, sys\n"
        "from retrotread.cli.app import run\n"
        "run(['decode', 'control-point', '08:01'])\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('retrotread.cli.'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert "retrotread.cli.decode_cmd" in loaded
    assert not loaded & (set(COMMAND_MODULES.values()) - {"retrotread.cli.decode_cmd"})


def test_help_lists_every_command_without_importing_any() -> None:
    probe = (
        "import json, sys\n"
        "from retrotread.cli.app import run\n"
        "run(['--help'])\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('retrotread.cli.'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    *help_lines, modules = done.stdout.splitlines()
    assert not set(json.loads(modules)) & set(COMMAND_MODULES.values())
    listed = {line.split()[0] for line in help_lines if line.startswith("  ") and line.split()}
    assert set(COMMAND_MODULES) <= listed


@pytest.mark.parametrize("limit", [20, 45, 80, 200])
def test_each_summary_is_the_short_help_its_command_gives(limit: int) -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, Group)
    for name, summary in COMMAND_SUMMARIES.items():
        command = group.get_command(click_core.Context(group), name)
        assert command is not None, name
        assert command.get_short_help_str(limit) == make_default_short_help(summary, limit), name
    assert set(COMMAND_SUMMARIES) == set(COMMAND_MODULES)


def test_each_listed_module_registers_the_command_it_is_listed_under() -> None:
    for name, module in COMMAND_MODULES.items():
        importlib.import_module(module)
        assert app.command_infos[name].callback is not None, name
        assert app.command_infos[name].callback.__module__ == module, name
    assert set(app.command_infos) == set(COMMAND_MODULES)


def test_parameters_of_other_kinds_are_still_checked_by_typer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Numbers are not among the kinds converted without pydantic: typer's own check applies."""
    assert run(["scan", "--timeout", "0.01"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("retrotread: error: Invalid value for '--timeout'")
    assert run(["scan", "--timeout", "soon"]) == 2
    assert "'--timeout'" in capsys.readouterr().err


def test_a_choice_outside_the_list_names_the_valid_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(["--log-format", "xml", "programs"]) == 2
    assert capsys.readouterr().err == (
        "retrotread: error: Invalid value for '--log-format': 'xml' is not one of 'auto',"
        " 'console', 'json'.\n"
    )
