"""Deferred updates (object 1.1): Execute Update may leave the device in Downloaded with Update Result 11.

The XML: when Update is executed "the user may be allowed to defer the firmware update
to a later time. In this case, the state stays in Downloaded state and the Update Result
is set to 11"; the Maximum Defer Period (/5/0/13) is "the number of seconds a user can
defer the software update. When this time period is over, the device will ... install
it automatically. If the value is 0, a deferred update is not allowed." The issue the
cases come from adds: a critical update (Severity 0) is never deferred.

The rig makes the device defer as its target file says (lwm2m.deferral), sets a short
period so the case stays short, and waits for the automatic install no longer than the
period + the target's margin; then one more Read of /5/0 is the evidence the general
rule (rig.verdict.deferral) judges.
"""

from __future__ import annotations

from rig.campaign.driver import UpdateDriver
from rig.place.session import PlaceSession
from rig.conformance.context import Checks, ConformanceContext
from rig.conformance.steps import download, final, fresh, oracle, update_completes
from rig.conformance.v11_steps import PERIOD, SEVERITY, make_defer, read_instance, read_value, undo_defer, write
from rig.lwm2m import events as lwm2m, object5
from rig.results import CaseResult
from rig.timeline import Event

DEFERRED = int(object5.UpdateResult.DEFERRED)
SHORT_PERIOD = 2  # s: long enough to read the deferral, short enough for CI
LONG_PERIOD = 60  # s: where a deferral must not happen, one would be plain


def moved_on(endpoint: str):
    """A sign that the device left Downloaded / 11: it registered again, or showed another State or a result."""
    def hit(e: Event) -> bool:
        if e.data.get("endpoint") != endpoint:
            return False
        if e.kind == "register":
            return True
        return lwm2m.state(e) in (0, 1, 3) or lwm2m.result(e) in (1, 5, 8)
    return hit


async def prepare(session: PlaceSession, ctx: ConformanceContext, checks: Checks, period: int,
                  severity: int | None = None) -> tuple[UpdateDriver, int | None, bool]:
    """Fresh start, the device told to defer, period (and severity) written, the new image downloaded.
    Returns the driver, the device's own period (to put back) and whether it reached Downloaded."""
    driver = await fresh(session, ctx)
    own = await read_value(session, PERIOD)
    await make_defer(session)
    for rid, value in ((PERIOD, period), (SEVERITY, severity)):
        if value is not None:
            code = await write(session, rid, value)
            checks.expect(code == "2.04", "setup", f"Write {value} to /5/0/{rid} answered {code}, not 2.04")
    code, state, result = await download(driver, ctx.images.new, ctx.mode, ctx.block_size)
    ok = checks.expect(state == 2, "downloaded", f"{ctx.mode} answered {code}, then {object5.describe(state, result)}")
    return driver, own if isinstance(own, int) else None, ok


async def restore(session: PlaceSession, own_period: int | None) -> None:
    await undo_defer(session)
    if own_period is not None and session.server.registry.table.by_name(session.endpoint) is not None:
        await write(session, PERIOD, own_period)


async def installs_by_itself(session: PlaceSession, ctx: ConformanceContext, driver: UpdateDriver, checks: Checks,
                             mark: int, due: float, period: int) -> None:
    """Wait until `due` (timeline clock: the period's end + margin) for the device to move on, then for the install."""
    tl = session.timeline
    sign = await tl.wait_for_async(moved_on(session.endpoint), max(0.0, due - tl.now()), mark)
    if sign is None:
        now = await read_instance(session)  # the evidence the general deferral rule reads
        if not checks.expect(now.result != DEFERRED, "installs-by-itself",
                             f"{period} s Maximum Defer Period + {session.profile.deferral.margin:g} s margin after the "
                             f"deferred Execute, /5/0 still reads {object5.describe(now.state, now.result)}"):
            final(checks, now.state, now.result)
            return
    await update_completes(session, ctx, driver, checks, mark, "after the deferral,")


async def case_defer_execute(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    """Deferred Execute: 2.04, Downloaded / 11, and the install comes by itself once the period is over."""
    checks = Checks("defer")
    first = len(session.timeline)
    driver, own, ok = await prepare(session, ctx, checks, SHORT_PERIOD)
    try:
        if ok:
            mark = len(session.timeline)
            code = await driver.execute()
            due = session.timeline.now() + SHORT_PERIOD + session.profile.deferral.margin
            checks.expect(code == "2.04", "execute-accepted", f"Execute Update in Downloaded answered {code}")
            now = await read_instance(session)
            if checks.expect((now.state, now.result) == (2, DEFERRED), "deferred-11",
                             f"after Execute Update with {session.profile.deferral.describe()} and a Maximum Defer "
                             f"Period of {SHORT_PERIOD} s: {object5.describe(now.state, now.result)}, not Downloaded / "
                             f"11 deferred (Read /5/0 answered {now.code})"):
                await installs_by_itself(session, ctx, driver, checks, mark, due, SHORT_PERIOD)
    finally:
        await restore(session, own)
    checks.add(oracle(session, ctx, first))
    return checks.result()


async def _never_deferred(session: PlaceSession, ctx: ConformanceContext, period: int, severity: int | None,
                          why: str) -> CaseResult:
    checks = Checks("defer")
    first = len(session.timeline)
    driver, own, ok = await prepare(session, ctx, checks, period, severity)
    try:
        if ok:
            mark = len(session.timeline)
            code = await driver.execute()
            checks.expect(code == "2.04", "execute-accepted", f"Execute Update in Downloaded answered {code}")
            ep = session.endpoint
            deferred = await session.timeline.wait_for_async(
                lambda e: lwm2m.of(e, ep) and (e.kind == "register" or lwm2m.values(e).get(lwm2m.RESULT) == DEFERRED),
                session.update_timeout + session.boot_timeout, mark)
            if checks.expect(deferred is None or deferred.kind == "register", "not-deferred",
                             f"{why}, yet Execute Update led to Update Result 11 (deferred)"):
                await update_completes(session, ctx, driver, checks, mark, f"{why}, and")
    finally:
        await restore(session, own)
    checks.add(oracle(session, ctx, first))
    return checks.result()


async def case_defer_critical(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    """Severity 0 (critical), with everything else that makes the device defer: it installs at once."""
    return await _never_deferred(session, ctx, LONG_PERIOD, 0, "Severity was 0 (critical)")


async def case_defer_period_zero(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    """Maximum Defer Period 0: "a deferred update is not allowed"."""
    return await _never_deferred(session, ctx, 0, None, "the Maximum Defer Period was 0")
