"""The layout is the architecture (DESIGN.md "Layout"): every import points down the data flow.

A numbered layer imports only lower layers and the shared vocabulary at the top of the tree; the
vocabulary imports only itself; `ftms` imports nothing of ours; the simulator reaches our code only
through `ftms` and the vocabulary; only `target` imports the simulator. Imports under
`if TYPE_CHECKING:` are for the type checker and do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "retrotread"
SIMULATORS = SRC.parents[1] / "simulators"
VOCABULARY = {"units", "errors", "exit_codes", "events", "config", "logs", "validation", "paths",
              "inputs", "energy", "wording"}  # fmt: skip
LAYERS = {"ftms": 1, "treadmill": 2, "safety": 3, "session": 4, "channels": 5, "history": 6,
          "target": 7, "run": 8, "stop": 8, "info": 8, "decode": 8, "review": 8, "export": 8,
          "coach": 8, "cli": 9}  # fmt: skip


def runtime_imports(path: Path) -> set[str]:
    """Every module `path` imports at run time (TYPE_CHECKING blocks left out)."""
    tree = ast.parse(path.read_text())
    skipped = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for stmt in block.body
        for node in ast.walk(stmt)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def top(module: str) -> str | None:
    """`retrotread.safety.limits` -> "safety"; None for anything not ours."""
    parts = module.split(".")
    return parts[1] if parts[0] == "retrotread" and len(parts) > 1 else None


def offences(src: Path = SRC, simulators: Path = SIMULATORS) -> list[str]:
    found = []
    for path in sorted(src.rglob("*.py")):
        home = path.relative_to(src).parts[0].removesuffix(".py")
        if home == "__init__":
            continue
        for module in runtime_imports(path):
            if module.startswith("simulators") and home != "target":
                found.append(f"{path.relative_to(src)} imports {module}")
            dep = top(module)
            if dep is None or dep == home or dep not in VOCABULARY | set(LAYERS):
                continue
            upward = home in LAYERS and dep in LAYERS and LAYERS[dep] >= LAYERS[home]
            if home == "ftms" or (home in VOCABULARY and dep not in VOCABULARY) or upward:
                found.append(f"{path.relative_to(src)} imports {module}")
    for path in sorted(simulators.rglob("*.py")):
        for module in runtime_imports(path):
            dep = top(module)
            if dep is not None and dep != "ftms" and dep not in VOCABULARY:
                found.append(f"simulators/{path.relative_to(simulators)} imports {module}")
    return found


def test_every_import_points_down() -> None:
    assert offences() == []


def test_the_rule_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from retrotread.cli import app\nif TYPE_CHECKING:\n    import simulators\n")
    assert runtime_imports(module) == {"retrotread.cli", "retrotread.cli.app"}


def test_the_rule_refuses_each_kind_of_offence(tmp_path: Path) -> None:
    src, sims = tmp_path / "retrotread", tmp_path / "simulators"
    for name, text in {
        "safety/up.py": "from retrotread.session import engine\n",
        "ftms/ours.py": "from retrotread import units\n",
        "config.py": "from retrotread.safety import limits\n",
        "run.py": "import simulators.harness\n",
        "cli/fine.py": "from retrotread.run import prepare\nfrom retrotread import events\n",
    }.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text)
    sims.mkdir()
    (sims / "sim.py").write_text("from retrotread.safety import supervisor\n")
    assert {line.split(" imports ")[0] for line in offences(src, sims)} == {
        "safety/up.py",
        "ftms/ours.py",
        "config.py",
        "run.py",
        "simulators/sim.py",
    }
