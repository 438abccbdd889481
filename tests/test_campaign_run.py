"""`rig run` end to end on the virtual board, as the README's main job runs it (real subprocesses)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from rig.netutil import default_sigint
from rig_cli import rig

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset


def test_rig_run_passes_and_writes_reports(tmp_path):
    """The README's main job: the standard suite (power cuts, then the conformance cases) all green."""
    out = tmp_path / "R"
    proc = rig("run", "--report-dir", str(out), "--points", "4")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["target"] == "virtual" and report["run"]["complete"]
    names = [r["name"] for r in report["results"]]
    cuts, conformance = names[:5], names[5:]
    assert cuts[0] == "baseline-no-cut"
    assert sum(n.startswith("download-block-") for n in cuts) == 2
    assert sum(n.startswith(("swap-op-", "first-boot-op-")) for n in cuts) == 2
    assert conformance and all(n.startswith("conf-") for n in conformance)
    assert {row["id"] for row in report["conformance"]} >= {"751", "770", "771", "772", "779"}
    signed = {r["name"]: r for r in report["results"]}
    for name in ("conf-779-wrong-key", "conf-779-downgrade"):  # the board checks the run's test key
        assert not (signed[name]["plan"] or {}).get("skipped") and signed[name]["update_result"] == 8
    for r in report["results"]:  # a case that does not apply to the virtual board is a skip, never a pass
        assert r["outcome"] == ("skip" if (r["plan"] or {}).get("skipped") else "pass"), r
        assert (out / r["console_log"]).is_file() and (out / r["timeline_file"]).is_file()
    skipped = [r["name"] for r in report["results"] if r["outcome"] == "skip"]
    assert "conf-774-out-of-memory" in skipped and report["summary"]["skip"] == len(skipped)
    assert f"{len(names) - len(skipped)} passed, 0 failed, 0 errors, {len(skipped)} skipped" in proc.stdout
    for r in report["results"][:5]:
        assert r["booted_version"].startswith("1.1.0") and r["update_result"] == 1 and r["state"] == 0
    cut_cases = [r for r in report["results"] if r["cut"]]
    assert all(r["phase"] in ("downloading", "downloaded", "updating", "rebooted") for r in cut_cases)
    assert [r["phase"] for r in cut_cases if r["cut"]["kind"] == "flash-op"][0] == "updating"
    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    assert suite.get("tests") == str(len(names)) and suite.get("failures") == "0" and suite.get("errors") == "0"
    assert suite.get("skipped") == str(len(skipped)) and len(suite.findall("testcase/skipped")) == len(skipped)
    assert "<svg" in (out / "report.html").read_text() and "report.html" in proc.stdout


def test_ctrl_c_leaves_a_partial_report(tmp_path):
    out = tmp_path / "R"
    proc = subprocess.Popen([sys.executable, "-m", "rig.cli", "run", "--report-dir", str(out), "--points", "6"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    try:
        for line in proc.stdout:
            if " baseline-no-cut " in line:
                break
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    report = json.loads((out / "report.json").read_text())
    assert report["run"]["complete"] is False and report["run"]["stopped"]
    assert report["results"] and report["results"][0]["name"] == "baseline-no-cut"
    assert (out / "timeline.jsonl").is_file()
