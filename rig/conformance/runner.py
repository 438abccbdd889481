"""Run the conformance cases on one place, like rig.campaign.runner.run_cases runs cut plans.

Each case gets its console log and timeline slice under report_dir/cases/NAME and
report.json/junit.xml are rewritten after every case, so an interrupted run still
says what passed; a case the target cannot exercise is a "skip" with its reason (plan["skipped"]), and a
case the rig could not do is an "error" naming the part of the rig that failed.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable

from rig.campaign.rig_faults import fault_of
from rig.campaign.runner import RunRecord, pending, record_case
from rig.place.session import PlaceSession
from rig.campaign.suite import select
from rig.conformance.abilities import find_abilities, missing
from rig.conformance.cases import CASES
from rig.conformance.context import ConformanceCase, ConformanceContext, skipped
from rig.errors import RigError
from rig.results import CaseResult, Violation
from rig.verdict.outcome import Observed, decide


def select_cases(cases: list[ConformanceCase], keyword: str | None) -> list[ConformanceCase]:
    """pytest-style -k on the case name, as for cut plans."""
    return select(cases, keyword)


async def _run_one(session: PlaceSession, ctx: ConformanceContext, case: ConformanceCase,
                   have: set[str], why: dict[str, str]) -> CaseResult:
    reason = missing(case, have, why)
    if reason is not None:
        return skipped(case, reason)
    started = time.monotonic()
    session.timeline.append("case-start", name=case.name, conformance=case.id)
    try:
        result = await case.run(session, ctx)
    except RigError as exc:
        fault = fault_of(exc)
        decision = decide(Observed(faults=(fault,)))
        result = CaseResult(name=case.name, outcome=decision.outcome, error=decision.reason,
                            violations=[Violation("case-error", fault.describe())], message=decision.reason)
    finally:
        if session.server.dm is not None:
            session.server.dm.cancel_all()
    result.name = case.name
    result.plan = {**(result.plan or {}), "conformance": case.id, "title": case.title}
    result.duration = time.monotonic() - started
    session.timeline.append("case-end", name=case.name, outcome=result.outcome)
    return result


async def run_conformance(
    session: PlaceSession,
    ctx: ConformanceContext,
    record: RunRecord,
    progress: Callable[[int, int, CaseResult], None] | None = None,
    keyword: str | None = None,
) -> None:
    """Run the selected cases in order, appending to record.results (already present names are kept)."""
    by_name = {c.name: c for c in select_cases(CASES, keyword)}
    todo, total = pending(record, list(by_name))
    have: set[str] = set()
    why: dict[str, str] = {}

    async def one(case: ConformanceCase) -> CaseResult:
        nonlocal have, why
        if not have and not why:
            await _registered(session)
            have, why = await find_abilities(session, ctx)
            record.params["conformance_abilities"] = sorted(have)
        return await _run_one(session, ctx, case, have, why)

    for name in todo:
        if record.halted:
            break
        case = by_name[name]
        await record_case(session, record, name, lambda: one(case), total, progress)


async def _registered(session: PlaceSession) -> None:
    """Abilities are read from the device: power it and wait for its registration if it has none."""
    if session.server.registry is not None and session.server.registry.table.by_name(session.endpoint) is not None:
        return
    mark = len(session.timeline)
    await asyncio.to_thread(session.power.on)
    await session.server.wait_registration(session.endpoint, session.boot_timeout, after=mark)
