"""Where shipped configs live: the repo's `configs/` in a checkout, `_configs` in a wheel."""

from __future__ import annotations

from pathlib import Path


def configs_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here.parent.parent / "configs", here / "_configs"):
        if (candidate / "default.toml").is_file():
            return candidate
    raise FileNotFoundError("retrotread's configs/ directory is missing from this installation")
