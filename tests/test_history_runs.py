"""Nights on the virtual board into one history: what `rig history` says after a regression, where `rig narrow`
finds it starts, two runs writing at once, and the word when fewer cut points exist than were asked for.

Real `rig run` / `rig history` / `rig narrow` processes, small images (8K: a swap of ~60 flash ops) and few points.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from rig.flash_layout import load_layout
from rig.report.html import write_html_report
from rig.sim.sweep_swap import build_scenarios, check_recovery, cut_states
from sim_board import TARGET
from rig_cli import rig

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

SMALL = ("--image-size", "8K")


def first_op_that_bricks(image_size: int, variant: str) -> int:
    """Independent of the campaign: the same bootloader on an in-memory flash, cut at every op of a test swap,
    the first op after whose cut nothing is bootable (rig.sim.sweep_swap)."""
    layout = load_layout(TARGET)
    scenario = build_scenarios(layout, image_size)[0]
    return next(n for n, _, flash in cut_states(layout, scenario, False, 0, variant)
                if check_recovery(flash, layout, scenario, variant)[0].startswith("nothing bootable"))


def test_history_names_a_new_failure_and_narrow_finds_the_first_failing_flash_op(tmp_path):
    history = tmp_path / "history.sqlite"
    night = ("run", "power-cut", "--points", "6", "-k", "swap-op", *SMALL)
    first = rig(*night, "--report-dir", str(tmp_path / "n1"), history=history)
    assert first.returncode == 0, first.stdout + first.stderr
    second = rig(*night, "--sim-defect", "swap-not-resumable", "--report-dir", str(tmp_path / "n2"), history=history)
    assert second.returncode == 1, second.stdout + second.stderr
    report = json.loads((tmp_path / "n2" / "report.json").read_text())
    failing = [r for r in report["results"] if r["outcome"] == "fail"]
    assert [r["name"] for r in failing] == ["swap-op-00047"]
    run2 = report["run"]["history"]["run"]

    shown = rig("history", history=history)
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout.split("new since the previous run")[1]
    assert f"FAIL  swap-op-00047 [bricked-after-cut] (updating): pass in run #{run2 - 1}" in text
    assert f"[bricked-after-cut] 1 case(s) (swap-op-00047): first appeared in run #{run2} " in text
    as_json = json.loads(rig("history", "--json", "--html", str(tmp_path / "trend.html"), history=history).stdout)
    place = as_json["places"][0]
    assert (place["place"], place["target"], place["latest_run"]) == ("virtual", "virtual", run2)
    assert [(c["name"], c["rules"], c["before"]["run"], c["before"]["outcome"]) for c in place["new"]] == \
        [("swap-op-00047", ["bricked-after-cut"], run2 - 1, "pass")]
    assert [(r["rule"], r["first_run"]["run"]) for r in place["rules"]] == [("bricked-after-cut", run2)]
    assert [r["probe_uid"].startswith("vsim-") for r in place["runs"]] == [True, True]
    assert "<svg" in (tmp_path / "trend.html").read_text()
    page = (tmp_path / "n2" / "report.html").read_text()
    assert f'#{run2 - 1} pass</span> · <span class="past outcome-fail"><b>now fail</b>' in page  # swap-op-00047's line

    narrowed = rig("narrow", f"{tmp_path / 'n2'}/report.json#swap-op-00047", "--max-cases", "8", history=history)
    assert narrowed.returncode == 0, narrowed.stdout + narrowed.stderr
    after = json.loads((tmp_path / "n2" / "report.json").read_text())
    probes = {int(r["plan"]["cut"]["flash_op"]): r for r in after["results"] if r["narrow_of"] == "swap-op-00047"}
    entry = after["run"]["narrows"][0]
    n = int(entry["fail_at"])
    assert entry["converged"] and entry["pass_at"] == n - 1
    assert probes[n - 1]["outcome"] == "pass" and probes[n]["outcome"] == "fail"  # both sides replayed, in the report
    assert all((op < n) == (probes[op]["outcome"] == "pass") for op in probes)  # one boundary: every probe agrees
    assert 15 < n <= 47 and len(probes) <= 8
    assert n == first_op_that_bricks(8 * 1024, "no-resume")  # what an exhaustive in-process sweep says
    assert f"passes at op {n - 1} (" in narrowed.stdout and f"fails at op {n}: erase of" in narrowed.stdout
    assert f"every one of ops 15..{n - 1} passes and {n}..47 fails" in narrowed.stdout
    assert after["run"]["complete"] is True and after["summary"]["total"] == 3 + len(probes)
    assert (tmp_path / "n2" / probes[n]["timeline_file"]).is_file()
    page = write_html_report(tmp_path / "n2").read_text()
    assert page.count("narrow probe of swap-op-00047") == len(probes)
    with sqlite3.connect(history) as conn:
        sources = [r[0] for r in conn.execute("SELECT source FROM runs ORDER BY id")]
        marked = {r[0] for r in conn.execute("SELECT c.narrow_of FROM cases c JOIN runs r ON r.id = c.run_id "
                                             "WHERE r.source = 'narrow'")}
    assert sources == ["run", "run", "narrow"] and marked == {"swap-op-00047"}


def test_two_runs_writing_one_history_at_once_record_every_case_of_both(tmp_path):
    history = tmp_path / "history.sqlite"
    env = {**os.environ, "RIG_HISTORY": str(history)}
    procs = [subprocess.Popen([sys.executable, "-m", "rig.cli", "run", "power-cut", "--points", "8", "-k", "swap-op",
                               *SMALL, "--report-dir", str(tmp_path / name)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for name in ("a", "b")]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, out + err
    with sqlite3.connect(history) as conn:
        recorded = {(r[0], r[1]) for r in conn.execute("SELECT r.report_dir, c.name FROM cases c JOIN runs r "
                                                       "ON r.id = c.run_id")}
        complete = [r[0] for r in conn.execute("SELECT complete FROM runs")]
    expected = {(str((tmp_path / name).resolve()), r["name"]) for name in ("a", "b")
                for r in json.loads((tmp_path / name / "report.json").read_text())["results"]}
    assert len(expected) == 6 and recorded == expected and complete == [1, 1]


def test_fewer_distinct_cut_points_than_requested_is_said_while_running_and_in_the_summary(tmp_path):
    # An 8K image (signed) has 18 blocks: 20 download cuts requested, 18 exist; -k keeps only the baseline to run.
    proc = rig("run", "power-cut", "--points", "40", "-k", "baseline", *SMALL, "--no-history",
               "--report-dir", str(tmp_path / "R"), history=tmp_path / "never.sqlite")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    words = "40 cut points requested, "
    assert proc.stdout.count(words) == 2  # the progress line when the plans are made, and the summary
    assert "the download has 18 blocks of 512 bytes (20 requested)" in proc.stdout
    run = json.loads((tmp_path / "R" / "report.json").read_text())["run"]
    assert run["cut_points"]["requested"] == 40 and run["cut_points"]["distinct"] < 40
    assert run["complete"] and run["expected"] == 1 and run["not_planned_yet"] == 0  # no phantom "not run" cases
    assert not (tmp_path / "never.sqlite").exists()  # --no-history
