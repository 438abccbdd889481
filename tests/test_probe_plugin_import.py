"""The probe plugin imports in either order: pyocd first, or rig.sim.probe_plugin first (which starts pyocd's own
import, during which pyocd loads this very plugin)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

CHECK = """
from pyocd.probe.aggregator import PROBE_CLASSES
from pyocd.target import TARGET
assert "rig_virtual" in TARGET, "target type registered"
probe = PROBE_CLASSES["rigsim"]
assert hasattr(probe, "get_all_connected_probes")
print("ok", probe.get_all_connected_probes())
"""


@pytest.mark.parametrize("first", ["import rig.sim.probe_plugin", "import pyocd", "import rig.console.rtt"])
def test_plugin_loads_whatever_is_imported_first(first, tmp_path):
    proc = subprocess.run([sys.executable, "-c", first + "\n" + CHECK], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path, env={"RIG_SIM_REGISTRY": str(tmp_path / "none"), "PATH": ""})
    assert proc.returncode == 0 and proc.stdout.startswith("ok []"), proc.stderr[-2000:]
