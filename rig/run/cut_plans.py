"""Run a list of cut plans on one place, each in the one case wrapper, the results written after every case.

Ctrl-C or SIGTERM stops between (or inside) cases; the power goes to the
place's safe state (the place's own exit), logs are saved and report.json/junit.xml
say where the run stopped, so a weekend campaign is never lost. A resumed run
skips the plans its record already has.
"""

from __future__ import annotations

from rig.campaign.case import CutPlanCase
from rig.faults import FaultPlan
from rig.packages.base import CaseImages
from rig.place.session import PlaceSession
from rig.run.case import record_case, run_case
from rig.run.record import Progress, RunRecord, pending


async def run_cut_plans(
    session: PlaceSession,
    plans: list[FaultPlan],
    images: CaseImages,
    record: RunRecord,
    mode: str,
    block_size: int,
    progress: Progress | None = None,
) -> None:
    """The plans in order, appending to record.results; -x (record.halted) stops between cases."""
    by_name = {p.name: p for p in plans}
    todo, total = pending(record, list(by_name))
    for name in todo:
        if record.halted:
            break
        case = CutPlanCase(by_name[name], images, mode, block_size)
        await record_case(session, record, name, lambda case=case: run_case(session, case), total, progress)
