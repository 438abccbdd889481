"""Where the running version is read and how it is compared (rig.version_rule, rig.campaign.version_sources):
the rule itself, then real runs that read it from the console (after a resource that does not exist), from
the flash, and on a flash the rig does not decode (byte-compared at the known start, with a reset_command).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from cmd_helpers import rig
from rig.errors import RigError
from rig.version_rule import VersionRule, canonical, same

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

ROOT = Path(__file__).resolve().parents[1]


def test_semver_and_exact():
    assert same("1.0", "1.0.0") and same("v1.2.3+0", "1.2.3") and same("1.2.3", "1.2.3+7")
    assert not same("1.2.3+6", "1.2.3+7") and not same("1.0", "1.0.1") and not same(None, None)
    assert not same("1.0.0-rc1", "1.0.0") and same("1.0.0-rc1", "1.0-rc1")
    assert canonical("1.0") == "1.0.0" and canonical("rigsim-lwm2m 2.1.0") == "rigsim-lwm2m 2.1.0"
    exact = VersionRule(compare="exact")
    assert exact.same("1.0.0", " 1.0.0 ") and not exact.same("1.0", "1.0.0")


@pytest.mark.parametrize("table, words", [
    ('read = ["/3/0"]', "is not a source"),
    ('read = ["console:("]', "not a regular expression"),
    ('compare = "loose"', "must be one of semver, exact"),
    ('reed = ["/3/0/3"]', "unknown key"),
])
def test_the_version_table_is_checked(table, words):
    with pytest.raises(RigError, match=words):
        VersionRule.from_target(tomllib.loads("[version]\n" + table), "t.toml")


def baseline_run(target: Path, cwd: Path) -> Path:
    """`rig run power-cut --points 0` (the baseline update alone) on `target`; its report directory."""
    out = cwd / "R"
    done = rig("run", "power-cut", "--target", str(target), "--points", "0", "--image-size", "8K",
               "--report-dir", str(out), cwd=cwd, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def version_events(report_dir: Path) -> list[tuple[str, str]]:
    report = json.loads((report_dir / "report.json").read_text())
    (result,) = report["results"]
    assert result["outcome"] == "pass", result["message"]
    events = [json.loads(line) for line in (report_dir / result["timeline_file"]).read_text().splitlines()]
    return [(e["data"]["source"], e["data"]["version"]) for e in events if e["kind"] == "version"]


def test_console_after_a_missing_resource_on_a_flash_the_rig_does_not_decode(tmp_path):
    text = (ROOT / "targets" / "host_sim_vendor.toml").read_text()
    mcuboot = text[text.index("[mcuboot]"):text.index("[coap]")]
    source = 'console:jumping to image (?P<version>[0-9]+[.][0-9]+[.][0-9]+)'
    text = text.replace(mcuboot, "").replace('read = ["/5/0/7"]', f'read = ["/9/9/9", \'{source}\']').replace(
        'compare = "semver"', 'compare = "exact"').replace(
        'env = { PYTHONUNBUFFERED = "1" }', 'env = { PYTHONUNBUFFERED = "1" }\n'
        'reset_command = ["sh", "-c", "echo {base_package} >> resets.txt"]')
    target = tmp_path / "opaque.toml"
    target.write_text(text)
    out = baseline_run(target, tmp_path)
    assert version_events(out) == [(source, "1.0.0"), (source, "1.1.0")]
    (result,) = json.loads((out / "report.json").read_text())["results"]
    assert result["flash_verdict"] is None, "no MCUboot table: the rig reads no slot verdict"
    resets = (out / "place" / "opaque" / "resets.txt").read_text().split()
    assert resets == [str((out / "firmware" / "base-1.0.0.pkg").resolve())], "the reset ran at the known start"


def test_the_flash_as_the_version_source(tmp_path):
    text = (ROOT / "targets" / "host_sim.toml").read_text() + '\n[version]\nread = ["flash"]\ncompare = "exact"\n'
    target = tmp_path / "flash_version.toml"
    target.write_text(text)
    assert version_events(baseline_run(target, tmp_path)) == [("flash", "1.0.0"), ("flash", "1.1.0")]
