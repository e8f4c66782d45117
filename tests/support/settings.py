"""Config files for settings tests, the one-line refusal every bad setting must give, and the
clean environment that tests reading the settings start from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from retrotread.config import load_settings
from retrotread.errors import InputError


def clean_environment(
    monkeypatch: pytest.MonkeyPatch, root: Path, *, data_dir: bool = True
) -> Path:
    """No stray RETROTREAD_* variables (in any case: the settings read them so), and empty user
    homes: config in `root/xdg-config`, data in `root/xdg-data`. With `data_dir`,
    RETROTREAD_DATA_DIR is `root/data` too. Returns `root/data`."""
    for name in list(os.environ):
        if name.upper().startswith("RETROTREAD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(root / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(root / "xdg-data"))
    if data_dir:
        monkeypatch.setenv("RETROTREAD_DATA_DIR", str(root / "data"))
    return root / "data"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def refused(config_file: Path | None = None) -> str:
    """The error line of settings that must be refused: exit 2, one line."""
    with pytest.raises(InputError) as caught:
        load_settings(config_file)
    assert caught.value.exit_code == 2
    message = str(caught.value)
    assert "\n" not in message
    return message
