"""Last State Change Time (/5/0/12, object 1.1) over one update: it moves with State and only with State.

The XML: "This resource stores the time when the State resource is changed. Device
updates this resource before making any change to the State." The case reads /5/0
(State, Update Result and the time in one answer) in Idle, twice in Downloading with
block 1 held for more than a second in between, in Downloaded, and after the update;
what must hold between those samples is the general rule every case is judged by
(rig.verdict.lsct: moves with a State change more than a second after the last one,
stays put while State does not change, never decreases, plausible against the rig's
clock on a target that keeps real time). The case adds only that the samples exist.
"""

from __future__ import annotations

import asyncio

from rig.place.session import PlaceSession
from rig.campaign.update_flow import install
from rig.conformance.context import Checks, ConformanceContext
from rig.conformance.steps import BlockGate, final, fresh, oracle, reregistered, settle, start_download
from rig.conformance.v11_steps import Instance, read_instance, wall_anchor
from rig.lwm2m import object5
from rig.results import CaseResult

DWELL = 1.6  # s in Downloading between two samples: over a second (+ the rule's slack), so the next change must show


async def case_lsct(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    checks = Checks("lsct")
    first = len(session.timeline)
    driver = await fresh(session, ctx)
    wall_anchor(session)
    seen: list[tuple[str, Instance]] = [("Idle", await read_instance(session))]
    gate = BlockGate(session, 1)
    task = asyncio.ensure_future(start_download(driver, ctx.images.new, ctx.mode, ctx.block_size))
    try:
        await asyncio.wait_for(gate.reached.wait(), session.download_timeout)
        seen.append(("Downloading", await read_instance(session)))
        await asyncio.sleep(DWELL)  # State must stay for more than a second: that is the input of this case
        seen.append(("still Downloading", await read_instance(session)))
    except asyncio.TimeoutError:
        checks.expect(False, "downloading", f"block 1 of the {ctx.mode} was not reached in {session.download_timeout:g} s")
    finally:
        gate.close()
    code = await asyncio.wait_for(task, session.download_timeout)
    state, result = await settle(driver)
    seen.append(("Downloaded", await read_instance(session)))
    if checks.expect(state == 2, "downloaded", f"{ctx.mode} answered {code}, then {object5.describe(state, result)}"):
        mark = len(session.timeline)
        ended = await install(driver, None)
        version = await reregistered(driver, mark, 1.0) if ended == "registered" else None
        await driver.wait_state({0}, session.update_timeout)
        seen.append(("after the update", await read_instance(session)))
        checks.expect(ended == "registered", "reregistered", f"after Execute Update the install ended as {ended!r}")
        state, result = await driver.read_state()
        final(checks, state, result, version)
    else:
        final(checks, state, result)
    missing = [f"{label} (Read /5/0 answered {i.code})" for label, i in seen
               if not isinstance(i.lsct, int) or isinstance(i.lsct, bool)]
    checks.expect(not missing, "lsct-readable", f"no Last State Change Time (a Time) in the reads: {', '.join(missing)}")
    checks.note("Last State Change Time: " + " -> ".join(f"{label} {i.lsct}" for label, i in seen))
    checks.add(oracle(session, ctx, first))
    return checks.result()
