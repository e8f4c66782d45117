"""Fixtures for the contract suite: the product driven the way SPEC.md words it.

Every test gets its own runtime, config and data directories, so sessions, sockets and journals of
one test never meet another's. Two ways in: the installed console script in a subprocess (what an
outside test-suite sees) and `retrotread.cli.app.run` in-process (the same parser and commands,
without the interpreter start-up) where a test runs many sessions.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

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


RunScript = Callable[..., Outcome]


@pytest.fixture
def retrotread(sandbox: Sandbox) -> RunScript:
    """Run the console script: `retrotread(*args, env={...}, stdin="")`."""

    def run(*args: str, env: Mapping[str, str] | None = None, timeout: float = 60) -> Outcome:
        done = subprocess.run(
            [str(CONSOLE_SCRIPT), *args],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            env={**sandbox.env, **(env or {})},
            timeout=timeout,
            check=False,
        )
        return Outcome(done.returncode, done.stdout, done.stderr)

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
