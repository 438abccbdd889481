"""Resumption: a pull download cut by a power loss continues after boot (only where the target claims it).

The cut is the campaign's own exact block cut (rig.campaign.case.update_with_cut), so the
verdict includes the oracle and the hard invariants; on top, the first block the
device asks for after power-on must not be block 0.
"""

from __future__ import annotations

from rig.campaign.case import update_with_cut
from rig.place.session import PlaceSession
from rig.conformance.context import Checks, ConformanceContext
from rig.faults import Cut, FaultPlan
from rig.results import CaseResult


def cut_block(image_size: int) -> int:
    """About half way at 512-byte blocks, and past the first 4 KB sector so a resume is visible."""
    return max(9, image_size // 1024)


async def case_resume(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    checks = Checks("resume")
    first = len(session.timeline)
    block = cut_block(ctx.images.new.stat().st_size)
    plan = FaultPlan("conf-resume", Cut(kind="block", block=block))
    inner = await update_with_cut(session, plan, ctx.images, "pull", ctx.block_size)
    if inner.outcome == "error":  # the rig could not carry out the cut (or the known start): not the device's fail
        return inner
    checks.add(inner.violations)
    events = session.timeline.events(since=first)
    # the first power-on after the cut (a process target's known start switches it off and on before)
    cut = next((i for i, e in enumerate(events) if e.kind == "cut"), None)
    on = next((i for i, e in enumerate(events) if cut is not None and i > cut and e.kind == "power"
               and e.data.get("action") == "on"), None)
    after = [e.data["num"] for e in events[on:] if e.kind == "block2"] if on is not None else []
    if checks.expect(inner.phase == "downloading", "cut-in-download",
                     f"the cut at block {block} hit phase {inner.phase!r}, not Downloading"):
        checks.expect(bool(after) and after[0] > 0, "resumed",
                      f"after the cut at block {block} the device asked for blocks {after[:3]}...: "
                      "it restarted from block 0 although its profile says resumes_download")
    checks.note(f"cut at block {block}; after power-on the download went on at block {after[0] if after else None}")
    checks.state, checks.result_value, checks.version = inner.state, inner.update_result, inner.booted_version
    return checks.result()
