"""Fixtures for the contract suite: the product driven the way SPEC.md words it.

Every test gets its own runtime, config and data directories, so sessions, sockets and journals of
one test never meet another's. Two ways in: the installed console script in a subprocess (what an
outside test-suite sees) and `retrotread.cli.app.run` in-process (the same parser and commands,
without the interpreter start-up) where a test runs many sessions.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.support.cli import Outcome, RunScript, Sandbox, console


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    """A short private runtime dir, like /run/user/UID: a Unix socket path must fit 107 bytes,
    which pytest's deep tmp_path would not leave room for."""
    path = Path(tempfile.mkdtemp(prefix="rt-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def sandbox(tmp_path: Path, runtime_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    runtime = runtime_dir
    env = {
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "RETROTREAD_DATA_DIR": str(tmp_path / "data"),
    }
    for key in [k for k in os.environ if k.startswith("RETROTREAD_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Sandbox(tmp_path, {**os.environ, **env})




@pytest.fixture
def retrotread(sandbox: Sandbox) -> RunScript:
    """Run the console script: `retrotread(*args, env={...}, stdin="")`."""

    def run(*args: str, env: Mapping[str, str] | None = None, timeout: float = 60) -> Outcome:
        return console({**sandbox.env, **(env or {})}, *args, timeout=timeout)

    return run


@pytest.fixture
def cli(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> RunScript:
    """Run the same command line in-process (stdin is not a terminal under pytest)."""
    from retrotread.cli.app import run as run_cli

    def run(*args: str) -> Outcome:
        capsys.readouterr()
        code = run_cli(list(args))
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run
