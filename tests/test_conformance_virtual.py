"""Conformance cases on the virtual board (real supervisor, MCU process, server): the correct board
passes them all, and each seeded defect is caught by
the case that exercises its rule."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from rig.campaign.images import make_images
from rig.campaign.negative_images import make_negative_images
from rig.place.open import open_place
from rig.place.resolve import self_started_board
from rig.config import load_target
from rig.conformance import CASES, ConformanceContext
from rig.run.conformance import run_conformance
from rig.run.record import RunRecord
from rig.timeline import Timeline

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

TARGET = Path(__file__).resolve().parents[1] / "targets" / "virtual.toml"
SIZE = 30000


def _run(tmp: Path, defects: tuple[str, ...] = (), keyword: str | None = None) -> RunRecord:
    layout = load_target(TARGET).layout
    firmware = tmp / "firmware"
    images = make_images(firmware, layout, SIZE)
    negative = make_negative_images(firmware / "negative", layout, SIZE, images.base_version, images.new_version)
    record = RunRecord("virtual", tmp / "report", {"defects": list(defects)})

    async def main() -> None:
        async with open_place(self_started_board(TARGET, tmp), Timeline(), tmp, firmware, base_image=images.base,
                              defects=defects) as session:
            ctx = ConformanceContext(images, negative, mode="push", block_size=1024)
            await asyncio.wait_for(run_conformance(session, ctx, record, keyword=keyword), 240)

    asyncio.run(main())
    return record


@pytest.fixture(scope="module")
def correct(tmp_path_factory) -> RunRecord:
    return _run(tmp_path_factory.mktemp("conf"))


def by_name(record: RunRecord) -> dict:
    return {r.name: r for r in record.results}


def test_every_case_runs_in_order_with_its_name_plan_and_files(correct):
    assert [r.name for r in correct.results] == [c.name for c in CASES]
    for case, result in zip(CASES, correct.results):
        assert result.name.startswith(f"conf-{case.id}-")
        assert result.plan["conformance"] == case.id and result.plan["title"] == case.title
        assert (correct.report_dir / result.timeline_file).is_file()
        assert (correct.report_dir / result.console_log).is_file()
    report = json.loads((correct.report_dir / "report.json").read_text())
    assert len(report["results"]) == len(CASES)
    assert "pull" in correct.params["conformance_abilities"] and "object5-1.1" in correct.params["conformance_abilities"]


def test_correct_board_passes_every_case(correct):
    results = by_name(correct)
    bad = {n: [(v.rule, v.detail) for v in r.violations] for n, r in results.items() if r.outcome not in ("pass", "skip")}
    assert not bad
    for result in results.values():
        assert (result.outcome == "skip") == bool((result.plan or {}).get("skipped")), result  # a skip is never a pass
        if result.outcome == "pass":
            assert result.state is not None and result.update_result is not None, result


def test_777_a_package_that_is_not_an_mcuboot_image_gives_result_6(correct):
    result = by_name(correct)["conf-777-package-type"]
    assert result.outcome == "pass", result.violations
    assert result.update_result in (0, 6) or "6" in (result.message or "")


def test_signature_cases_are_skipped_without_the_boards_key(correct):
    # The full rig run gives the board a per-run key and runs them (test_campaign_run); here the board has none.
    for name in ("conf-779-wrong-key", "conf-779-downgrade"):
        result = by_name(correct)[name]
        assert result.outcome == "skip" and "key this target's bootloader trusts" in result.plan["skipped"]


def test_774_is_skipped_with_its_reason_in_report_json_and_junit(correct):
    result = by_name(correct)["conf-774-out-of-memory"]
    assert result.outcome == "skip" and "out-of-memory" in result.plan["skipped"]
    assert result.message.startswith("skipped: ")
    report = json.loads((correct.report_dir / "report.json").read_text())
    [row] = [r for r in report["results"] if r["name"] == "conf-774-out-of-memory"]
    assert row["outcome"] == "skip" and report["summary"]["skip"] >= 1
    assert [c["outcome"] for c in report["conformance"] if c["id"] == "774"] == ["skip"]
    junit = ET.parse(correct.report_dir / "junit.xml").getroot()
    [case] = [c for c in junit.iter("testcase") if c.get("name") == "conf-774-out-of-memory"]
    assert case.find("skipped").get("message").startswith("skipped: ")


def test_observe_resume_and_failed_install_evidence(correct):
    results = by_name(correct)
    assert "Downloading -> Downloaded" in results["conf-760-observe-state"].message
    resumed = results["conf-resume-after-cut"]
    assert resumed.update_result == 1 and "went on at block" in resumed.message
    for name in ("conf-779-crash-on-boot", "conf-779-never-confirm"):
        assert results[name].booted_version.startswith("1.0.0") and results[name].update_result == 8
    assert results["conf-773-not-enough-storage"].update_result == 2
    assert results["conf-775-connection-lost"].update_result == 4
    assert results["conf-cancel-downloaded"].update_result == 10


def test_v11_cases_run_with_their_evidence(correct):
    results = by_name(correct)
    assert "object5-1.1" in correct.params["conformance_abilities"] and "deferral" in correct.params["conformance_abilities"]
    assert results["conf-v11-severity-defer-period"].message == "defaults: Severity 1, Maximum Defer Period 0 s"
    for name in ("conf-defer-execute", "conf-defer-critical", "conf-defer-period-zero", "conf-defer-after-cut"):
        assert results[name].update_result == 1 and results[name].booted_version.startswith("1.1.0"), name
    assert "power cut for 3 s while deferred" in results["conf-defer-after-cut"].message
    times = [int(t) for t in results["conf-lsct-state-changes"].message.split(" -> ")[1:3] for t in [t.split()[-1]]]
    assert times[0] == times[1]  # Downloading read twice, 1.6 s apart: the time stayed


@pytest.mark.parametrize("defect, keyword, rule", [
    ("execute-outside-downloaded", "772", "772:execute-in-idle"),
    ("wrong-result-on-failed-download", "775", "775:result-4"),
    ("integrity-skipped", "776", "776:result-5"),
    ("no-revert", "779-never", "779:old-version"),
    ("defer-forgotten-after-cut", "defer-after-cut", "result-lost-after-reboot"),
    ("lsct-not-updated", "lsct", "lsct-not-moved-with-state"),
])
def test_each_defect_is_caught_by_its_case(tmp_path, defect, keyword, rule):
    record = _run(tmp_path, (defect,), keyword)
    assert len(record.results) == 1
    result = record.results[0]
    assert result.outcome == "fail" and rule in [v.rule for v in result.violations], result.violations
