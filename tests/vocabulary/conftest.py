"""Settings tests start from a clean slate: no stray RETROTREAD_* variables, empty homes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.settings import clean_environment


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No stray RETROTREAD_* variables, and a user config home that holds nothing yet (the data
    dir is left to the settings' own default, which some tests read)."""
    clean_environment(monkeypatch, tmp_path, data_dir=False)
