"""How fast the command line starts: each command as a fresh process beside a bare interpreter.

Every command is spawned N times, each run interleaved with a bare `python -c pass` of the same
venv spawned and read the same way (stdout on a pipe, read to its end, stderr discarded), so that
the load of a shared machine weighs on both alike. Printed per command: the median wall time and
the median of the per-run ratios to the bare interpreter, with the goal beside it (`--help`,
`programs`, `decode` and `--version`: at most 6x). `run --sim` is timed from spawn to its first
event line on stdout (`--json`), the moment a person or a script sees the session start; its
goal is "no slower than before", so it prints the figure to compare, not a ratio goal.
Then the `-X importtime` offenders of each quick command (median per module over a few runs).

The child interpreters get their bytecode cached (in a temp dir), as an installed package would;
this environment sets PYTHONDONTWRITEBYTECODE. Each run gets private config, data and runtime
directories, so no user config or running session changes what is measured.
Usage: python -m benchmarks.cli [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.importtime import RETROTREAD, VENV_PYTHON, import_profile, print_top_imports

REPO = Path(__file__).resolve().parents[1]
RUNS = 21
GOAL_RATIO = 6.0

# A Treadmill Data packet captured from a treadmill (speed, distance, energy, elapsed time).
TREADMILL_DATA_HEX = "84 04 90 01 01 00 00 00 00 ff ff ff 04 00"

QUICK_COMMANDS: dict[str, list[str]] = {
    "--help": ["--help"],
    "programs": ["programs"],
    "decode": ["decode", "treadmill-data", TREADMILL_DATA_HEX],
    "--version": ["--version"],
}
RUN_SIM = ["run", "--sim", "--json", "--yes", "--time-scale", "100000"]


def child_env(root: Path) -> dict[str, str]:
    """The caller's environment minus RETROTREAD_*, with bytecode cached and private dirs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETROTREAD_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
    env["XDG_RUNTIME_DIR"] = str(root / "runtime")
    env["XDG_CONFIG_HOME"] = str(root / "config")
    env["XDG_DATA_HOME"] = str(root / "xdg-data")
    env["RETROTREAD_DATA_DIR"] = str(root / "data")
    (root / "runtime").mkdir(mode=0o700)
    return env


def spawn(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run `cmd` to its exit; (seconds to its first stdout line, seconds to exit). Every child
    here, the bare interpreter included, is timed this way."""
    start = time.perf_counter()
    child = subprocess.Popen(
        cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert child.stdout is not None
    child.stdout.readline()
    first = time.perf_counter() - start
    child.stdout.read()
    code = child.wait()
    whole = time.perf_counter() - start
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd[1:])} exited {code}")
    return first, whole


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def beside_bare(env: dict[str, str], args: list[str]) -> tuple[float, float]:
    """(command seconds, bare interpreter seconds): `retrotread ARGS` spawned right after a bare
    `python -c pass`, both to their exit."""
    bare = spawn([str(VENV_PYTHON), "-c", "pass"], env)[1]
    whole = spawn([str(RETROTREAD), *args], env)[1]
    return whole, bare


def medians_beside_bare(
    env: dict[str, str], args: list[str], runs: int
) -> tuple[float, float, float]:
    """Medians over `runs` runs of `beside_bare`: command seconds, bare seconds, per-run ratio."""
    pairs = [beside_bare(env, args) for _ in range(runs)]
    return (
        statistics.median(w for w, _ in pairs),
        statistics.median(b for _, b in pairs),
        statistics.median(w / b for w, b in pairs),
    )


WALL_TABLE_HEADER = f"  {'retrotread ...':<34} {'wall':>9} {'bare python':>10} {'ratio':>9}"


def wall_table_row(label: str, whole: float, bare: float, ratio: float, note: str = "") -> str:
    """A row under WALL_TABLE_HEADER: the command's wall time, the bare interpreter's, ratio."""
    return f"  {label:<34} {whole:7.3f} s {ms(bare):>10} {ratio:8.1f}x{note}"


def measure(env: dict[str, str], runs: int) -> None:
    bare_cmd = [str(VENV_PYTHON), "-c", "pass"]
    commands = {**QUICK_COMMANDS, "run --sim (first event)": RUN_SIM}
    for args in commands.values():  # warm the bytecode cache and the page cache
        for _ in range(2):
            spawn(bare_cmd, env)
            spawn([str(RETROTREAD), *args], env)
    print(f"median of {runs} runs each, bytecode cached; load average {os.getloadavg()[0]:.1f}")
    print(f"  {'command':<28} {'bare python':>12} {'command':>10} {'per-run ratio':>14}")
    for label, args in commands.items():
        first_line = args is RUN_SIM
        bare: list[float] = []
        timed: list[float] = []
        for _ in range(runs):
            bare.append(spawn(bare_cmd, env)[1])
            first, whole = spawn([str(RETROTREAD), *args], env)
            timed.append(first if first_line else whole)
        ratio = statistics.median(t / b for t, b in zip(timed, bare, strict=True))
        goal = "   (compare with before)" if first_line else f"   (goal <= {GOAL_RATIO:g}x)"
        print(
            f"  {label:<28} {ms(statistics.median(bare)):>12} {ms(statistics.median(timed)):>10}"
            f" {ratio:>13.2f}x{goal}"
        )


def importtime(env: dict[str, str], args: list[str], runs: int = 5, top: int = 6) -> None:
    """The modules that cost a command the most start-up time: median over `runs` runs."""
    rows = import_profile(env, args, runs)
    total = sum(row[0] for row in rows)
    print(f"  retrotread {' '.join(args[:2])}: {len(rows)} modules, {total / 1000:.1f} ms self")
    print_top_imports(rows, top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    runs = parser.parse_args().runs
    root = Path(tempfile.mkdtemp(prefix="rtb-cli-"))
    try:
        env = child_env(root)
        measure(env, runs)
        print("-X importtime, top-level imports by cumulative time:")
        for args in QUICK_COMMANDS.values():
            importtime(env, args)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
