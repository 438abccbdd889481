"""After a cut: power the board on again and wait for it to register, twice at most; a nested plan cuts the
recovery boot itself once more (an interrupted resume) before that.

The off time is the plan's (how long the board stays unpowered). A board that
does not register within the target's boot timeout is switched off and on once
more; one that still does not come back is recorded as not back (the verdict
decides whether that is a brick or the rig's fault).
"""

from __future__ import annotations

import asyncio
import time

from rig.campaign.cutter import Cutter
from rig.campaign.driver import UpdateDriver
from rig.verdict.facts import CaseFacts
from rig.place.session import PlaceSession
from rig.faults import FaultPlan

ATTEMPTS = 2


async def recover(s: PlaceSession, driver: UpdateDriver, plan: FaultPlan, facts: CaseFacts, since: int) -> bool:
    """True once the device registered again after the cut (and after the nested cut, if the plan has one)."""
    if plan.then is not None and await _nested_boot(s, driver, plan, facts, since):
        return True
    for attempt in range(ATTEMPTS):
        await asyncio.sleep(plan.off_time)
        mark = len(s.timeline)
        t0 = time.monotonic()
        await asyncio.to_thread(s.power.on)
        if await driver.wait_registration(mark, s.boot_timeout):
            facts.recover_time = time.monotonic() - t0
            return True
        s.timeline.append("no-reregistration", attempt=attempt + 1, last_console=s.last_console_line())
        await asyncio.to_thread(s.power.off)
    return False


async def _nested_boot(s: PlaceSession, driver: UpdateDriver, plan: FaultPlan, facts: CaseFacts, since: int) -> bool:
    """The first power-on after the cut, with the plan's second cut armed in it. True: the device registered
    and the second cut never came (noted); False: the second cut came (power is off) or nothing registered."""
    assert plan.then is not None
    nested = Cutter(s, FaultPlan(plan.name, plan.then, seed=plan.seed), since, recovery=True)
    nested.arm()
    try:
        await asyncio.sleep(plan.off_time)
        if plan.then.kind == "flash-op":
            await asyncio.to_thread(nested.arm_flash)
        mark = len(s.timeline)
        t0 = time.monotonic()
        await asyncio.to_thread(s.power.on)
        nested.powered_on(asyncio.get_running_loop().time())
        came = await _registered_or_cut(driver, nested, mark, s.boot_timeout + s.update_timeout)
        if came and not nested.done.is_set():
            await nested.wait_pending()  # a timed cut still due lands in the new image's first moments
        if nested.done.is_set():
            facts.nested_cut = True
            facts.notes.append(f"{plan.then.describe_nested()}: cut ({nested.phase})")
            return False
        if came:
            facts.recover_time = time.monotonic() - t0
            facts.notes.append(f"the nested cut ({plan.then.describe_nested()}) never came: the recovery boot "
                               "registered first")
            return True
        s.timeline.append("no-reregistration", attempt=0, last_console=s.last_console_line())
        await asyncio.to_thread(s.power.off)
        return False
    finally:
        nested.disarm()


async def _registered_or_cut(driver: UpdateDriver, nested: Cutter, mark: int, timeout: float) -> bool:
    """Wait for a registration after `mark` or the nested cut, whichever comes first (bounded)."""
    registration = asyncio.ensure_future(driver.wait_registration(mark, timeout))
    cut = asyncio.ensure_future(nested.done.wait())
    try:
        done, _ = await asyncio.wait({registration, cut}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        cut.cancel()
    if registration in done:
        return registration.result()
    registration.cancel()
    return False
