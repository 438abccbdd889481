"""The rig as a user gets it from a wheel (`pip install lwm2m-fota-rig`, pipx): installed into a fresh venv
outside the checkout, `rig run --points 2` from another directory passes, finding its targets in the wheel.

The wheel is built from a copy of the checkout (so the build leaves nothing in it); the
venv has no access to the checkout or this test's venv (no --system-site-packages, no
PYTHONPATH): pip installs the wheel's dependencies the ordinary way, from its configured
index (and its cache, when it has one). This is the one test that pays for a venv.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

ROOT = Path(__file__).resolve().parents[1]
TOP_LEVEL_JUNK = shutil.ignore_patterns(".git", ".venv*", "build", "dist", "*.egg-info", ".hypothesis", "rig-results",
                                       "rig-work", "report*", "tests")


def not_source(directory: str, names: list[str]) -> set[str]:
    """What the copy leaves out: caches anywhere, and the checkout's own junk at its top level only."""
    junk = {n for n in names if n == "__pycache__"}
    return junk | (TOP_LEVEL_JUNK(directory, names) if Path(directory) == ROOT else set())


def run(argv: list, cwd: Path, timeout: float, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert done.returncode == 0, f"{' '.join(map(str, argv[:4]))}: {done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done


def test_the_wheel_installs_into_a_fresh_venv_and_rig_run_passes_elsewhere(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    src, dist, elsewhere = tmp_path / "src", tmp_path / "dist", tmp_path / "somewhere-else"
    shutil.copytree(ROOT, src, ignore=not_source)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, src], tmp_path, 300, env)
    (wheel,) = dist.glob("lwm2m_fota_rig-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "rig/targets/virtual.toml" in names and "rig/targets/host_sim_vendor.toml" in names

    home = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(home)
    python = home / "bin" / "python"
    run([python, "-m", "pip", "install", "-q", wheel], tmp_path, 600, env)
    elsewhere.mkdir()
    where = run([python, "-c", "import rig, rig.target_files as t; print(rig.__file__); print(t.targets_dir())"],
                elsewhere, 60, env).stdout.split()
    assert all(Path(p).is_relative_to(home) for p in where), f"the rig ran from {where}, not the venv {home}"

    done = subprocess.run([home / "bin" / "rig", "run", "--points", "2", "--report-dir", "R"], cwd=elsewhere,
                          capture_output=True, text=True, timeout=400, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((elsewhere / "R" / "report.json").read_text())
    assert report["run"]["complete"] and report["target"] == "virtual"
    assert not any(r["outcome"] in ("fail", "error") for r in report["results"])
    listed = run([home / "bin" / "rig", "targets"], elsewhere, 60, env).stdout
    assert "host_sim_vendor" in listed and str(home) in listed
