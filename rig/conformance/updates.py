"""760 observe State during an update, 770 push end to end, 771 pull end to end, 772 Execute outside Downloaded.

An update "end to end" means what a fleet operator sees: the device re-registers
running the new version and reports Idle / 1 (success).
"""

from __future__ import annotations

import asyncio

from rig.campaign.driver import UpdateDriver
from rig.place.session import PlaceSession
from rig.campaign.update_flow import install
from rig.conformance.context import Checks, ConformanceContext
from rig.conformance.steps import BlockGate, download, final, fresh, oracle, reregistered, settle, start_download
from rig.lwm2m import events as lwm2m, object5
from rig.results import CaseResult


async def _update(session: PlaceSession, ctx: ConformanceContext, checks: Checks, mode: str) -> None:
    """Download, Execute, re-registration; checks the end state (the caller adds the oracle)."""
    await update_after_fresh(session, ctx, checks, mode, await fresh(session, ctx))


async def update_after_fresh(session: PlaceSession, ctx: ConformanceContext, checks: Checks, mode: str,
                             driver: UpdateDriver) -> None:
    """`_update` from a known start already made (State and Update Result observed through `driver`)."""
    code, state, result = await download(driver, ctx.images.new, mode, ctx.block_size)
    if not checks.expect(state == 2, "downloaded", f"{mode} answered {code}, then {object5.describe(state, result)}"):
        final(checks, state, result)
        return
    mark = len(session.timeline)
    ended = await install(driver, None)
    if not checks.expect(ended == "registered", "reregistered", f"after Execute Update the install ended as {ended!r}"):
        return
    version = await reregistered(driver, mark, 1.0)
    state = await driver.wait_state({0}, session.update_timeout)
    state, result = await driver.read_state()
    checks.expect(session.versions.same(version, ctx.images.new_version), "new-version",
                  f"the device re-registered running {version!r}, not {ctx.images.new_version}")
    checks.expect((state, result) == (0, 1), "success-result",
                  f"after the update: {object5.describe(state, result)}, not Idle / 1 success")
    final(checks, state, result, version)


async def case_770(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    checks = Checks("770")
    first = len(session.timeline)
    await _update(session, ctx, checks, "push")
    checks.add(oracle(session, ctx, first))
    return checks.result()


async def case_771(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    checks = Checks("771")
    first = len(session.timeline)
    await _update(session, ctx, checks, "pull")
    checks.add(oracle(session, ctx, first))
    return checks.result()


async def case_760(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    """Every notified State must be reachable from the last (the oracle); at least one must arrive."""
    checks = Checks("760")
    first = len(session.timeline)
    await _update(session, ctx, checks, ctx.mode)
    notified = [lwm2m.state(e) for e in session.timeline.events(since=first)
                if e.kind == "notify" and isinstance(lwm2m.state(e, session.endpoint), int)]
    changes = [s for i, s in enumerate(notified) if i == 0 or s != notified[i - 1]]
    checks.expect(len(changes) >= 2, "state-notified",
                  f"observing /5/0/3 (pmin 0) during a {ctx.mode} update brought State values {changes}: "
                  "no change was notified")
    missing = [object5.state_label(s) for s in (1, 2) if s not in changes]
    checks.note(f"States notified: {' -> '.join(object5.state_label(s) for s in changes)}"
                + (f" (not notified: {', '.join(missing)}; the oracle judged the sampled sequence)" if missing else ""))
    checks.add(oracle(session, ctx, first))
    return checks.result()


async def case_772(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    """Execute Update in Idle and in Downloading: 4.05 and nothing changes."""
    checks = Checks("772")
    first = len(session.timeline)
    driver = await fresh(session, ctx)
    mark = len(session.timeline)
    code = await driver.execute()
    if not checks.expect(code == "4.05", "execute-in-idle", f"Execute Update in Idle answered {code}, not 4.05"):
        came = await reregistered(driver, mark, session.boot_timeout + session.update_timeout)
        checks.note(f"after the accepted Execute the device re-registered: {came is not None}")
        checks.add(oracle(session, ctx, first))
        return checks.result()
    state, result = await driver.read_state()
    checks.expect((state, result) == (0, 0), "unchanged-idle",
                  f"after the refused Execute: {object5.describe(state, result)}, not Idle / 0")
    gate = BlockGate(session, 1)
    task = asyncio.ensure_future(start_download(driver, ctx.images.new, ctx.mode, ctx.block_size))
    try:
        await asyncio.wait_for(gate.reached.wait(), session.download_timeout)
        state, _ = await driver.read_state()
        if checks.expect(state == 1, "downloading", f"with block 1 held, State is {object5.state_label(state)}"):
            code = await driver.execute()
            checks.expect(code == "4.05", "execute-in-downloading",
                          f"Execute Update in Downloading answered {code}, not 4.05")
            state, result = await driver.read_state()
            checks.expect(state == 1, "unchanged-downloading",
                          f"after Execute in Downloading: {object5.describe(state, result)}")
    except asyncio.TimeoutError:
        checks.expect(False, "downloading", f"block 1 of the {ctx.mode} was not reached in {session.download_timeout:g} s")
    finally:
        gate.close()
    if checks.violations:
        task.cancel()
    else:
        await task
        state, result = await settle(driver)
        checks.expect(state == 2, "download-completes",
                      f"after the refused Executes the download ended {object5.describe(state, result)}")
    final(checks, state, result)
    checks.add(oracle(session, ctx, first))
    return checks.result()
