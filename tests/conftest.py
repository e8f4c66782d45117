"""Shared test settings. Each test package keeps its own fixtures in its own conftest.py."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(autouse=True)
def _private_runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test (and every process it starts) gets its own control-socket directory, so no
    test can reach a session of another test, or a real session of the developer running them.
    Short, in the system temp dir: a Unix socket path must fit in 107 bytes."""
    runtime = tempfile.mkdtemp(prefix="rt-test-")
    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    yield
    shutil.rmtree(runtime, ignore_errors=True)
