"""The record of one run: its results, and report.json/junit.xml/report.html rewritten after every case.

A run is complete only when its last write says so: until then report.json
carries "complete": false, the expected count and the cases not yet run, and
junit.xml lists those as skipped plus one error testcase, so a run killed
half-way (SIGKILL, an OOM kill, a CI hard timeout) never reads green.

A night has hundreds to thousands of cases, and the thousandth must cost what
the first did: report.json and junit.xml are rewritten after every case (each
case encoded once), report.html every HTML_EVERY_CASES cases or HTML_EVERY_S
seconds and at the end (each case drawn once), and the history gets one short
transaction per case.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import rig
from rig.errors import RigError
from rig.history.writer import RunHistory
from rig.report.html import write_html_report
from rig.report.html_sections import PageCache
from rig.report.json_report import JsonReportWriter
from rig.report.junit import JunitWriter, NotRun
from rig.results import CaseResult
from rig.verdict import rules
from rig.verdict.outcome import Observed, decide

HTML_EVERY_CASES = 25
HTML_EVERY_S = 20.0


@dataclass
class RunRecord:
    target: str
    report_dir: Path
    params: dict
    results: list[CaseResult] = field(default_factory=list)
    stopped: str | None = None
    expected: int | None = None  # cases the whole run will have, when known up front (for the progress bar)
    exitfirst: bool = False  # stop at the first case that does not pass (-x)
    halted: bool = False
    planned: list[str] = field(default_factory=list)  # names known to belong to the run, in run order
    finished: bool = False  # set by the last write of a run that went to its end
    history: RunHistory | None = None  # this run's row in the history of nights (None: --no-history)
    narrow_of: str | None = None  # every case of this record is a `rig narrow` probe of that case
    _json: JsonReportWriter = field(default_factory=JsonReportWriter, repr=False)
    _junit: JunitWriter = field(default_factory=JunitWriter, repr=False)
    _page: PageCache = field(default_factory=PageCache, repr=False)
    _page_at: tuple[int, float] | None = field(default=None, repr=False)  # (cases, monotonic time) of the last page

    def add(self, result: CaseResult) -> None:
        """A finished case: into the results, the -x rule and the history (one transaction)."""
        if self.narrow_of is not None:
            result.narrow_of = self.narrow_of
        self.results.append(result)
        self.note(result)
        if self.history is not None:
            self.to_history(lambda h: h.case(result))

    def to_history(self, write: Callable[[RunHistory], None]) -> None:
        """A history that cannot be written is one warning; the run and its reports go on without it."""
        try:
            write(self.history)
        except RigError as exc:
            print(f"rig: the history is not written from here on: {exc}", file=sys.stderr)
            self.params["history_problem"] = str(exc)
            self.history = None

    def note(self, result: CaseResult) -> None:
        """After each case: with -x, a failure ends the run (report says where)."""
        if self.exitfirst and result.outcome in ("fail", "error"):
            self.halted = True
            self.stopped = f"stopped at the first failure (-x): {result.name}"

    def plan(self, names: list[str], after: str | None = None) -> None:
        """Names the run will have (known as soon as their plans are made), once each, at the end or right
        after `after` (cut plans made after the baseline go before the conformance cases)."""
        known = set(self.planned)
        new = [n for n in dict.fromkeys(names) if n not in known]
        at = self.planned.index(after) + 1 if after in self.planned else len(self.planned)
        self.planned[at:at] = new

    def not_run(self) -> list[str]:
        done = {r.name for r in self.results}
        return [n for n in self.planned if n not in done]

    @property
    def complete(self) -> bool:
        return self.finished and self.stopped is None

    def finish(self) -> None:
        """The last write: the run went to its end (a stopped run stays incomplete)."""
        self.finished = True
        self.close()

    def close(self) -> None:
        """The last write of this process, whether the run went to its end or stopped: every report, the page
        included, and the history's word on the run."""
        self.write()
        if self.history is not None:
            self.to_history(lambda h: h.end(self.complete, self.stopped, self.params))

    def page_due(self) -> bool:
        """Redraw report.html now? The first case, then every HTML_EVERY_CASES cases or HTML_EVERY_S seconds."""
        if self._page_at is None or self._page_at[0] == 0:
            return True
        cases, at = self._page_at
        return len(self.results) - cases >= HTML_EVERY_CASES or time.monotonic() - at >= HTML_EVERY_S

    def write(self, page: bool = True) -> None:
        not_run = self.not_run()
        expected = max(self.expected or 0, len(self.results) + len(not_run))
        run = {**self.params, "rig_version": rig.__version__, "stopped": self.stopped, "complete": self.complete,
               "expected": expected, "not_run": not_run,
               "not_planned_yet": max(0, expected - len(self.results) - len(not_run))}
        conformance = [{"id": r.plan["conformance"], "title": r.plan.get("title", ""), "name": r.name,
                        "outcome": r.outcome, "detail": r.message or ""}
                       for r in self.results if r.plan and r.plan.get("conformance")]
        self._json.write(self.report_dir / "report.json", self.target, self.results, run,
                         {"conformance": conformance} if conformance else None, not_run=len(not_run))
        self._junit.write(self.report_dir / "junit.xml", f"rig.{self.target}", self.results,
                          self._not_run(not_run, expected))
        if not page:
            return
        self._page_at = (len(self.results), time.monotonic())
        try:
            write_html_report(self.report_dir, self._page, describe_rule=rules.describe)
        except RigError as exc:  # report.json and junit.xml are written; a page that cannot be drawn must not end the run
            print(f"rig: report.html not written: {exc}", file=sys.stderr)

    def _not_run(self, names: list[str], expected: int) -> NotRun | None:
        if self.complete:
            return None
        why = self.stopped or "no final report was written (the run is in progress, or it was killed)"
        skip = decide(Observed(ran=False, not_run_reason=f"the run stopped ({why})"))  # never a fail, never a pass
        return NotRun(names, skip.reason, f"the run is not complete: {len(self.results)} of {expected} cases ran; {why}")


Progress = Callable[[int, int, CaseResult], None]


def pending(record: RunRecord, names: list[str]) -> tuple[list[str], int]:
    """The names not yet in the record (a resumed run skips what it has), and the run's total for the bar."""
    record.plan(names)
    done = {r.name for r in record.results}
    todo = [n for n in names if n not in done]
    return todo, max(len(record.results) + len(todo), record.expected or 0)


def now_iso() -> str:
    """The run's start time as report.json records it."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
