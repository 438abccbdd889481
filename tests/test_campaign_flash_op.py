"""Campaign cases that cut the virtual board's power at an exact flash operation of the swap.

The swap's op count comes from a baseline case's timeline; cuts spread over it land
inside the bootloader's work under any machine load, so the correct board passes
every one and a board whose swap cannot resume fails one with a named rule (the
brick, with what the flash holds). A nested plan cuts the recovery boot again.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from rig.campaign.case import CutPlanCase
from rig.campaign.cutter import Cutter
from rig.campaign.images import make_images
from rig.campaign.measure import swap_flash_ops
from rig.place.open import OwnBoard, open_place
from rig.place.resolve import self_started_board
from rig.config import load_target
from rig.errors import RigError
from rig.faults import Cut, FaultPlan, flash_op_cuts, nested_cuts
from rig.power.manual import ManualPower
from rig.run.case import run_case
from rig.timeline import Timeline

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

TARGET = Path(__file__).resolve().parents[1] / "targets" / "virtual.toml"
CASE_TIMEOUT = 120.0


def test_flash_op_cuts_are_mid_points_named_by_op():
    plans = flash_op_cuts(400, 4, seed=3)
    assert [p.name for p in plans] == ["swap-op-00050", "swap-op-00150", "swap-op-00250", "swap-op-00350"]
    assert all(p.cut == Cut("flash-op", flash_op=int(p.name[-5:])) and p.seed == 3 for p in plans)
    torn = flash_op_cuts(10, 20, torn=True)
    assert [p.cut.flash_op for p in torn] == list(range(10)) and torn[0].name == "swap-op-00000-torn"
    assert all(p.cut.torn for p in torn)
    assert flash_op_cuts(0, 5) == [] and flash_op_cuts(5, 0) == []
    assert FaultPlan.from_dict(plans[0].to_dict()) == plans[0]


def test_swap_flash_ops_reads_the_boot_after_execute():
    timeline = Timeline()
    timeline.append("console", line="[boot] jumping to image 1.0.0 (3 ms after reset, 0 flash ops)")
    assert swap_flash_ops(timeline.events(), "ep") is None
    timeline.append("request", endpoint="ep", op="execute", path="/5/0/2", code="2.04")
    timeline.append("console", line="[app] reboot")
    timeline.append("console", line="[boot] jumping to image 1.1.0 (40 ms after reset, 321 flash ops)")
    timeline.append("console", line="[boot] jumping to image 1.1.0 (1 ms after reset, 2 flash ops)")
    assert swap_flash_ops(timeline.events(), "ep") == 321


def test_flash_op_cut_needs_the_virtual_board():
    """A power backend without the FlashCut capability (here a person's switch) is refused by name, before any case."""
    power = ManualPower(tty_in=io.StringIO(), tty_out=io.StringIO(), name="bench")

    class Session:
        name, endpoint = "bench", "ep"

    Session.power = power  # type: ignore[attr-defined]

    async def arm() -> None:
        Cutter(Session(), FaultPlan("swap-op-00001", Cut("flash-op", flash_op=1)), 0).arm()  # type: ignore[arg-type]

    try:
        with pytest.raises(RigError, match="flash-op cuts need the virtual board .*ManualPower power"):
            asyncio.run(arm())
    finally:
        power.detach()


async def _campaign(tmp: Path, defects: tuple[str, ...], points: int, torn_points: int, boot_timeout: float | None = None,
                    nested: int = 0):
    target = load_target(TARGET)
    firmware = tmp / "firmware"
    images = await asyncio.to_thread(make_images, firmware, target.layout, 32 * 1024)
    timeline = Timeline()
    async with open_place(self_started_board(TARGET, tmp), timeline, tmp, firmware, base_image=images.base, defects=defects,
                          own_board=OwnBoard(board_args=())) as session:
        if boot_timeout is not None:
            session.boot_timeout = boot_timeout  # a bricked board is waited for twice: keep that short
        first = len(timeline)
        baseline = await asyncio.wait_for(run_case(session, CutPlanCase(FaultPlan("baseline-no-cut"), images, "pull", 512)), CASE_TIMEOUT)
        total = swap_flash_ops(timeline.events(since=first), session.endpoint)
        assert total is not None and total > 20, f"no swap op count in the baseline's timeline ({total})"
        plans = flash_op_cuts(total, points, seed=1) + flash_op_cuts(total, torn_points, seed=2, torn=True)
        plans += nested_cuts(total, 0.0, nested, seed=3)
        results = []
        for plan in plans:
            mark = len(timeline)
            result = await asyncio.wait_for(run_case(session, CutPlanCase(plan, images, "pull", 512)), CASE_TIMEOUT)
            cuts = [e for e in timeline.events(since=mark) if e.kind == "cut"]
            results.append((plan, result, cuts))
        return baseline, total, results, timeline


def test_correct_board_survives_cuts_spread_over_the_swap_by_flash_op(tmp_path):
    baseline, total, results, timeline = asyncio.run(_campaign(tmp_path, (), 2, 1))
    assert baseline.outcome == "pass", baseline
    for plan, result, cuts in results:
        assert result.outcome == "pass", (plan.name, result.message, result.violations)
        assert result.phase == "updating" and result.booted_version.startswith("1.1.0"), result
        assert len(cuts) == 1 and cuts[0].data["why"].startswith(f"flash op {plan.cut.flash_op}"), cuts
    lines = [e.data["line"] for e in timeline.events() if e.kind == "console"]
    for plan, _, _ in results:
        assert any(f"power cut at flash op {plan.cut.flash_op} " in line for line in lines), plan.name


def test_swap_not_resumable_fails_a_flash_op_case_with_a_named_rule(tmp_path):
    # One cut in the middle of the swap: with no resume, the half-swapped slots boot nothing.
    baseline, _, results, _ = asyncio.run(_campaign(tmp_path, ("swap-not-resumable",), 1, 0, boot_timeout=4.0))
    assert baseline.outcome == "pass", baseline
    assert all(len(cuts) == 1 for _, _, cuts in results), "every plan must actually cut"
    failed = [r for _, r, _ in results if r.outcome != "pass"]
    assert failed, [r.message for _, r, _ in results]
    assert all(r.outcome == "fail" and r.violations and r.violations[0].rule for r in failed)
    bricked = [r for r in failed if r.violations[0].rule == "bricked-after-cut"]
    assert bricked, [r.message for r in failed]
    for r in bricked:  # the evidence: what the flash holds, read through the probe after the board stayed dark
        assert r.flash_verdict and r.flash["resume_pending"], r.flash
        assert "did not register again" in r.message and "flash: primary:" in r.message, r.message


def test_nested_cut_interrupts_the_resume_and_the_correct_board_still_recovers(tmp_path):
    baseline, total, results, timeline = asyncio.run(_campaign(tmp_path, (), 0, 0, nested=1))
    assert baseline.outcome == "pass", baseline
    [(plan, result, cuts)] = results
    assert plan.then is not None and plan.name.startswith("nested-op-")
    assert result.outcome == "pass", (result.message, result.violations)
    assert result.booted_version.startswith("1.1.0") and result.update_result == 1, result
    assert [c.data.get("nested", False) for c in cuts] == [False, True], [c.data for c in cuts]
    assert cuts[1].data["phase"] == "recovering" and cuts[1].data["why"] == f"flash op {plan.then.flash_op}"
    lines = [e.data["line"] for e in timeline.events() if e.kind == "console"]
    assert sum("power cut at flash op" in line for line in lines) >= 2
