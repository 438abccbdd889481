"""A labgrid lab on loopback: a real labgrid-coordinator and labgrid-exporter (labgrid in its own venv), two
virtual boards exported as lab boards (console port, `rig relayd` outlet, `pyocd server` probe), a campaign
sharded over both places and merged, and a SIGKILLed rig whose relay falls back to its safe state.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from lab_harness import ROOT, Lab, start_lab, wait_until
from rig.config import load_target
from rig.sim.control import SupervisorClient

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

RUN = ("run", "power-cut", "--points", "4", "--image-size", "32K")


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Lab:
    lab = start_lab(tmp_path_factory.mktemp("lab"))
    yield lab
    lab.stop()


def test_virtual_lab_target_has_the_virtual_boards_flash():
    assert load_target(ROOT / "targets" / "virtual_lab.toml").layout == load_target(ROOT / "targets" / "virtual.toml").layout


def test_sharded_campaign_on_two_labgrid_places_merges_into_one_report(lab: Lab, tmp_path: Path):
    # `rig lab run 2` starts `rig run ... --shard 1/2` and `--shard 2/2` (each reserves a place by tag) and merges
    whole = lab.rig("lab", "run", "2", "--report-dir", str(tmp_path), "--", *RUN[1:], "--lg-tags", "board=vsim")
    assert whole.returncode == 0, whole.stdout + whole.stderr
    reports = [json.loads((tmp_path / f"shard-{i}" / "report.json").read_text()) for i in (1, 2)]
    assert [r["run"]["shard"] for r in reports] == ["1/2", "2/2"]
    assert {r["run"]["ran_on"] for r in reports} == {"vb-1", "vb-2"}  # each shard reserved a place of its own
    assert json.loads((tmp_path / "report.json").read_text())["summary"]["pass"] == 6
    merged = lab.rig("merge", str(tmp_path / "shard-1"), str(tmp_path / "shard-2"), "-o", str(tmp_path / "M"))
    assert merged.returncode == 0, merged.stdout + merged.stderr
    report = json.loads((tmp_path / "M" / "report.json").read_text())
    names = [r["name"] for r in report["results"]]
    assert len(names) == len(set(names)) == 6  # 4 cuts once each + each place's own baseline
    assert {r["outcome"] for r in report["results"]} == {"pass"} and report["run"]["complete"]
    cuts = [r for r in report["results"] if not r["name"].startswith("baseline")]
    assert len(cuts) == 4 and {r["place"] for r in cuts} == {"vb-1", "vb-2"}
    assert sorted(n for n in names if n.startswith("baseline")) == ["baseline-no-cut@vb-1", "baseline-no-cut@vb-2"]
    assert any(r["name"].startswith("download-") for r in cuts) and any(r["name"].startswith("swap-") for r in cuts)
    junit = (tmp_path / "M" / "junit.xml").read_text()
    assert junit.count('<property name="place"') == 6 and 'value="vb-2"' in junit
    html = (tmp_path / "M" / "report.html").read_text()
    assert "place: vb-1" in html and "place: vb-2" in html
    for case in cuts:  # the merged report's links reach the shards' files
        assert (tmp_path / "M" / case["timeline_file"]).is_file()
    for i, name in enumerate(("vb-1", "vb-2")):  # released, and the relay in its safe state
        assert lab.acquired_by(name) == "None"
        assert lab.outlet(i)["on"] is False and lab.outlet(i)["holder"] is None
    # labgrid's own client switches the same outlet (the simplerest model), as a bench user would
    assert "acquired place vb-2" in lab.client("acquire", place="vb-2")
    lab.client("power", "on", place="vb-2")
    assert lab.outlet(1)["on"] is True and "is on" in lab.client("power", "get", place="vb-2")
    lab.client("release", place="vb-2")
    wait_until(lambda: lab.outlet(1)["on"] is False, 10, "the release to switch vb-2's outlet off")


def _timeline(report_dir: Path, case: dict) -> list[dict]:
    return [json.loads(line) for line in (report_dir / case["timeline_file"]).read_text().splitlines()]


def test_killed_rig_leaves_the_relay_safe_and_the_place_releasable(lab: Lab, tmp_path: Path):
    out = tmp_path / "R"
    rig = lab.rig_background(*RUN, "--lg-place", "vb-1", "--report-dir", str(out), log=tmp_path / "rig.log")
    try:
        def first_cut_done():
            try:
                report = json.loads((out / "report.json").read_text())
            except (OSError, ValueError):
                return None
            return next((r for r in report["results"] if r.get("cut")), None)

        case = wait_until(first_cut_done, 120, "the first cut case of the run")
        assert case["outcome"] == "pass", case
        events = _timeline(out, case)
        cut = next(e for e in events if e["kind"] == "cut")
        confirmed = [e for e in events if e["kind"] == "power-confirmed" and e["t"] <= cut["t"]]
        # the cut is recorded once the relay service answered: switched off, and read back off from the board
        assert confirmed[-1]["data"]["action"] == "off" and confirmed[-1]["data"]["by"] == "readback"
        wait_until(lambda: lab.outlet(0)["on"] and lab.outlet(0)["lease_left"], 60,
                   "vb-1 powered under the rig's lease")
    finally:
        rig.send_signal(signal.SIGKILL)
        rig.wait(timeout=10)
    killed_at = time.monotonic()
    assert lab.acquired_by("vb-1") != "None"  # labgrid's acquisition does not expire by itself
    info = wait_until(lambda: (lambda o: o if not o["on"] else None)(lab.outlet(0)), 15,
                      "the relay service to notice the lease run out")
    assert info["last_safe"].startswith("lease expired") and time.monotonic() - killed_at < 15
    with SupervisorClient(lab.boards["vb-1"].control_port) as board:
        assert not board.is_on()  # the board itself is off, not just the service's idea of it
    stale = lab.rig("lab", "release", "--stale")
    assert stale.returncode == 0 and "vb-1: released" in stale.stdout, stale.stdout + stale.stderr
    assert lab.acquired_by("vb-1") == "None"
    again = lab.rig("lab", "release", "--stale")
    assert again.returncode == 0 and "no places left" in again.stdout
