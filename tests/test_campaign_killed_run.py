"""A `rig run` killed with SIGKILL (an OOM kill, a CI job's hard timeout) never reads green, leaves nothing running,
and `rig run --resume` finishes it.

Real subprocesses: the rig, its virtual board's supervisor, zygote and MCU. A
small image and two cut points keep it to a few seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from proc_helpers import all_gone, descendants, survivors
from sim_board import make_image, start_board

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset


def test_sigkilled_run_is_incomplete_leaves_no_process_and_resumes(tmp_path):
    out = tmp_path / "R"
    proc = subprocess.Popen([sys.executable, "-m", "rig.cli", "run", "power-cut", "--report-dir", str(out),
                             "--points", "2", "--image-size", "8K"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tree: set[int] = set()
    try:
        for line in proc.stdout:
            if " 2/3 " in line:  # two of the three cases are written
                break
        tree = descendants(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(tree) >= 3, tree  # supervisor, zygote, MCU (at least)
    assert all_gone(tree, timeout=15), f"processes of the killed run still running: {survivors(tree)}"

    report = json.loads((out / "report.json").read_text())
    run = report["run"]
    assert run["complete"] is False and run["expected"] == 3, run
    assert len(report["results"]) == 2 and len(run["not_run"]) == 1, run["not_run"]
    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    assert int(suite.get("errors")) >= 1 and suite.get("tests") == "4", suite.attrib  # 2 run, 1 not run, 1 'incomplete'
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases[run["not_run"][0]].find("skipped").get("message").startswith("not run: the run stopped")
    assert cases["rig-run-incomplete"].find("error") is not None

    resumed = subprocess.run([sys.executable, "-m", "rig.cli", "run", "--resume", str(out)],
                             capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "2 cases done" in resumed.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["run"]["complete"] is True and report["run"]["not_run"] == []
    assert len(report["results"]) == 3 and all(r["outcome"] == "pass" for r in report["results"])
    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    assert suite.get("tests") == "3" and suite.get("errors") == "0" and suite.get("failures") == "0"
    assert "stopped supervisor" in (out / "board" / "supervisor.log").read_text() or \
        "left here" in (out / "board" / "supervisor.log").read_text()


def test_a_board_directory_with_a_supervisor_still_running_is_taken_over(tmp_path):
    image = make_image(tmp_path, "1.0.0", size=8 * 1024)
    first = start_board(tmp_path / "board", image=image)
    try:
        second = start_board(tmp_path / "board", image=image)
        try:
            assert first.proc.wait(timeout=15) is not None  # the takeover stopped it: one flash file, one owner
            assert json.loads((tmp_path / "board" / "board.json").read_text())["pid"] == second.proc.pid
            assert f"stopped supervisor pid {first.proc.pid}" in (tmp_path / "board" / "supervisor.log").read_text()
        finally:
            second.stop()
    finally:
        first.stop()
