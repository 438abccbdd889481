"""A cut plan's case: known start, an update with a fault plan, recovery, completion, verdict.

This is the body of the case; rig.run.case.run_case wraps it (case-start and case-end, timing, a
RigError that escapes) like every other case. Whatever happens (a brick, a hang, a bug in the
device, a probe that gives up), the case ends with a CaseResult and the power in a known state; only
the rig's own bugs propagate. The outcome comes from rig.verdict.outcome.decide; a case that does
not pass gets its flash read, saved and decoded (rig.campaign.flash_evidence), and a board that does
not come back is a fail with that evidence whenever the rig itself worked.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, replace
from typing import Any

from rig.campaign.case_words import case_message
from rig.campaign.cutter import Cutter
from rig.campaign.driver import UpdateDriver
from rig.campaign.flash_evidence import FlashEvidence, capture_flash
from rig.campaign.known_start import known_start, read_version
from rig.campaign.recovery import recover
from rig.campaign.rig_faults import fault_of
from rig.campaign.update_flow import full_update, install
from rig.errors import RigError
from rig.faults import FaultPlan
from rig.packages.base import CaseImages
from rig.place.session import PlaceSession
from rig.results import CaseResult, Violation
from rig.verdict.facts import CaseFacts
from rig.verdict.judge import judge
from rig.verdict.outcome import Observed, RigFault, decide


__all__ = ["CaseImages", "CutPlanCase", "evidence_of", "update_with_cut"]


async def _complete(s: PlaceSession, driver: UpdateDriver, images: CaseImages, mode: str, block_size: int, facts: CaseFacts) -> None:
    """After recovery: let the device finish what it was doing, then make sure it can still be updated."""
    await driver.observe()
    state, _ = await driver.read_state()
    if state == 1:
        state = await driver.wait_state({0, 2}, s.download_timeout)
        if state is None:
            facts.stuck_in = "downloading"
            return
    if state == 3:
        state = await driver.wait_state({0, 2}, s.update_timeout)
        if state is None:
            facts.stuck_in = "updating"
            return
    if state == 2:
        facts.reached_updating = True
        await install(driver, None)
        await driver.observe()
    if not s.versions.same(await read_version(s), images.new_version):
        ended = await full_update(driver, images.new, mode, block_size, None)
        facts.fresh_update_ok = ended == "registered" and s.versions.same(await read_version(s), images.new_version)


async def _final_readings(s: PlaceSession, driver: UpdateDriver, facts: CaseFacts) -> None:
    if s.server.registry.table.by_name(s.endpoint) is not None:
        facts.final_version = await read_version(s)
        facts.final_state, facts.final_result = await driver.read_state()
    if s.mcuboot_flash:  # a flash that holds no MCUboot images has no slot verdict to read
        image = await asyncio.to_thread(s.slot_image, "primary")
        facts.flash_state, facts.flash_version, facts.flash_problem = image.state, image.version, image.problem


async def _update(s: PlaceSession, plan: FaultPlan, images: CaseImages, mode: str, block_size: int,
                  facts: CaseFacts, cutter: Cutter, first: int) -> tuple[str, list[Violation]]:
    """Known start, the update with its cut, recovery, completion, final readings: how the update ended and
    the device's violations."""
    await known_start(s, images)
    driver = UpdateDriver(s)
    await driver.observe()
    cutter.arm()
    ended = await full_update(driver, images.new, mode, block_size, cutter)
    if cutter.done.is_set():
        facts.cut_phase = cutter.phase
        facts.reached_updating = cutter.phase == "updating"
        facts.came_back = await recover(s, driver, plan, facts, first)
        if facts.came_back:
            await _complete(s, driver, images, mode, block_size, facts)
    elif ended != "registered":
        facts.notes.append(f"update without a cut ended as {ended!r}")
        if ended == "stuck":
            facts.stuck_in = "downloading"
        elif ended == "no-reregistration":
            facts.came_back = False
    if facts.came_back is not False:
        await _final_readings(s, driver, facts)
    reg = s.server.registry.table.by_name(s.endpoint)
    violations = judge(
        s.timeline.events(since=first), s.endpoint, s.profile, facts, s.boot_timeout,
        reg.object_version(5) if reg else None,
        {images.new.name: images.new_version, images.base.name: images.base_version},
        s.last_console_line(), s.versions,
    )
    if ended != "registered" and not cutter.done.is_set() and not violations:
        violations.append(Violation("update-failed", f"an update without any fault ended as {ended!r}"))
    return ended, violations


