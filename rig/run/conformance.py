"""Run the conformance cases on one place, each in the one case wrapper (rig.run.case), like cut plans.

Each case gets its console log and timeline slice under report_dir/cases/NAME and
report.json/junit.xml are rewritten after every case, so an interrupted run still
says what passed; a case the target cannot exercise is a "skip" with its reason (plan["skipped"]), and a
case the rig could not do is an "error" naming the part of the rig that failed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from rig.conformance.abilities import find_abilities, missing
from rig.conformance.cases import CASES, select_cases
from rig.conformance.context import ConformanceCase, ConformanceContext, skipped
from rig.place.session import PlaceSession
from rig.results import CaseResult
from rig.run.case import record_case, run_case
from rig.run.record import Progress, RunRecord, pending


@dataclass(frozen=True)
class BoundCase:
    """A conformance case with its context, as a case of the one wrapper (rig.run.case.Case)."""

    case: ConformanceCase
    ctx: ConformanceContext

    @property
    def name(self) -> str:
        return self.case.name

    def start_fields(self) -> dict[str, Any]:
        return {"conformance": self.case.id}

    async def run(self, session: PlaceSession) -> CaseResult:
        return await self.case.run(session, self.ctx)


async def _run_one(session: PlaceSession, ctx: ConformanceContext, case: ConformanceCase,
                   have: set[str], why: dict[str, str]) -> CaseResult:
    reason = missing(case, have, why)
    if reason is not None:
        return skipped(case, reason)
    result = await run_case(session, BoundCase(case, ctx))
    result.plan = {**(result.plan or {}), "conformance": case.id, "title": case.title}
    return result


async def run_conformance(
    session: PlaceSession,
    ctx: ConformanceContext,
    record: RunRecord,
    progress: Progress | None = None,
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
        await record_case(session, record, name, lambda case=case: one(case), total, progress)


async def _registered(session: PlaceSession) -> None:
    """Abilities are read from the device: power it and wait for its registration if it has none."""
    if session.server.registry is not None and session.server.registry.table.by_name(session.endpoint) is not None:
        return
    mark = len(session.timeline)
    await asyncio.to_thread(session.power.on)
    await session.server.wait_registration(session.endpoint, session.boot_timeout, after=mark)
