"""The virtual device never imports the checker that judges it (DESIGN.md: one mistake must not hide itself).

Every module under rig/sim is parsed (not imported) and each import statement,
at any depth (lazy imports inside functions included), is held against the
checker's packages. rig/sim/sweep_swap.py is a checking tool, not the device: it
drives the device in process and judges it with rig.mcuboot, so it may.
"""

from __future__ import annotations

import ast
from pathlib import Path

import rig

SIM = Path(rig.__file__).parent / "sim"
# rig.packages and rig.package_spec: the rig's side of package formats (the device has its own, rig.sim.app.vendor_package)
# rig.lwm2m.object5 and rig.lwm2m.events: the checker's Object 5 names and its reading of the timeline (the device keeps its own)
CHECKERS = ("rig.mcuboot", "rig.verdict", "rig.lwm2m.object5", "rig.lwm2m.events", "rig.packages", "rig.package_spec")
CHECKING_TOOLS = {"sweep_swap.py"}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, node.module)] + [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def checker_imports(path: Path) -> list[tuple[int, str]]:
    return [(line, name) for line, name in imported_modules(path)
            if any(name == c or name.startswith(c) for c in CHECKERS)]


def test_no_device_module_imports_the_checker():
    modules = [p for p in SIM.rglob("*.py") if p.name not in CHECKING_TOOLS]
    assert len(modules) > 30, "rig/sim was not found where expected"
    offences = [f"{path.relative_to(SIM.parent.parent)}:{line}: {name}"
                for path in modules for line, name in checker_imports(path)]
    assert offences == [], "the virtual device imports the checker:\n" + "\n".join(offences)


def test_the_scan_sees_lazy_and_from_imports(tmp_path):
    """The rule can fail: a module importing the checker inside a function is caught, a DTLS transport is not."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from rig.mcuboot.trailer import read_trailer\n    import rig.verdict\n"
                     "from rig.verdict import oracle_walk\nfrom rig.lwm2m.dtls import peer_text\n")
    assert {name for _, name in checker_imports(probe)} == {
        "rig.mcuboot.trailer", "rig.mcuboot.trailer.read_trailer", "rig.verdict", "rig.verdict.oracle_walk"}
