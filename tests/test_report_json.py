"""report.json is written and read back by one module (rig.report.json_report): what it writes, it reads.

`rig run` writes it case by case (JsonReportWriter), `rig merge` writes a body of
merged cases (report_body), and `rig report`, `--resume/--replay` and `rig merge`
read it back (load_report, load_run_report). The files are real; the errors are
the one-line RigErrors a user sees.
"""

from __future__ import annotations

import json

import pytest
from rig.errors import RigError
from rig.report.json_report import (
    REPORT_FILE,
    JsonReportWriter,
    load_report,
    load_run_report,
    report_body,
    run_table,
    write_json_report,
    write_report_body,
)
from rig.results import CaseResult, Violation

RUN = {"suite": "smoke", "seed": 7, "complete": False}


def _cases() -> list[CaseResult]:
    return [CaseResult("a", "pass"), CaseResult("b", "fail", violations=[Violation("device-wedged", "x")]),
            CaseResult("c", "skip", message="not for this target")]


def test_the_writer_and_the_plain_write_give_the_same_file_and_it_reads_back(tmp_path):
    cases = _cases()
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    write_json_report(one / REPORT_FILE, "bench", cases, RUN, {"conformance": [{"id": "751"}]}, not_run=2)
    writer = JsonReportWriter()
    writer.write(two / REPORT_FILE, "bench", cases[:1], RUN)  # a case kept between writes
    writer.write(two / REPORT_FILE, "bench", cases, RUN, {"conformance": [{"id": "751"}]}, not_run=2)
    assert json.loads((one / REPORT_FILE).read_text()) == json.loads((two / REPORT_FILE).read_text())
    report, results = load_run_report(two)
    assert results == cases and run_table(report) == RUN and report["conformance"] == [{"id": "751"}]
    assert report["summary"] == {"pass": 1, "fail": 1, "error": 0, "skip": 1, "total": 3, "not_run": 2}
    assert load_report(two) == report


def test_a_merged_body_keeps_extra_case_keys_and_counts_without_not_run(tmp_path):
    rows = [{**c.to_dict(), "place": "p1", "shard": "1/2"} for c in _cases()]
    body = report_body("bench", RUN, rows)
    assert body["summary"] == {"pass": 1, "fail": 1, "error": 0, "skip": 1, "total": 3}
    assert list(body) == ["target", "run", "summary", "results"]
    write_report_body(tmp_path / REPORT_FILE, body)
    assert load_report(tmp_path)["results"][0]["place"] == "p1"


def test_unusable_reports_are_one_line_errors(tmp_path):
    with pytest.raises(RigError, match="no such report directory"):
        load_report(tmp_path / "nope")
    with pytest.raises(RigError, match="no report.json here"):
        load_run_report(tmp_path)
    (tmp_path / REPORT_FILE).write_text("{torn")
    with pytest.raises(RigError, match="not a readable JSON report"):
        load_report(tmp_path)
    with pytest.raises(RigError, match="not a report written by rig run"):
        load_run_report(tmp_path)
    (tmp_path / REPORT_FILE).write_text(json.dumps({"results": [], "run": ["not", "a", "table"]}))
    with pytest.raises(RigError, match="not a report written by rig run .*not a table"):
        load_run_report(tmp_path)
    assert run_table(load_report(tmp_path)) == {}
