"""The one wrapper every case runs in, cut plan or conformance case alike.

What a case is differs (a cut plan's update with a fault, a numbered
conformance check); what happens around it must not, or one kind of case
would report an error, a Ctrl-C or its time differently from the other:
  run_case     case-start/case-end on the timeline, the time it took, the
               server's pending requests cancelled, and a RigError that
               escapes the case turned into an "error" naming the rig's part
               (rig.verdict.outcome decides, never the wrapper);
  record_case  the case's own console log and timeline slice under
               report_dir/cases/NAME, the flash of every fail and error, and
               the result written to report.json/junit.xml before it returns.
Ctrl-C or SIGTERM (a cancelled task) inside a case leaves the case out of the
results, so it is listed as not run, never as a fail; the record says where
the run stopped and the case's timeline slice is still saved.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Protocol

from rig.campaign.case import evidence_of
from rig.campaign.rig_faults import fault_of
from rig.errors import RigError
from rig.place.session import PlaceSession
from rig.results import CaseResult, Violation
from rig.run.record import Progress, RunRecord
from rig.verdict.outcome import Observed, decide


class Case(Protocol):
    """A case as the wrapper sees it: its name, what its case-start event says, and its body."""

    @property
    def name(self) -> str: ...

    def start_fields(self) -> dict[str, Any]: ...

    async def run(self, session: PlaceSession) -> CaseResult: ...


async def run_case(session: PlaceSession, case: Case) -> CaseResult:
    """The case between its case-start and case-end events, timed; a RigError it lets out is an "error"."""
    started = time.monotonic()
    session.timeline.append("case-start", name=case.name, **case.start_fields())
    try:
        result = await case.run(session)
    except RigError as exc:
        fault = fault_of(exc)
        decision = decide(Observed(faults=(fault,)))
        result = CaseResult(name=case.name, outcome=decision.outcome, error=decision.reason,
                            violations=[Violation("case-error", fault.describe())], message=decision.reason)
    finally:
        if session.server.dm is not None:
            session.server.dm.cancel_all()
    result.name = case.name
    result.duration = time.monotonic() - started
    session.timeline.append("case-end", name=case.name, outcome=result.outcome)
    return result


def case_dir_for(report_dir: Path, name: str) -> Path:
    path = report_dir / "cases" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


async def _flash_of(session: PlaceSession, result: CaseResult) -> None:
    """Every fail and error carries the flash (a cut case reads it itself, for its verdict; others here)."""
    if result.outcome not in ("fail", "error") or result.flash is not None:
        return
    evidence, problem = await evidence_of(session)
    if evidence is None:
        result.message = f"{result.message or result.outcome}; flash not read: {problem}"
        return
    result.flash, result.flash_verdict = evidence.summary, evidence.verdict
    result.message = f"{result.message or result.outcome}; flash: {evidence.words}"


async def record_case(session: PlaceSession, record: RunRecord, name: str, run: Callable[[], Awaitable[CaseResult]],
                      total: int, progress: Progress | None = None) -> None:
    """One case with its own console log and timeline slice; report.json/junit.xml (and, when due, the page)
    rewritten before returning."""
    case_dir = case_dir_for(record.report_dir, name)
    if session.console is not None:
        session.console.new_log(case_dir / "console.log")
    first = len(session.timeline)
    session.timeline.forget_before(first)  # earlier cases are in their files (and the run's timeline.jsonl)
    session.case_dir = case_dir
    try:
        result = await run()
        await _flash_of(session, result)
    except asyncio.CancelledError:
        record.stopped = f"interrupted during case {name!r}"
        save_case_timeline(session, case_dir, first)
        raise
    finally:
        session.case_dir = None
    if session.console is not None:
        result.console_log = str((case_dir / "console.log").relative_to(record.report_dir))
        result.console_dropped = session.console_dropped
    if (case_dir / "flash" / "slots.txt").is_file() and result.flash is not None:
        result.flash_dump = str((case_dir / "flash" / "slots.txt").relative_to(record.report_dir))
    result.timeline_file = str(save_case_timeline(session, case_dir, first).relative_to(record.report_dir))
    record.add(result)
    record.write(page=record.page_due())
    if progress:
        progress(len(record.results), total, result)


def save_case_timeline(session: PlaceSession, case_dir: Path, first: int) -> Path:
    path = case_dir / "timeline.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for event in session.timeline.events(since=first):
            out.write(event.to_json() + "\n")
    return path
