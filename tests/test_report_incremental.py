"""A long run's reports and timeline cost per case what they cost at the first case, and read the same.

No board: report.json written from kept texts equals one encoded afresh; the
page is redrawn when due and from kept sections equals one drawn afresh; the
timeline forgets finished cases into its file without losing or reordering an
event, and waiters keep absolute indexes across it.
"""

from __future__ import annotations

import json
import threading

from rig.run import record as runner
from rig.run.record import RunRecord
from rig.report.html import render_report, write_html_report
from rig.report.html_sections import SECTION_FILE, PageCache
from rig.report.json_report import JsonReportWriter, write_json_report
from rig.results import CaseResult, Violation
from rig.timeline import Timeline


def _results(n: int) -> list[CaseResult]:
    return [CaseResult(f"swap-op-{i:05d}", "fail" if i % 3 else "pass", phase="updating", duration=0.5 + i,
                       plan={"name": f"swap-op-{i:05d}", "cut": {"kind": "flash-op", "flash_op": i}},
                       cut={"kind": "flash-op", "flash_op": i},
                       violations=[Violation("bricked-after-cut", 'a "quoted"\nline')] if i % 3 else [],
                       flash={"words": "primary: 1.0.0 intact"}) for i in range(n)]


def test_report_json_from_kept_case_texts_reads_as_one_encoded_afresh(tmp_path):
    results = _results(5)
    writer = JsonReportWriter()
    writer.write(tmp_path / "a.json", "virtual", results[:3], {"seed": 1})
    writer.write(tmp_path / "a.json", "virtual", results, {"seed": 1}, {"conformance": [{"id": "751"}]}, not_run=2)
    write_json_report(tmp_path / "b.json", "virtual", results, {"seed": 1}, {"conformance": [{"id": "751"}]}, not_run=2)
    assert json.loads((tmp_path / "a.json").read_text()) == json.loads((tmp_path / "b.json").read_text())
    results[4] = CaseResult("swap-op-00004", "pass")  # a case run again (the pytest plugin) is encoded again
    writer.write(tmp_path / "a.json", "virtual", results, {})
    assert json.loads((tmp_path / "a.json").read_text())["results"][4]["outcome"] == "pass"


def test_the_page_is_redrawn_at_the_first_case_then_every_n_cases_or_t_seconds_and_always_at_the_end(tmp_path,
                                                                                                     monkeypatch):
    record = RunRecord("virtual", tmp_path, {})
    drawn = []
    monkeypatch.setattr(runner, "write_html_report", lambda d, cache, **_: drawn.append(len(record.results)))
    clock = [100.0]
    monkeypatch.setattr(runner.time, "monotonic", lambda: clock[0])
    for result in _results(60):
        record.add(result)
        clock[0] += 0.1
        record.write(page=record.page_due())
    assert drawn == [1, 1 + runner.HTML_EVERY_CASES, 1 + 2 * runner.HTML_EVERY_CASES]
    clock[0] += runner.HTML_EVERY_S
    assert record.page_due()
    record.finish()
    assert drawn[-1] == 60


def test_a_page_from_kept_sections_is_the_page_drawn_afresh(tmp_path):
    results = _results(4)
    for r in results:
        (tmp_path / "cases" / r.name).mkdir(parents=True)
    record = RunRecord("virtual", tmp_path, {})
    cache = PageCache()
    for r in results:
        record.add(r)
        record.write(page=False)
        write_html_report(tmp_path, cache)
    assert (tmp_path / "cases" / results[0].name / SECTION_FILE).is_file()
    report = json.loads((tmp_path / "report.json").read_text())
    assert (tmp_path / "report.html").read_text() == render_report(report, tmp_path)


def test_the_timeline_forgets_finished_cases_into_its_file_in_order_and_waits_keep_their_indexes(tmp_path):
    timeline = Timeline()
    path = tmp_path / "timeline.jsonl"
    timeline.spill_to(path)
    for i in range(10):
        timeline.append("x", i=i)
    mark = len(timeline)
    timeline.forget_before(mark)
    assert len(timeline) == 10 and timeline.events() == []
    timeline.append("x", i=10)
    assert [e.data["i"] for e in timeline.events(since=mark)] == [10]
    later = threading.Timer(0.05, lambda: timeline.append("y", i=11))
    later.start()
    assert timeline.wait_for(lambda e: e.kind == "y", 5.0, start=3).data["i"] == 11  # a start already forgotten
    later.join()
    timeline.save(path)
    assert [json.loads(line)["data"]["i"] for line in path.read_text().splitlines()] == list(range(12))


def test_a_timeline_without_a_file_forgets_nothing():
    timeline = Timeline()
    timeline.append("x")
    timeline.forget_before(1)
    assert len(timeline.events()) == 1


def test_events_since_takes_absolute_indexes_and_gives_a_plain_list(tmp_path):
    timeline = Timeline()
    timeline.spill_to(tmp_path / "t.jsonl")
    for i in range(5):
        timeline.append("x", i=i)
    timeline.forget_before(3)
    mark = len(timeline)
    timeline.append("x", i=5)
    assert [e.data["i"] for e in timeline.events(since=mark)] == [5]
    since = timeline.events(since=3)
    assert type(since) is list and [e.data["i"] for e in since] == [3, 4, 5]
    assert [e.data["i"] for e in since[1:2]] == [4]  # a consumer's relative slice means what it says
