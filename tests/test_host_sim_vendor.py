"""A target whose packages are not MCUboot images, end to end: targets/host_sim_vendor.toml.

The host-process virtual board in its vendor package mode takes VPK1 packages (a
header with a CRC32 and a version) made by the vendor's tool through the target's
[package] commands, and reports its version on /5/0/7 as "1.0" for 1.0.0. The
standard suite (power cuts and conformance) must pass there; `rig update` over coaps
with a key from --psk must install a package; a coaps update without any key must
say so before anything starts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cmd_helpers import rig

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "targets" / "host_sim_vendor.toml"
# Cases that cannot apply here, and the words of their reason (a skip always says why).
EXPECTED_SKIPS = {
    "conf-774-out-of-memory": "no 'out-of-memory' package",
    "conf-779-wrong-key": "does not make 'wrong-key' packages",
    "conf-779-downgrade": "does not make 'downgrade' packages",
    "conf-770-push-update-queue-mode": "did not register in queue mode",
    "conf-771-pull-update-queue-mode": "did not register in queue mode",
    "conf-bootstrap-then-update": "does not bootstrap through the rig",
}


def vendor_pack(*args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "rig.sim.vendor_pack", *args], cwd=cwd, check=True, timeout=60)


def packages(tmp_path: Path, target: Path = VENDOR) -> tuple[Path, Path]:
    """fw-1.0.vpk and fw-1.2.vpk, and fw-1.0.bin: the image of 1.0 a factory programs into the primary slot."""
    for version, seed in (("1.0", 1), ("1.2", 2)):
        (tmp_path / f"app-{version}.bin").write_bytes(bytes((i * seed) % 251 for i in range(6000)))
        vendor_pack("make", "--target", str(target), "--version", version, "--payload", f"app-{version}.bin",
                    "-o", f"fw-{version}.vpk", cwd=tmp_path)
    vendor_pack("flash", "fw-1.0.vpk", "-o", "fw-1.0.bin", cwd=tmp_path)
    return tmp_path / "fw-1.0.bin", tmp_path / "fw-1.2.vpk"


def test_standard_suite_passes_on_the_vendor_package_target(tmp_path):
    out = tmp_path / "R"
    done = rig("run", "--target", str(VENDOR), "--points", "2", "--image-size", "8K", "--report-dir", str(out),
               cwd=tmp_path, timeout=400)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((out / "report.json").read_text())
    results = {r["name"]: r for r in report["results"]}
    assert report["run"]["complete"] and report["target"] == "host_sim_vendor"
    skips = {name: r["message"] for name, r in results.items() if r["outcome"] == "skip"}
    assert set(skips) == set(EXPECTED_SKIPS), skips
    assert all(EXPECTED_SKIPS[name] in message for name, message in skips.items()), skips
    assert all(r["outcome"] == "pass" for name, r in results.items() if name not in skips)
    for name in ("baseline-no-cut", "conf-773-not-enough-storage", "conf-776-integrity", "conf-777-package-type",
                 "conf-779-crash-on-boot", "conf-779-never-confirm", "conf-resume-after-cut"):
        assert results[name]["outcome"] == "pass", name
    cuts = [r for r in report["results"] if r["cut"]]
    assert {r["phase"] for r in cuts} == {"downloading", "updating"}, "power cuts over the download and the swap"
    # What travelled is the vendor's package, not an MCUboot image, and the version came from /5/0/7 as "1.1".
    assert (out / "firmware" / "update-1.1.0.pkg").read_bytes()[:4] == b"VPK1"
    events = [json.loads(line) for line in (out / results["baseline-no-cut"]["timeline_file"]).read_text().splitlines()]
    read = [(e["data"]["source"], e["data"]["version"]) for e in events if e["kind"] == "version"]
    assert ("/5/0/7", "1.0") in read and ("/5/0/7", "1.1") in read, read
    assert results["baseline-no-cut"]["booted_version"] == "1.1"


def test_update_over_coaps_with_the_key_of_psk(tmp_path):
    base, package = packages(tmp_path)
    place = ["--target", str(VENDOR), "--work-dir", str(tmp_path / "w")]
    assert rig("flash", str(base), *place, cwd=tmp_path).returncode == 0
    done = rig("update", str(package), *place, "--pull", "coaps", "--psk", "bench-7:00112233445566778899aabbccddeeff",
               cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "updating rig-host_sim_vendor to 1.2 (pull over coaps)" in done.stdout
    assert "updated: running '1.2' (wanted 1.2)" in done.stdout
    log = (tmp_path / "w" / "host_sim_vendor" / "console.log").read_text()
    assert "[dtls] session with 127.0.0.1" in log and "established" in log, "registered and pulled over DTLS"
    key_file = tmp_path / "w" / "host_sim_vendor" / "psk.key"
    assert not key_file.exists(), "{psk_key_file} is written only for a command that uses it"


def test_coaps_without_a_key_is_refused_before_anything_starts(tmp_path):
    target = tmp_path / "nokey.toml"
    target.write_text(VENDOR.read_text().replace("per_run_key = true", "per_run_key = false"))
    (tmp_path / "fw.vpk").write_bytes(b"VPK1")
    started = time.monotonic()
    done = rig("update", str(tmp_path / "fw.vpk"), "--target", str(target), "--pull", "coaps",
               "--work-dir", str(tmp_path / "w"), cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    err = done.stderr.strip()
    assert len(err.splitlines()) == 1 and "has no PSK" in err and "--psk IDENTITY:HEXKEY" in err, err
    assert time.monotonic() - started < 20 and not (tmp_path / "w" / "nokey" / "console.log").exists()


def test_update_a_target_that_takes_files_as_they_are(tmp_path):
    """format = "file": no packaging command; the version of a package comes from the target's version command."""
    text = VENDOR.read_text()
    package_table = text[text.index("\n[package]\n"):text.index("\n[version]\n")]
    target = tmp_path / "files.toml"
    target.write_text(text.replace(package_table, '\n[package]\nformat = "file"\nversion = ["{python}", "-m", '
                                                  '"rig.sim.vendor_pack", "version", "{package}"]\n'))
    base, package = packages(tmp_path, target)
    place = ["--target", str(target), "--work-dir", str(tmp_path / "w")]
    assert rig("flash", str(base), *place, cwd=tmp_path).returncode == 0
    done = rig("update", str(package), *place, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "updated: running '1.2' (wanted 1.2)" in done.stdout


def test_rig_targets_lists_the_shipped_targets_and_names_work_as_target(tmp_path):
    listed = rig("targets", cwd=tmp_path)
    assert listed.returncode == 0 and "host_sim_vendor" in listed.stdout and "process" in listed.stdout
    path = rig("targets", "--path", "host_sim_vendor", cwd=tmp_path).stdout.strip()
    assert Path(path) == VENDOR
    done = rig("inspect", "--target", "host_sim_vendor", "--work-dir", str(tmp_path / "w"), cwd=tmp_path)
    assert done.returncode == 0 and "primary" in done.stdout, done.stdout + done.stderr
