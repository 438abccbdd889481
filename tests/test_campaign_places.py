"""`rig run` beyond the virtual board: a host-process target by --target, and a rig-file place by --place.

The host-process board is rig.sim.host_device (the virtual board's MCU program as a
plain Linux process): power is SIGKILL/restart, the probe is its flash file.
"""

from __future__ import annotations

import json
from pathlib import Path
from rig_cli import rig

import pytest

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

TARGETS = Path(__file__).resolve().parents[1] / "targets"


def test_power_cut_suite_on_a_host_process_target(tmp_path):
    out = tmp_path / "R"
    proc = rig("run", "power-cut", "--target", str(TARGETS / "host_sim.toml"), "--points", "2", "--report-dir", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["target"] == "host_sim" and report["run"]["swap_cuts"] == "time"
    assert [r["outcome"] for r in report["results"]] == ["pass"] * 3
    assert report["results"][1]["phase"] == "downloading"


def test_download_cuts_are_numbered_in_the_block_size_the_client_asks_for(tmp_path):
    """The client chooses the Block2 size of a pull: this one asks for 1024 bytes while the rig would serve 512.
    The baseline records it, and download cuts are numbered in those blocks (block 4 of 9, not 8 of 17)."""
    target = tmp_path / "host_sim_1k.toml"
    target.write_text((TARGETS / "host_sim.toml").read_text().replace('"--lifetime", "30",',
                                                                       '"--lifetime", "30", "--block-size", "1024",'))
    out = tmp_path / "R"
    proc = rig("run", "power-cut", "--target", str(target), "--points", "2", "--image-size", "8K",
                   "--block-size", "512", "--report-dir", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert (report["run"]["download_block_size"], report["run"]["download_block_size_from"]) == (1024, "client")
    cuts = [r for r in report["results"] if (r["cut"] or {}).get("kind") == "block"]
    assert [r["cut"]["block"] for r in cuts] == [4]
    assert cuts[0]["outcome"] == "pass" and cuts[0]["phase"] == "downloading", cuts
    assert "cut at block 4 of 9" in cuts[0]["message"]


def test_rig_file_place_runs_through_the_registries(tmp_path):
    rig_file = tmp_path / "rig.toml"
    rig_file.write_text(
        f'[rig]\ntargets_dir = "{TARGETS}"\nlock_dir = "{tmp_path}"\nwork_dir = "{tmp_path / "work"}"\n\n'
        '[places.native-1]\ntarget = "host_sim"\n\n[places.native-1.lwm2m]\nendpoint = "rig-native-1"\n'
    )
    out = tmp_path / "R"
    proc = rig("run", "power-cut", "--place", "native-1", "--rig", str(rig_file), "--points", "0", "--report-dir", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["run"]["place"] == "native-1" and report["results"][0]["outcome"] == "pass"
    assert (tmp_path / "work").is_dir()  # the place's working directory ("flash") is the rig file's


def test_virtual_board_over_coaps(tmp_path):
    out = tmp_path / "R"
    proc = rig("run", "power-cut", "--scheme", "coaps", "--points", "2", "--report-dir", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert [r["outcome"] for r in report["results"]] == ["pass"] * 3
    events = [json.loads(line) for line in (out / report["results"][1]["timeline_file"]).read_text().splitlines()]
    writes = [e["data"]["value"] for e in events if e["kind"] == "request" and e["data"].get("path") == "/5/0/1"]
    assert writes and all(w.startswith("coaps://127.0.0.1:") for w in writes)
    assert any(e["kind"] == "cut" for e in events)


def test_unknown_place_is_one_line(tmp_path):
    (tmp_path / "rig.toml").write_text(f'[rig]\ntargets_dir = "{TARGETS}"\n[places.a]\ntarget = "host_sim"\n')
    proc = rig("run", "--place", "nope", cwd=tmp_path)
    assert proc.returncode == 2 and "nope" in proc.stderr and "Traceback" not in proc.stderr
