"""Shards of a campaign and `rig merge`; the rig file's `labgrid` key; labgrid resources -> backends.

The merge is checked on report directories written by real runs of the virtual board
(two shards, small images), and its refusals on copies of them changed by hand.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rig.campaign.merge import merge_reports
from rig.campaign.shard import Shard
from rig.campaign.suite import power_cut_plans
from rig.config import load_rig
from rig.errors import RigError
from rig.lab.client import parse_show
from rig.lab.resources import map_resources

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

TARGETS = Path(__file__).resolve().parents[1] / "targets"


def test_shards_are_disjoint_and_cover_the_plan_list():
    for points in (1, 4, 7, 12):
        plans = [p.name for p in power_cut_plans(66, points, 480.0, seed=3)[1:]]
        for count in (1, 2, 3, 5):
            shares = [Shard(i, count).take(plans) for i in range(1, count + 1)]
            assert sorted(n for s in shares for n in s) == sorted(plans)
            assert len({n for s in shares for n in s}) == len(plans)


def test_boards_with_different_swap_times_agree_on_the_case_names():
    for spread in ("even", "random"):
        slow = power_cut_plans(66, 8, 910.0, seed=5, spread=spread)
        fast = power_cut_plans(66, 8, 240.0, seed=5, spread=spread)
        assert [p.name for p in slow] == [p.name for p in fast]
        assert [p.cut.delay_ms for p in slow if p.cut and p.cut.kind == "after-execute"] != \
               [p.cut.delay_ms for p in fast if p.cut and p.cut.kind == "after-execute"]


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_a_bad_shard_is_refused(text):
    with pytest.raises(ValueError):
        Shard.parse(text)
    proc = subprocess.run([sys.executable, "-m", "rig.cli", "run", "--shard", text], capture_output=True, text=True)
    assert proc.returncode == 2 and "--shard" in proc.stderr and "Traceback" not in proc.stderr


@pytest.fixture(scope="module")
def shard_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("shards")
    procs = [subprocess.Popen([sys.executable, "-m", "rig.cli", "run", "power-cut", "--points", "3", "--shard",
                               f"{i}/2", "--report-dir", str(root / f"s{i}")], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for i in (1, 2)]
    for proc in procs:
        out, _ = proc.communicate(timeout=240)
        assert proc.returncode == 0, out
    return root / "s1", root / "s2"


def test_merge_keeps_every_case_once_with_its_shard(shard_dirs, tmp_path):
    body = merge_reports(list(shard_dirs), tmp_path / "M")
    names = [r["name"] for r in body["results"]]
    assert len(names) == len(set(names)) == 5  # 3 cuts + the two shards' baselines
    assert {r["shard"] for r in body["results"]} == {"1/2", "2/2"} and body["run"]["complete"]
    assert "baseline-no-cut@virtual-shard-1" in names and "baseline-no-cut@virtual-shard-2" in names
    assert all((tmp_path / "M" / r["timeline_file"]).is_file() for r in body["results"])


def test_merge_with_a_shard_missing_is_partial(shard_dirs, tmp_path):
    body = merge_reports([shard_dirs[0]], tmp_path / "M")
    assert body["run"]["complete"] is False and "2/2 not merged" in body["run"]["stopped"]
    proc = subprocess.run([sys.executable, "-m", "rig.cli", "merge", str(shard_dirs[0]), "-o", str(tmp_path / "N")],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "not merged" in proc.stdout


def _changed_copy(source: Path, dest: Path, **run: object) -> Path:
    shutil.copytree(source, dest)
    report = json.loads((dest / "report.json").read_text())
    report["run"].update(run)
    (dest / "report.json").write_text(json.dumps(report))
    return dest


def test_merge_refuses_shards_of_different_campaigns(shard_dirs, tmp_path):
    other = _changed_copy(shard_dirs[1], tmp_path / "other", seed=99)
    with pytest.raises(RigError, match="not a shard of the campaign.*seed"):
        merge_reports([shard_dirs[0], other], tmp_path / "M")
    twice = _changed_copy(shard_dirs[1], tmp_path / "twice", shard="1/2")
    with pytest.raises(RigError, match="both shard 1/2"):
        merge_reports([shard_dirs[0], twice], tmp_path / "M")
    proc = subprocess.run([sys.executable, "-m", "rig.cli", "merge", str(tmp_path / "nothing-here")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "no such report directory" in proc.stderr and "Traceback" not in proc.stderr


def test_rig_file_place_may_name_a_labgrid_place(tmp_path):
    rig = tmp_path / "rig.toml"
    rig.write_text(f'[rig]\ntargets_dir = "{TARGETS}"\nlabgrid_coordinator = "lab-coord:20408"\n'
                   '[places.k64f-1]\ntarget = "frdm_k64f"\nlabgrid = "pi3-k64f-1"\n'
                   '[places.k64f-1.lwm2m]\nendpoint = "rig-k64f-1"\n')
    place = load_rig(rig)["k64f-1"]
    assert place.lab.place == "pi3-k64f-1" and place.lab.coordinator == "lab-coord:20408"
    assert place.power.backend == "labgrid" and place.probe is None  # filled in when the place is acquired
    rig.write_text(rig.read_text().replace('labgrid = "pi3-k64f-1"', "labgrid = 3"))
    with pytest.raises(RigError, match=r"places\.k64f-1\.labgrid: must be the name of a labgrid place"):
        load_rig(rig)


ENV = {"targets": {"pi3-k64f-1": {"resources": [
    {"NetworkSerialPort": {"host": "pi3", "port": 4001, "speed": 115200}},
    {"NetworkService": {"name": "probe", "address": "pi3", "port": 5555, "username": "pyocd"}},
    {"NetworkPowerPort": {"name": "relay", "host": "http://pi3:8280/relay/{index}/{value}", "index": "2",
                          "model": "simplerest"}},
    {"NetworkService": {"address": "pi3", "port": 22, "username": "root"}},  # an ssh service: not the probe
]}}}


def test_labgrid_resources_become_backends():
    found = map_resources(ENV, "pi3-k64f-1")
    assert found.console.options == {"url": "rfc2217://pi3:4001?ign_set_control", "baudrate": 115200}
    assert found.power.backend == "relay" and found.power.options == {"url": "http://pi3:8280/relay/2"}
    assert found.probe.backend == "pyocd" and found.probe.options == {"unique_id": "remote:pi3:5555"}
    raw = {"targets": {"p": {"resources": [{"NetworkSerialPort": {"host": "h", "port": 7, "protocol": "raw"}},
                                           {"NetworkPowerPort": {"host": "h", "index": "0", "model": "gude"}}]}}}
    with pytest.raises(RigError, match="power model 'gude'"):
        map_resources(raw, "p")


def test_labgrid_show_output_is_read():
    info = parse_show("Place 'vb-1':\n  tags: board=vsim, target=virtual_lab\n  matches:\n    */vb-1/*\n"
                      "  acquired: vm/root\n  acquired resources:\n  reservation: abc123\n")
    assert info.name == "vb-1" and info.tags == {"board": "vsim", "target": "virtual_lab"}
    assert info.acquired == "vm/root" and info.reservation == "abc123"
    assert parse_show("Place 'x':\n  matches:\n  acquired: None\n").acquired is None
