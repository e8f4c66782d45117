"""Config files for settings tests, and the one-line refusal every bad setting must give."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrotread.config import load_settings
from retrotread.errors import InputError


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
