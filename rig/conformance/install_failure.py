"""779: an image that installs but must not stay (crashes on boot, or never confirms itself).

The bootloader's test swap must bring the old image back; the device then
re-registers running the old version and reports Update Result 8, in the State
the target's profile names (Idle, or Downloaded as the OMA test expects). A
never-confirming image may run until the next reset, so the rig resets it once.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

from rig.place.session import PlaceSession
from rig.conformance.context import Checks, ConformanceContext
from rig.conformance.steps import download, final, fresh, oracle, reregistered
from rig.lwm2m import events as lwm2m, object5
from rig.results import CaseResult


async def _failed_install(session: PlaceSession, ctx: ConformanceContext, checks: Checks, name: str) -> CaseResult:
    first = len(session.timeline)
    bad = ctx.negative[name]
    driver = await fresh(session, ctx)
    code, state, result = await download(driver, bad.path, ctx.mode, ctx.block_size)
    if not checks.expect(state == 2, "downloaded", f"{ctx.mode} of {name} answered {code}, then "
                         f"{object5.describe(state, result)}; an intact image must reach Downloaded"):
        final(checks, state, result)
        return checks.result()
    mark = len(session.timeline)
    code = await driver.execute()
    checks.expect(lwm2m.answered_ok(code), "execute-accepted", f"Execute Update in Downloaded answered {code}")
    wait = session.update_timeout + session.boot_timeout
    version = await reregistered(driver, mark, wait)
    judged = [(first, None)]
    same = session.versions.same
    if version is not None and same(version, bad.version) and not same(version, ctx.images.base_version):
        state, result = await driver.read_state()
        checks.note(f"{name} ran as {version} reporting {object5.describe(state, result)}; the rig reset the board once")
        # What the deliberately broken image itself reports is not the client's conformance:
        # the oracle judges the sequence up to its registration and from the reset on.
        bad_run = next(mark + i for i, e in enumerate(session.timeline.events(since=mark)) if e.kind == "register")
        mark = len(session.timeline)
        judged = [(first, bad_run), (mark, None)]
        await asyncio.to_thread(session.power.off)
        await asyncio.sleep(0.2)  # the off time of a power cycle, as a FaultPlan's off_time
        await asyncio.to_thread(session.power.on)
        version = await reregistered(driver, mark, wait)
    if not checks.expect(version is not None, "reregistered",
                         f"after installing {name} the device did not re-register within {wait:g} s"):
        return checks.result()
    expected_state = 2 if session.profile.failure_returns_to == "downloaded" else 0
    reverted = same(version, ctx.images.base_version)
    if reverted:  # the outcome may follow the registration; a device still on the bad image has none to wait for
        await driver.wait_state({expected_state}, session.update_timeout)
    state, result = await driver.read_state()
    checks.expect(reverted, "old-version",
                  f"after {name} ({bad.why}) the device runs {version!r}, not the old {ctx.images.base_version}")
    checks.expect((state, result) == (expected_state, 8), "result-8",
                  f"after {name}: {object5.describe(state, result)}; expected "
                  f"{object5.describe(expected_state, 8)} (profile failure_returns_to={session.profile.failure_returns_to})")
    final(checks, state, result, version)
    for start, end in judged:
        checks.add(oracle(session, ctx, start, end))
    return checks.result()


def failed_install(package: str) -> Callable[[PlaceSession, ConformanceContext], Awaitable[CaseResult]]:
    """Case 779 with one bad package (crash-on-boot, never-confirm, wrong-key, downgrade)."""

    async def case(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
        return await _failed_install(session, ctx, Checks("779"), package)

    case.__name__ = f"case_779_{package.replace('-', '_')}"
    return case
