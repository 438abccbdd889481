"""773-778: a download that cannot succeed ends in Idle with the Update Result naming why.

773 no room (2), 774 out of RAM (3), 775 connection lost (4), 776 integrity (5),
777 package type (6), 778 invalid URI (7) and unsupported protocol (9).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from rig.place.session import PlaceSession
from rig.conformance.context import Checks, ConformanceContext
from rig.conformance.steps import download, final, firmware_uri, fresh, oracle, settle
from rig.lwm2m import object5
from rig.lwm2m.blocks import BlockAction, BlockEvent
from rig.results import CaseResult

UNSUPPORTED_CANDIDATES = {2: "http", 3: "https", 4: "coap+tcp", 5: "coaps+tcp", 1: "coaps", 0: "coap"}


async def _bad_package(session: PlaceSession, ctx: ConformanceContext, checks: Checks, names: tuple[str, ...]) -> CaseResult:
    """Each named negative package that was made for the target, in turn, in the run's mode: Idle with its
    expected result (a missing one is noted; the case's needs name those that must be there)."""
    first = len(session.timeline)
    driver = await fresh(session, ctx)
    state = result = None
    for name in names:
        if name not in ctx.negative:
            checks.note(f"no {name} package: {ctx.negative_missing.get(name, 'not made for this target')}")
            continue
        bad = ctx.negative[name]
        code, state, result = await download(driver, bad.path, ctx.mode, ctx.block_size)
        checks.expect((state, result) == (0, bad.expected_result), f"result-{bad.expected_result}",
                      f"{ctx.mode} of {name} ({bad.why}) answered {code}, then {object5.describe(state, result)}; "
                      f"expected Idle / {object5.result_label(bad.expected_result)}")
    final(checks, state, result)
    checks.add(oracle(session, ctx, first))
    return checks.result()


async def case_773(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    checks = Checks("773")
    return await _bad_package(session, ctx, checks, ("too-large",))


async def case_776(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    checks = Checks("776")
    return await _bad_package(session, ctx, checks, ("corrupt", "truncated"))


async def case_777(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    checks = Checks("777")
    return await _bad_package(session, ctx, checks, ("wrong-type",))


async def case_774(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    """Only with a target-made package that exhausts the device's RAM (negative image "out-of-memory")."""
    checks = Checks("774")
    return await _bad_package(session, ctx, checks, ("out-of-memory",))


async def case_775(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    """The rig stops answering mid-pull (block 2 is never served): Idle / 4 once the device gives up.

    A correct client may keep trying for EXCHANGE_LIFETIME of its CoAP transmission parameters
    (247 s by default; the target file's [coap] table says otherwise), so that, plus a margin, is
    how long the rig waits for result 4 before it calls the device wrong.
    """
    checks = Checks("775")
    first = len(session.timeline)
    driver = await fresh(session, ctx)

    async def drop(event: BlockEvent) -> BlockAction | None:
        return BlockAction.DROP if event.direction == "block2" and event.num >= 2 else None

    remove = session.server.add_block_hook(drop)
    try:
        response = await session.server.write(session.endpoint, object5.PACKAGE_URI_PATH, firmware_uri(session, ctx.images.new))
        wait = session.timing.connection_lost_wait
        state, result = await settle(driver, wait)
    finally:
        remove()
    checks.expect((state, result) == (0, 4), "result-4",
                  f"after the server stopped serving at block 2 (URI Write answered {response.code_text}): "
                  f"{object5.describe(state, result)} {wait:g} s later (EXCHANGE_LIFETIME "
                  f"{session.timing.exchange_lifetime:g} s + margin); expected Idle / 4 connection lost")
    final(checks, state, result)
    checks.add(oracle(session, ctx, first))
    return checks.result()


async def case_778(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    """A URI the server answers 4.04 for gives 7; a scheme outside Protocol Support gives 9."""
    checks = Checks("778")
    first = len(session.timeline)
    driver = await fresh(session, ctx)
    server, ep = session.server, session.endpoint
    missing = firmware_uri(session, ctx.images.new).rsplit("/", 1)[0] + "/no-such-package.bin"
    response = await server.write(ep, object5.PACKAGE_URI_PATH, missing)
    state, result = await settle(driver)
    checks.expect((state, result) == (0, 7), "not-found-7",
                  f"URI {missing} (4.04 on the server) answered {response.code_text}, then "
                  f"{object5.describe(state, result)}; expected Idle / 7 invalid URI")
    supported = await server.read(ep, object5.PROTOCOL_SUPPORT_PATH)
    protocols = set(supported.values.values()) if supported.ok else {0}
    scheme = next((s for p, s in UNSUPPORTED_CANDIDATES.items() if p not in protocols), None)
    if scheme is None:
        checks.note("the device supports every protocol: no unsupported scheme to try")
    else:
        parts = urlsplit(missing)
        uri = f"{scheme}://{parts.netloc}/fw/{ctx.images.new.name}"
        response = await server.write(ep, object5.PACKAGE_URI_PATH, uri)
        state, result = await settle(driver)
        checks.expect(response.code_text in ("2.04", "4.00") and (state, result) == (0, 9), "unsupported-9",
                      f"URI {uri} (scheme outside Protocol Support {sorted(protocols)}) answered "
                      f"{response.code_text}, then {object5.describe(state, result)}; expected Idle / 9")
    final(checks, state, result)
    checks.add(oracle(session, ctx, first))
    return checks.result()
