"""report.json and junit.xml of a run in progress, stopped, and finished; the exit code of `rig run` from them.

No board: a RunRecord with hand-made results, written to a real directory and
read back with json and ElementTree, as CI and the HTML report read them.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from rig.run.record import RunRecord
from rig.commands.run import exit_code
from rig.results import CaseResult, Violation


def _record(tmp_path, *results: CaseResult) -> RunRecord:
    record = RunRecord("virtual", tmp_path, {"suite": "standard"}, results=list(results), expected=5)
    record.plan(["baseline-no-cut", "conf-751-read-resources", "conf-774-out-of-memory"])
    record.plan(["download-block-00003"], after="baseline-no-cut")
    return record


def _junit(tmp_path):
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    return suite, {c.get("name"): c for c in suite.iter("testcase")}


PASS = CaseResult("baseline-no-cut", "pass", duration=1.0)
SKIP = CaseResult("conf-774-out-of-memory", "skip", plan={"conformance": "774", "skipped": "no package"},
                  message="skipped: no 'out-of-memory' package was made for this target")


def test_a_run_in_progress_says_incomplete_lists_what_did_not_run_and_is_red_in_junit(tmp_path):
    record = _record(tmp_path, PASS, SKIP)
    record.write()
    report = json.loads((tmp_path / "report.json").read_text())
    run = report["run"]
    assert run["complete"] is False and run["expected"] == 5 and run["not_planned_yet"] == 1
    assert run["not_run"] == ["download-block-00003", "conf-751-read-resources"]  # in run order
    assert report["summary"] == {"pass": 1, "fail": 0, "error": 0, "skip": 1, "total": 2, "not_run": 2}
    assert report["conformance"][0]["outcome"] == "skip"
    suite, cases = _junit(tmp_path)
    assert suite.get("errors") == "1" and suite.get("skipped") == "3" and suite.get("tests") == "5"
    assert cases["conf-774-out-of-memory"].find("skipped").get("message").startswith("skipped: no 'out-of-memory'")
    assert cases["download-block-00003"].find("skipped").get("message").startswith("not run: the run stopped")
    assert "2 of 5 cases ran" in cases["rig-run-incomplete"].find("error").get("message")
    assert cases["baseline-no-cut"].find("skipped") is None and cases["baseline-no-cut"].find("error") is None


def test_only_the_last_write_of_a_run_that_went_to_its_end_marks_it_complete(tmp_path):
    done = [PASS, SKIP, CaseResult("download-block-00003", "pass"), CaseResult("conf-751-read-resources", "pass")]
    record = _record(tmp_path, *done)
    record.write()
    assert json.loads((tmp_path / "report.json").read_text())["run"]["complete"] is False
    record.finish()
    run = json.loads((tmp_path / "report.json").read_text())["run"]
    assert run["complete"] is True and run["not_run"] == []
    suite, cases = _junit(tmp_path)
    assert "rig-run-incomplete" not in cases and suite.get("errors") == "0" and suite.get("tests") == "4"


def test_a_stopped_run_stays_incomplete_even_at_its_last_write(tmp_path):
    record = _record(tmp_path, PASS)
    record.stopped = "interrupted during case 'download-block-00003'"
    record.finish()
    run = json.loads((tmp_path / "report.json").read_text())["run"]
    assert run["complete"] is False and run["stopped"].startswith("interrupted")
    _, cases = _junit(tmp_path)
    assert "interrupted during case" in cases["conf-751-read-resources"].find("skipped").get("message")


def _conf(outcome: str) -> CaseResult:
    return CaseResult(f"conf-{outcome}", outcome, plan={"conformance": "7xx"},
                      violations=[Violation("x", "y")] if outcome == "fail" else [])


def test_exit_code_counts_skips_apart_and_refuses_a_run_that_tested_nothing():
    assert exit_code([PASS, _conf("skip"), _conf("pass")], True, False) == (0, None)
    assert exit_code([PASS, _conf("fail")], True, False)[0] == 1
    assert exit_code([PASS, CaseResult("x", "error")], True, False)[0] == 1
    assert exit_code([PASS], False, False)[0] == 1  # not complete: never green
    code, note = exit_code([PASS, _conf("skip"), _conf("skip")], True, False)
    assert code == 1 and note.startswith("every conformance case was skipped (2)") and "--allow-skips" in note
    assert exit_code([PASS, _conf("skip"), _conf("skip")], True, True)[0] == 0
    assert exit_code([_conf("skip")], True, False)[0] == 1  # nothing at all was tested
    assert exit_code([_conf("skip")], True, True)[0] == 0  # ... and the user said that is fine
    assert exit_code([], True, True)[0] == 1