def _missed_cut(plan: FaultPlan, cutter: Cutter, facts: CaseFacts, ended: str) -> RigFault | None:
    """A planned cut that never happened while the update went through: the plan failed, not the device."""
    if plan.cut is None or cutter.done.is_set() or ended != "registered":
        return None
    if plan.cut.kind == "flash-op":
        facts.notes.append(f"flash operation {plan.cut.flash_op} never came: this boot wrote less")
        return None
    if plan.cut.kind == "bootstrap":
        facts.not_applicable = ("the device did not bootstrap after the update's reboot (it kept its server account), "
                                "so a cut during that bootstrap does not apply to it")
        return None
    return RigFault("plan", f"the planned {plan.cut.describe()} never happened: the update ended first, so this "
                            "case tested nothing")


async def evidence_of(s: PlaceSession) -> tuple[FlashEvidence | None, str | None]:
    """The flash read through the probe (saved under the case's directory), or why it could not be read."""
    if s.probe is None:
        return None, "the place has no probe"
    try:
        return await asyncio.to_thread(capture_flash, s, s.case_dir), None
    except RigError as exc:
        return None, str(exc)


@dataclass(frozen=True)
class CutPlanCase:
    """A cut plan as a case of the one case wrapper (rig.run.case.Case)."""

    plan: FaultPlan
    images: CaseImages
    mode: str
    block_size: int

    @property
    def name(self) -> str:
        return self.plan.name

    def start_fields(self) -> dict[str, Any]:
        return {"plan": self.plan.to_dict(), "mode": self.mode, "block_size": self.block_size}

    async def run(self, s: PlaceSession) -> CaseResult:
        return await update_with_cut(s, self.plan, self.images, self.mode, self.block_size)


async def update_with_cut(s: PlaceSession, plan: FaultPlan, images: CaseImages, mode: str, block_size: int) -> CaseResult:
    """The update with `plan`'s fault and its verdict; the device's faults are a fail, the rig's an error."""
    first = len(s.timeline)
    facts = CaseFacts(images.base_version, images.new_version, version_compare=s.versions.compare)
    result = CaseResult(name=plan.name, outcome="pass", plan=plan.to_dict(), cut=asdict(plan.cut) if plan.cut else None)
    cutter = Cutter(s, plan, first)
    violations: list[Violation] = []
    faults: list[RigFault] = []
    try:
        ended, violations = await _update(s, plan, images, mode, block_size, facts, cutter, first)
        missed = _missed_cut(plan, cutter, facts, ended)
        if missed is not None:
            faults.append(missed)
    except RigError as exc:
        faults.append(fault_of(exc))
    finally:
        cutter.disarm()
        if s.server.dm is not None:
            s.server.dm.cancel_all()
    seen = Observed(faults=tuple(faults), violations=tuple(violations), cut=cutter.done.is_set() or None,
                    came_back=facts.came_back,
                    not_applicable=facts.not_applicable if not (faults or violations) else None)
    decision = decide(seen)
    evidence = None
    if decision.outcome in ("fail", "error"):
        evidence, problem = await evidence_of(s)
        seen = replace(seen, probe_reachable=evidence is not None, probe_problem=problem,
                       intact_image=evidence.intact_image if evidence and s.mcuboot_flash else None,
                       flash_words=evidence.words if evidence else None)
        decision = decide(seen)
    result.outcome = decision.outcome
    result.violations = list(violations) + [v for v in decision.added if v not in violations]
    result.violations += [Violation("case-error" if f.part != "plan" else "cut-not-reached", f.describe())
                          for f in faults]
    if decision.outcome == "error":
        result.error = decision.reason
    result.phase = facts.cut_phase
    result.booted_version = facts.final_version
    result.state, result.update_result = facts.final_state, facts.final_result
    result.flash_verdict = evidence.verdict if evidence else (
        None if facts.flash_state is None else f"{facts.flash_state} {facts.flash_version or ''}".strip())
    result.flash = evidence.summary if evidence else None
    result.recover_time = facts.recover_time
    result.message = case_message(plan, facts, cutter.blocks_total, decision, evidence)
    return result
