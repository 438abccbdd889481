"""`--resume` finishes an interrupted run with its own plans; `--replay` repeats one case's outcome."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys

import pytest

from rig.netutil import default_sigint
from rig_cli import rig

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset


def test_resume_completes_an_interrupted_run_with_the_same_plans(tmp_path):
    out = tmp_path / "R"
    proc = subprocess.Popen([sys.executable, "-m", "rig.cli", "run", "power-cut", "--report-dir", str(out), "--points", "4",
                             "--spread", "random", "--seed", "11"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    try:
        for line in proc.stdout:
            if " 2/5 " in line:
                break
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    partial = json.loads((out / "report.json").read_text())
    assert partial["run"]["complete"] is False and 2 <= len(partial["results"]) < 5
    done = [r["name"] for r in partial["results"]]

    resumed = rig("run", "--resume", str(out))
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"{len(done)} cases done" in resumed.stdout
    report = json.loads((out / "report.json").read_text())
    names = [r["name"] for r in report["results"]]
    assert names[: len(done)] == done and len(names) == 5 and len(set(names)) == 5
    assert report["run"]["complete"] is True and report["run"]["seed"] == 11
    assert report["run"]["resumed_after"]
    assert sum(n.startswith("random-block-") for n in names) == 2
    # The resumed run goes on in its own row of the history: every case once, complete at the end.
    row = report["run"]["history"]
    with sqlite3.connect(row["file"]) as conn:
        recorded = [r[0] for r in conn.execute("SELECT name FROM cases WHERE run_id = ? ORDER BY id", (row["run"],))]
        complete = conn.execute("SELECT complete FROM runs WHERE id = ?", (row["run"],)).fetchone()[0]
    assert sorted(recorded) == sorted(names) and complete == 1


def test_replay_reproduces_a_failing_case(tmp_path):
    out = tmp_path / "R"
    first = rig("run", "power-cut", "--report-dir", str(out), "--points", "0", "--sim-defect", "state-not-persisted")
    assert first.returncode == 1, first.stdout + first.stderr
    original = json.loads((out / "report.json").read_text())["results"][0]
    assert original["outcome"] == "fail"

    again = rig("run", "--replay", f"{out}/report.json#baseline-no-cut")
    assert again.returncode == 1, again.stdout + again.stderr
    assert "replay of baseline-no-cut: fail (originally fail): reproduced" in again.stdout
    replayed = json.loads((out / "replay-baseline-no-cut" / "report.json").read_text())
    assert replayed["run"]["defects"] == ["state-not-persisted"]
    assert {v["rule"] for v in replayed["results"][0]["violations"]} == {v["rule"] for v in original["violations"]}


def test_resume_and_replay_name_what_is_wrong(tmp_path):
    missing = rig("run", "--resume", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "no report.json" in missing.stderr and "Traceback" not in missing.stderr
    bad_ref = rig("run", "--replay", str(tmp_path))
    assert bad_ref.returncode == 2 and "name the case after '#'" in bad_ref.stderr
