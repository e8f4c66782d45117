"""`-X importtime` of a retrotread command, as medians per module (shared by the benchmarks).

Not a benchmark of its own: `scripts/bench importtime` prints the plain `stop` path's profile.
"""

from __future__ import annotations

import statistics
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_PYTHON = REPO / ".venv" / "bin" / "python"
RETROTREAD = REPO / ".venv" / "bin" / "retrotread"

Row = tuple[float, float, str]  # median self µs, median cumulative µs, module (indented by depth)


def import_profile(env: dict[str, str], args: list[str], runs: int) -> list[Row]:
    """Each module `retrotread ARGS` imports, with its median self and cumulative import time
    over `runs` runs, sorted by self time."""
    samples: dict[str, list[tuple[int, int]]] = {}
    for _ in range(runs):
        result = subprocess.run(
            [str(VENV_PYTHON), "-X", "importtime", str(RETROTREAD), *args],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        for line in result.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, cumulative_us, name = line.removeprefix("import time:").split("|")
            # One space before a module imported at the top level, more for nested ones.
            samples.setdefault(name.rstrip(), []).append((int(self_us), int(cumulative_us)))
    return sorted(
        (statistics.median(s for s, _ in v), statistics.median(c for _, c in v), name)
        for name, v in samples.items()
    )


def print_top_imports(rows: list[Row], top: int = 8) -> None:
    """The `top` modules imported at the top level that cost the most, cumulative time first."""
    by_cumulative = sorted(rows, key=lambda row: row[1], reverse=True)
    top_level = [row for row in by_cumulative if not row[2].startswith("  ")][:top]
    for own, cumulative, module in top_level:
        print(f"    {cumulative / 1000:6.2f} ms cum {own / 1000:5.2f} ms self  {module.strip()}")


if __name__ == "__main__":
    import os

    rows = import_profile(dict(os.environ), ["stop"], 5)
    for own, cumulative, module in reversed(rows[-8:]):
        print(f"  {own / 1000:5.2f} ms self {cumulative / 1000:5.2f} ms cum  {module.strip()}")
