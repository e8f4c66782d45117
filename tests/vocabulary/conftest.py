"""Settings tests start from a clean slate: no stray RETROTREAD_* variables, empty homes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No stray RETROTREAD_* variables, and a user config home that holds nothing yet."""
    for name in list(os.environ):
        if name.upper().startswith("RETROTREAD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
