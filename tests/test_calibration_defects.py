"""Calibration: every field defect of the virtual board makes the standard `rig run` fail, by a general rule.

The same suite is all green on the correct board (test_campaign_run); here each
defect in turn must end the run non-zero with a named violation in report.json.
`-x` stops each run at its first failing case, so the sweep costs seconds, not minutes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from rig.sim.defects import DEFECTS

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

# A defect must be caught by a verdict rule (docs/object5.md invariants, the oracle, flash verdicts, the numbered
# conformance checks), not end in a rig-side error.
RIG_SIDE = ("case-error", "cut-not-reached")
# Defects that only show where the standard suite makes the device defer or reads its Last State Change Time:
# those runs select the suite's cases that do (-k; the baseline runs too), since the rest cannot see them and a
# whole run each would double this test's time. They must be caught by a general rule (one applied to every case
# of every target: no "CASE:" prefix), not only by the case's own checks.
FOCUS = {"defer-forgotten-after-cut": "defer-after-cut", "lsct-not-updated": "lsct"}


def run_with(defect: str, out) -> tuple[str, subprocess.CompletedProcess]:
    focus = ["-k", FOCUS[defect]] if defect in FOCUS else []
    proc = subprocess.run(
        [sys.executable, "-m", "rig.cli", "run", "-x", "--points", "4", "--sim-defect", defect, *focus,
         "--report-dir", str(out / defect)],
        capture_output=True, text=True, timeout=400,
    )
    return defect, proc


def test_every_defect_is_caught_by_the_standard_suite(tmp_path):
    with ThreadPoolExecutor(max_workers=3) as pool:  # the runs mostly wait on timeouts of broken boards
        runs = list(pool.map(lambda d: run_with(d, tmp_path), DEFECTS))
    caught = {}
    for defect, proc in runs:
        assert proc.returncode == 1, f"{defect}: rig run exited {proc.returncode}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
        report = json.loads((tmp_path / defect / "report.json").read_text())
        assert report["run"]["defects"] == [defect]
        bad = [r for r in report["results"] if r["outcome"] != "pass"]
        assert bad and bad[-1]["violations"], (defect, report["results"][-1])
        assert bad[-1]["outcome"] == "fail", (defect, bad[-1]["outcome"], bad[-1]["message"])  # the device's, not the rig's
        caught[defect] = bad[-1]["violations"][0]["rule"]
        if defect in FOCUS:
            general = [v["rule"] for v in bad[-1]["violations"] if ":" not in v["rule"]]
            assert general, (defect, bad[-1]["violations"])
            caught[defect] = general[0]
        assert report["run"]["stopped"].startswith("stopped at the first failure")
    unexpected = {d: r for d, r in caught.items() if r in RIG_SIDE}
    assert not unexpected, unexpected
    print("\n".join(f"{d:<34} caught by [{r}]" for d, r in caught.items()))
