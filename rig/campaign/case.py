"""One case: known start, an update with a fault plan, recovery, completion, verdict.

Whatever happens (a brick, a hang, a bug in the device), the case ends with a
CaseResult and the power in a known state; only the rig's own bugs propagate.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from rig.campaign import versions
from rig.campaign.cutter import Cutter
from rig.campaign.driver import UpdateDriver
from rig.campaign.facts import CaseFacts
from rig.campaign.known_start import known_start, read_version
from rig.campaign.session import PlaceSession
from rig.campaign.update_flow import full_update, install
from rig.errors import RigError
from rig.faults import FaultPlan
from rig.results import CaseResult, Violation
from rig.verdict.judge import judge


@dataclass(frozen=True)
class CaseImages:
    base: Path
    base_version: str
    new: Path
    new_version: str


async def _recover(s: PlaceSession, driver: UpdateDriver, plan: FaultPlan, facts: CaseFacts) -> bool:
    for attempt in range(2):
        await asyncio.sleep(plan.off_time)  # the plan's off time: how long the board stays unpowered
        mark = len(s.timeline)
        t0 = time.monotonic()
        await asyncio.to_thread(s.power.on)
        if await driver.wait_registration(mark, s.boot_timeout):
            facts.recover_time = time.monotonic() - t0
            return True
        s.timeline.append("no-reregistration", attempt=attempt + 1, last_console=s.last_console_line())
        await asyncio.to_thread(s.power.off)
    return False


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
    if not versions.same(await read_version(s), images.new_version):
        ended = await full_update(driver, images.new, mode, block_size, None)
        facts.fresh_update_ok = ended == "registered" and versions.same(await read_version(s), images.new_version)


async def _final_readings(s: PlaceSession, driver: UpdateDriver, facts: CaseFacts) -> None:
    if s.server.registry.table.by_name(s.endpoint) is not None:
        facts.final_version = await read_version(s)
        facts.final_state, facts.final_result = await driver.read_state()
    image = await asyncio.to_thread(s.slot_image, "primary")
    facts.flash_state, facts.flash_version, facts.flash_problem = image.state, image.version, image.problem


def _message(plan: FaultPlan, facts: CaseFacts, blocks_total: int | None, violations: list[Violation]) -> str:
    head = plan.cut.describe(blocks_total) if plan.cut else "no cut"
    phase = f" ({facts.cut_phase.capitalize()})" if facts.cut_phase else ""
    state = f"registered as {facts.final_version} with State {facts.final_state} / Update Result {facts.final_result}"
    text = f"{head}{phase}: at the end the device {state}"
    if violations:
        text += f"; [{violations[0].rule}] {violations[0].detail}"
    elif facts.notes:
        text += f" ({'; '.join(facts.notes)})"
    return text


async def run_case(s: PlaceSession, plan: FaultPlan, images: CaseImages, mode: str, block_size: int) -> CaseResult:
    started = time.monotonic()
    first = len(s.timeline)
    s.timeline.append("case-start", name=plan.name, plan=plan.to_dict(), mode=mode, block_size=block_size)
    facts = CaseFacts(images.base_version, images.new_version)
    result = CaseResult(name=plan.name, outcome="pass", plan=plan.to_dict(), cut=asdict(plan.cut) if plan.cut else None)
    cutter: Cutter | None = None
    try:
        await known_start(s, images.base, images.base_version)
        driver = UpdateDriver(s)
        await driver.observe()
        cutter = Cutter(s, plan, first)
        cutter.arm()
        ended = await full_update(driver, images.new, mode, block_size, cutter)
        if cutter.done.is_set():
            facts.cut_phase = cutter.phase
            facts.reached_updating = cutter.phase == "updating"
            facts.came_back = await _recover(s, driver, plan, facts)
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
            s.timeline.events()[first:], s.endpoint, s.profile, facts, s.boot_timeout,
            reg.object_version(5) if reg else None,
            {images.new.name: images.new_version, images.base.name: images.base_version},
            s.last_console_line(),
        )
        if ended != "registered" and not cutter.done.is_set() and not violations:
            violations.append(Violation("update-failed", f"an update without any fault ended as {ended!r}"))
        missed = plan.cut is not None and not cutter.done.is_set() and ended == "registered"
        if missed and plan.cut.kind == "flash-op":
            facts.notes.append(f"flash operation {plan.cut.flash_op} never came: this boot wrote less")
        elif missed:
            violations.append(Violation("cut-not-reached", f"the planned {plan.cut.describe()} never happened: the update "
                                        "ended first, so this case tested nothing"))
        result.violations = violations
        result.outcome = "fail" if violations else "pass"
        if [v.rule for v in violations] == ["cut-not-reached"]:  # the rig's plan failed, not the device
            result.outcome, result.error = "error", violations[0].detail
        if facts.came_back is False:
            result.outcome = "error"
            result.error = violations[0].detail if violations else "device did not come back"
    except RigError as exc:
        result.outcome, result.error = "error", str(exc)
        result.violations.append(Violation("case-error", str(exc)))
    finally:
        if cutter is not None:
            cutter.disarm()
        if s.server.dm is not None:
            s.server.dm.cancel_all()
    result.phase = facts.cut_phase
    result.booted_version = facts.final_version
    result.state, result.update_result = facts.final_state, facts.final_result
    result.flash_verdict = facts.flash_state if facts.flash_state is None else f"{facts.flash_state} {facts.flash_version or ''}".strip()
    result.recover_time = facts.recover_time
    result.duration = time.monotonic() - started
    result.message = _message(plan, facts, cutter.blocks_total if cutter else None, result.violations)
    s.timeline.append("case-end", name=plan.name, outcome=result.outcome)
    return result
