"""A power cut while an update is deferred: the deferral and its deadline survive.

A deferred package is a complete package in Downloaded (docs/object5.md "Power
loss": after a reboot State is Downloaded if a complete, not yet installed package is
stored, and Update Result keeps its value), so the device must come back Downloaded /
11 and still install by itself by the deadline that began at the Execute: the cut must
not restart the period. The power stays off longer than the target's margin, so a
device that restarts the period at boot is seen still deferred after the deadline.
"""

from __future__ import annotations

import asyncio

from rig.place.session import PlaceSession
from rig.conformance.context import Checks, ConformanceContext
from rig.conformance.deferral import DEFERRED, installs_by_itself, prepare, restore
from rig.conformance.steps import final, oracle
from rig.conformance.v11_steps import read_instance
from rig.lwm2m import object5
from rig.results import CaseResult

OFF_EXTRA = 1.0  # s the power stays off beyond the margin
BOOT_ALLOWANCE = 2  # s of the period left for the boot after the cut (the deadline must not pass while off)


async def case_defer_after_cut(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    checks = Checks("defer")
    first = len(session.timeline)
    margin = session.profile.deferral.margin
    off_time = margin + OFF_EXTRA
    period = int(off_time + BOOT_ALLOWANCE) + 1  # the deadline falls after the boot, so a restarted period shows
    driver, own, ok = await prepare(session, ctx, checks, period)
    try:
        if ok:
            code = await driver.execute()
            due = session.timeline.now() + period + margin
            checks.expect(code == "2.04", "execute-accepted", f"Execute Update in Downloaded answered {code}")
            before = await read_instance(session)
            if checks.expect((before.state, before.result) == (2, DEFERRED), "deferred-11",
                             f"after Execute Update with {session.profile.deferral.describe()}: "
                             f"{object5.describe(before.state, before.result)}, not Downloaded / 11 deferred"):
                await _cut(session, checks, off_time)
                after = await read_instance(session)  # one sample of State and result together, before observing
                await driver.observe()
                if checks.expect((after.state, after.result) == (2, DEFERRED), "deferral-survives-cut",
                                 f"deferred (Downloaded / 11) when the power was cut for {off_time:g} s, the device "
                                 f"came back {object5.describe(after.state, after.result)} (Read /5/0 answered "
                                 f"{after.code})"):
                    mark = len(session.timeline)
                    await installs_by_itself(session, ctx, driver, checks, mark, due, period)
                else:
                    final(checks, after.state, after.result)
    finally:
        await restore(session, own)
    checks.add(oracle(session, ctx, first))
    return checks.result()


async def _cut(session: PlaceSession, checks: Checks, off_time: float) -> None:
    """Power off for `off_time` s, on, and wait for the registration (observations again after it)."""
    await asyncio.to_thread(session.power.off)
    await asyncio.sleep(off_time)  # the cut's length is the test's input, not a wait for something
    mark = len(session.timeline)
    await asyncio.to_thread(session.power.on)
    await session.server.wait_registration(session.endpoint, session.boot_timeout, after=mark)  # RigError: error
    checks.note(f"power cut for {off_time:g} s while deferred")
