"""Run a list of cases on one place and write the results after every case.

Ctrl-C or SIGTERM stops between (or inside) cases; the power goes to the
place's safe state, logs are saved and report.json/junit.xml say where the run
stopped, so a weekend campaign is never lost.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable

import rig
from rig.campaign.case import CaseImages, run_case
from rig.campaign.session import PlaceSession
from rig.faults import FaultPlan
from rig.errors import RigError
from rig.report.html import write_html_report
from rig.report.json_report import write_json_report
from rig.report.junit import write_junit
from rig.results import CaseResult


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

    def note(self, result: CaseResult) -> None:
        """After each case: with -x, a failure ends the run (report says where)."""
        if self.exitfirst and result.outcome != "pass":
            self.halted = True
            self.stopped = f"stopped at the first failure (-x): {result.name}"

    def write(self) -> None:
        run = {**self.params, "rig_version": rig.__version__, "stopped": self.stopped,
               "complete": self.stopped is None}
        conformance = [{"id": r.plan["conformance"], "title": r.plan.get("title", ""), "name": r.name,
                        "outcome": "skip" if r.plan.get("skipped") else r.outcome, "detail": r.message or ""}
                       for r in self.results if r.plan and r.plan.get("conformance")]

        write_json_report(self.report_dir / "report.json", self.target, self.results, run,
                          {"conformance": conformance} if conformance else None)
        write_junit(self.report_dir / "junit.xml", f"rig.{self.target}", self.results)
        try:
            write_html_report(self.report_dir)
        except RigError as exc:  # report.json and junit.xml are written; a page that cannot be drawn must not end the run
            print(f"rig: report.html not written: {exc}", file=sys.stderr)


def case_dir_for(report_dir: Path, name: str) -> Path:
    path = report_dir / "cases" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


Progress = Callable[[int, int, CaseResult], None]


def pending(record: RunRecord, names: list[str]) -> tuple[list[str], int]:
    """The names not yet in the record (a resumed run skips what it has), and the run's total for the bar."""
    done = {r.name for r in record.results}
    todo = [n for n in names if n not in done]
    return todo, max(len(record.results) + len(todo), record.expected or 0)


async def record_case(session: PlaceSession, record: RunRecord, name: str, run: Callable[[], Awaitable[CaseResult]],
                      total: int, progress: Progress | None = None) -> None:
    """One case with its own console log and timeline slice; report.json/junit.xml/html rewritten before returning."""
    case_dir = case_dir_for(record.report_dir, name)
    if session.console is not None:
        session.console.new_log(case_dir / "console.log")
    first = len(session.timeline)
    try:
        result = await run()
    except asyncio.CancelledError:
        record.stopped = f"interrupted during case {name!r}"
        save_case_timeline(session, case_dir, first)
        raise
    if session.console is not None:
        result.console_log = str((case_dir / "console.log").relative_to(record.report_dir))
    result.timeline_file = str(save_case_timeline(session, case_dir, first).relative_to(record.report_dir))
    record.results.append(result)
    record.note(result)
    record.write()
    if progress:
        progress(len(record.results), total, result)


async def run_cases(
    session: PlaceSession,
    plans: list[FaultPlan],
    images: CaseImages,
    record: RunRecord,
    mode: str,
    block_size: int,
    progress: Progress | None = None,
) -> None:
    by_name = {p.name: p for p in plans}
    todo, total = pending(record, list(by_name))
    for name in todo:
        if record.halted:
            break
        plan = by_name[name]
        await record_case(session, record, name, lambda: run_case(session, plan, images, mode, block_size), total, progress)


def save_case_timeline(session: PlaceSession, case_dir: Path, first: int) -> Path:
    path = case_dir / "timeline.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for event in session.timeline.events()[first:]:
            out.write(event.to_json() + "\n")
    return path


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
