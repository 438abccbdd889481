"""Cancel (/5/0/10, object 1.1) in each State: legal in Downloading and Downloaded (-> Idle / 10), else 4.05.

In Updating the device is usually rebooting into the bootloader; a Cancel that gets
no answer there is noted, not blamed; one that is accepted is a violation, and the
update must still finish.
"""

from __future__ import annotations

import asyncio

from rig.place.session import PlaceSession
from rig.conformance.context import Checks, ConformanceContext
from rig.conformance.steps import BlockGate, download, final, fresh, oracle, start_download, update_completes
from rig.lwm2m import events as lwm2m, object5
from rig.results import CaseResult

CANCEL = object5.CANCEL_PATH


async def _cancel(session: PlaceSession, timeout: float | None = None) -> str:
    call = session.server.execute(session.endpoint, CANCEL)
    try:
        response = await (asyncio.wait_for(call, timeout) if timeout else call)
    except asyncio.TimeoutError:
        return "no answer"
    return response.code_text


async def _expect_cancelled(session: PlaceSession, driver, checks: Checks, where: str) -> None:
    code = await _cancel(session)
    checks.expect(lwm2m.answered_ok(code), f"cancel-in-{where}", f"Cancel in {where.capitalize()} answered {code}")
    await driver.wait_state({0}, session.download_timeout)
    state, result = await driver.read_state()
    checks.expect((state, result) == (0, 10), "cancelled-10",
                  f"after Cancel in {where.capitalize()}: {object5.describe(state, result)}, not Idle / 10 cancelled")
    final(checks, state, result)


async def case_cancel_idle(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    checks = Checks("cancel")
    first = len(session.timeline)
    driver = await fresh(session, ctx)
    code = await _cancel(session)
    checks.expect(code == "4.05", "cancel-in-idle", f"Cancel in Idle answered {code}, not 4.05")
    state, result = await driver.read_state()
    checks.expect((state, result) == (0, 0), "unchanged-idle", f"after Cancel in Idle: {object5.describe(state, result)}")
    final(checks, state, result)
    checks.add(oracle(session, ctx, first))
    return checks.result()


async def case_cancel_downloading(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    checks = Checks("cancel")
    first = len(session.timeline)
    driver = await fresh(session, ctx)
    gate = BlockGate(session, 1)
    task = asyncio.ensure_future(start_download(driver, ctx.images.new, ctx.mode, ctx.block_size))
    try:
        await asyncio.wait_for(gate.reached.wait(), session.download_timeout)
        await _expect_cancelled(session, driver, checks, "downloading")
    except asyncio.TimeoutError:
        checks.expect(False, "downloading", f"block 1 of the {ctx.mode} was not reached in {session.download_timeout:g} s")
    finally:
        gate.close()
    try:
        code = await asyncio.wait_for(task, session.download_timeout)
        checks.note(f"the interrupted {ctx.mode} ended with {code}")
    except asyncio.TimeoutError:
        checks.note(f"the interrupted {ctx.mode} got no further answer")
    state, result = await driver.read_state()
    checks.expect((state, result) == (0, 10), "stays-cancelled",
                  f"after the rest of the cancelled {ctx.mode}: {object5.describe(state, result)}, not Idle / 10")
    final(checks, state, result)
    checks.add(oracle(session, ctx, first))
    return checks.result()


async def case_cancel_downloaded(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    checks = Checks("cancel")
    first = len(session.timeline)
    driver = await fresh(session, ctx)
    code, state, result = await download(driver, ctx.images.new, ctx.mode, ctx.block_size)
    if checks.expect(state == 2, "downloaded", f"{ctx.mode} answered {code}, then {object5.describe(state, result)}"):
        await _expect_cancelled(session, driver, checks, "downloaded")
    checks.add(oracle(session, ctx, first))
    return checks.result()


async def case_cancel_updating(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    checks = Checks("cancel")
    first = len(session.timeline)
    driver = await fresh(session, ctx)
    code, state, result = await download(driver, ctx.images.new, ctx.mode, ctx.block_size)
    if not checks.expect(state == 2, "downloaded", f"{ctx.mode} answered {code}, then {object5.describe(state, result)}"):
        return checks.result()
    mark = len(session.timeline)
    executed = await driver.execute()
    checks.expect(lwm2m.answered_ok(executed), "execute-accepted", f"Execute Update in Downloaded answered {executed}")
    code = await _cancel(session, timeout=3.0)
    if code == "no answer" or code == "5.03":
        checks.note(f"Cancel right after Execute got {code}: the device was installing (Updating not reachable)")
    else:
        checks.expect(code == "4.05", "cancel-in-updating", f"Cancel right after Execute Update answered {code}, not 4.05")
    await update_completes(session, ctx, driver, checks, mark, "after a Cancel in Updating")
    checks.add(oracle(session, ctx, first))
    return checks.result()
