"""The plugin's options pick the place: the power-cut suite on a host-process target via --rig-target.

Runs pytest in a subprocess, as a nightly job would, and reads the report the
fixtures wrote: the same report.json a `rig run` writes.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

ROOT = Path(__file__).resolve().parents[1]


def test_rig_target_option_drives_the_suite_on_that_target(tmp_path):
    report_dir = tmp_path / "R"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "test_powercut_suite.py"),
         "-k", "baseline or download-0", "--rig-target", str(ROOT / "targets" / "host_sim.toml"),
         "--rig-report-dir", str(report_dir), "--rig-history", str(tmp_path / "h.sqlite")],
        capture_output=True, text=True, timeout=240, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "2 passed" in proc.stdout
    report = json.loads((report_dir / "report.json").read_text())
    assert report["target"] == "host_sim" and report["run"]["target_file"].endswith("host_sim.toml")
    assert [r["name"] for r in report["results"]][:1] == ["baseline-no-cut"]
    assert all(r["outcome"] == "pass" for r in report["results"])
    assert report["run"]["complete"] is True  # the session closed the place: its last write marks the report whole
    with sqlite3.connect(tmp_path / "h.sqlite") as conn:  # the session's cases are in the history, as a pytest run
        runs = conn.execute("SELECT source, place, target, complete FROM runs").fetchall()
        cases = [r[0] for r in conn.execute("SELECT name FROM cases ORDER BY id")]
    assert runs == [("pytest", "host_sim", "host_sim", 1)] and cases == [r["name"] for r in report["results"]]


def test_expect_pass_maps_each_outcome_to_pytests_own():
    import pytest

    from rig.pytest_plugin import expect_pass
    from rig.results import CaseResult, Violation

    expect_pass(CaseResult("a", "pass"))
    with pytest.raises(pytest.skip.Exception, match="skipped: push only"):
        expect_pass(CaseResult("b", "skip", message="skipped: push only"))
    with pytest.raises(pytest.fail.Exception, match=r"^\[bricked-after-cut\] never came back"):
        expect_pass(CaseResult("c", "fail", violations=[Violation("bricked-after-cut", "x")],
                               message="[bricked-after-cut] never came back"))
    with pytest.raises(pytest.fail.Exception, match="RIG ERROR .* rig error \\(power: relay stuck\\)"):
        expect_pass(CaseResult("d", "error", error="rig error (power: relay stuck)"))


def test_a_bad_rig_option_fails_the_session_with_one_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "test_powercut_suite.py"),
         "-k", "baseline", "--rig-target", str(tmp_path / "missing.toml")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert proc.returncode != 0
    assert "rig: --rig-target" in proc.stdout and "no such target file" in proc.stdout
