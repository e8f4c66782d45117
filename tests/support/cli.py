"""The product driven as SPEC.md words it: a command's outcome, a private sandbox of
directories standing in for a user's machine (the contract suite's fixtures build on these), a
session running in its own process, and the modules a command imports."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CONSOLE_SCRIPT = Path(sys.executable).parent / "retrotread"
FAST = ("--time-scale", "100000")
LONG_PLAN = '[[segments]]\nname = "long"\nduration_s = 3600\ntarget_mph = 1.0\n'


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


def private_env(root: Path, runtime: Path | None = None, **extra: str) -> dict[str, str]:
    """This process's environment without RETROTREAD_* variables, with private config and data
    directories below `root`, the runtime directory `runtime` (apart from `root`: a socket path
    must stay short; None keeps this process's, which every test gets its own of), and `extra`
    on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETROTREAD_")}
    if runtime is not None:
        env["XDG_RUNTIME_DIR"] = str(runtime)
    env.update(
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_DATA_HOME=str(root / "xdg-data"),
        RETROTREAD_DATA_DIR=str(root / "data"),
        **extra,
    )
    return env


def console(env: Mapping[str, str], *args: str, timeout: float = 60) -> Outcome:
    """`retrotread ARGS` in its own process with `env` and no stdin, to its exit."""
    done = subprocess.run(
        [str(CONSOLE_SCRIPT), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=timeout,
        check=False,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


@contextlib.contextmanager
def session_under_way(
    sandbox: Sandbox, args: Sequence[str], reached: Callable[[str], bool]
) -> Iterator[subprocess.Popen[str]]:
    """`run --sim --plan LONG_PLAN ARGS` (an hour at 1 mph) in its own process, its stdout read
    up to the first line `reached` accepts (the session ending first fails the test, with its
    stderr); killed at the end if it still runs."""
    plan = sandbox.plan(LONG_PLAN)
    process = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "run", "--sim", "--plan", str(plan), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=sandbox.env,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if reached(line):
                break
        else:
            pytest.fail(f"the session ended early: {process.stderr and process.stderr.read()}")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def imported_modules(
    *argv: str, env: Mapping[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """The console script run in a fresh interpreter under `-X importtime`: how it ended, and
    every module it imported (at least one: an empty report means the probe is broken)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(CONSOLE_SCRIPT), *argv],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=60,
        check=False,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "self [us]" not in line
    }
    assert modules, done.stderr
    return done, modules
