"""The house: every import in rig/ runs down the layers below, and no two top-level parts import each other.

Read from the source (ast, not import), at every depth: an import inside a function counts the same as one at
the top, so a lazy import can spare start-up time but can never hide a cycle. A part is a package or a module
directly under rig/ (rig/place, rig/config.py, ...).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import rig

RIG = Path(rig.__file__).parent

# Top to bottom. A part may import parts of lower layers only; parts of one layer do not import each other.
LAYERS: list[set[str]] = [
    {"cli"},
    {"commands", "pytest_plugin"},
    {"run"},  # rig run, the case wrapper, cut-plan and conformance runs, narrow
    {"conformance"},
    {"campaign"},  # one cut plan's update: known start, cutter, driver, recovery, measurements
    {"place"},  # which place, opening it, its session, power policy, the self-started virtual board
    {"relayd", "packages"},
    {"power", "probe", "console"},
    {"sim"},  # the virtual board: imports no judge (tests/test_sim_independence.py)
    {"config", "verdict", "report", "event_lines", "lab"},
    {"backend_config", "target_tables", "mcuboot", "history", "lwm2m", "package_spec", "placeholders",
     "target_security", "target_files", "version_rule", "faults", "netutil"},
    {"config_schema", "flash_layout", "results", "timeline", "backends"},
    {"errors"},
]
LAYER_OF = {part: depth for depth, parts in enumerate(LAYERS) for part in parts}


def part_of(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def module_name(path: Path) -> str:
    parts = path.relative_to(RIG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every rig import in the file, relative ones resolved, at any depth."""
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            found.append((node.lineno, ".".join(base + ([node.module] if node.module else []))))
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return sorted((line, m) for line, m in found if m.startswith("rig."))


def arrows() -> dict[tuple[str, str], list[str]]:
    """{(from part, to part): ["rig/x.py:12", ...]} over the whole package."""
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(RIG.rglob("*.py")):
        source = part_of(module_name(path))
        for line, module in imports(path):
            target = part_of(module)
            if target != source:
                seen[(source, target)].append(f"{path.relative_to(RIG.parent)}:{line}")
    return seen


def test_every_part_of_rig_has_a_layer():
    parts = {part_of(module_name(p)) for p in RIG.rglob("*.py")} - {"rig"}
    assert parts - set(LAYER_OF) == set(), "new parts of rig/ need a place in LAYERS"
    assert set(LAYER_OF) - parts == set(), "LAYERS names parts that are gone"


def upward_arrows() -> list[str]:
    return [f"{a} -> {b}: {', '.join(where[:3])}" for (a, b), where in arrows().items()
            if LAYER_OF.get(a, 0) >= LAYER_OF.get(b, 0)]


def test_every_import_runs_down_the_layers():
    upward = upward_arrows()
    assert upward == [], "imports that run up or sideways:\n" + "\n".join(upward)


def test_the_check_sees_lazy_and_relative_imports(tmp_path, monkeypatch):
    """The rule can fail: an import inside a function and a relative one are both found, and each runs up."""
    package = tmp_path / "rig" / "verdict"
    package.mkdir(parents=True)
    (package / "x.py").write_text("def f():\n    from rig.campaign import case\nfrom ..place import open\n")
    monkeypatch.setitem(globals(), "RIG", tmp_path / "rig")
    assert imports(package / "x.py") == [(2, "rig.campaign"), (3, "rig.place")]
    assert [a.split(":")[0] for a in upward_arrows()] == ["verdict -> campaign", "verdict -> place"]
