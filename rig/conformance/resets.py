"""755/756: a package delivered by Package (push) or Package URI (pull), then the reset.

Writing a single NUL byte to Package, or an empty Package URI, must take the device
from Downloaded back to Idle with Update Result 0 (docs/object5.md, "The state machine").
"""

from __future__ import annotations

from rig.place.session import PlaceSession
from rig.conformance.context import Checks, ConformanceContext
from rig.conformance.steps import download, final, fresh, oracle
from rig.lwm2m import object5
from rig.results import CaseResult


async def _download_then_reset(session: PlaceSession, ctx: ConformanceContext, checks: Checks, mode: str,
                               path: str, reset_value: object) -> CaseResult:
    first = len(session.timeline)
    driver = await fresh(session, ctx)
    code, state, result = await download(driver, ctx.images.new, mode, ctx.block_size)
    if checks.expect(state == 2, "downloaded", f"{mode} of {ctx.images.new.name} answered {code}, then "
                     f"{object5.describe(state, result)} instead of Downloaded"):
        response = await session.server.write(session.endpoint, path, reset_value)
        checks.expect(response.ok, "reset-accepted", f"reset Write of {path} answered {response.code_text}")
        state = await driver.wait_state({0}, session.download_timeout)
        state, result = await driver.read_state()
        checks.expect((state, result) == (0, 0), "reset-to-idle",
                      f"after the reset Write of {path}: {object5.describe(state, result)}, not Idle / 0")
        if mode == "pull":
            uri = await session.server.read(session.endpoint, object5.PACKAGE_URI_PATH)
            checks.expect(not uri.ok or uri.value in ("", None), "uri-cleared",
                          f"Package URI still reads {uri.value!r} after the reset")
    final(checks, state, result)
    checks.add(oracle(session, ctx, first))
    return checks.result()


async def case_755(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    checks = Checks("755")
    return await _download_then_reset(session, ctx, checks, "push", object5.PACKAGE_PATH, b"\x00")


async def case_756(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    checks = Checks("756")
    return await _download_then_reset(session, ctx, checks, "pull", object5.PACKAGE_URI_PATH, "")
