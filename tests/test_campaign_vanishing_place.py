"""A place whose board, console and probe vanish mid-sweep: every later case ends as "error" fast, the sweep goes on.

The virtual board's supervisor is the bench's USB probe and USB-serial adapter;
killing its process group is unplugging both (and the board's supply) at once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from proc_helpers import all_gone, descendants
from rig.campaign.images import make_images
from rig.place.open import open_place
from rig.place.resolve import self_started_board
from rig.run.cut_plans import run_cut_plans
from rig.run.record import RunRecord
from rig.config import DEFAULT_TARGETS_DIR, load_target
from rig.faults import Cut, FaultPlan
from rig.timeline import Timeline

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

TARGET = DEFAULT_TARGETS_DIR / "virtual.toml"


def test_unplugged_board_ends_later_cases_as_errors_and_the_sweep_goes_on(tmp_path):
    images = make_images(tmp_path / "firmware", load_target(TARGET).layout, 16 * 1024)
    record = RunRecord("virtual", tmp_path, {})
    plans = [FaultPlan("baseline-no-cut"), FaultPlan("download-block-00005", Cut("block", block=5)),
             FaultPlan("download-block-00010", Cut("block", block=10))]

    tree: set[int] = set()

    async def sweep() -> float:
        async with open_place(self_started_board(TARGET, tmp_path), Timeline(), tmp_path, images.base.parent,
                              base_image=images.base) as session:
            await run_cut_plans(session, plans[:1], images, record, "pull", 512)
            tree.update(descendants(session.board.proc.pid))
            os.killpg(session.board.proc.pid, signal.SIGKILL)
            session.board.proc.wait(timeout=10)
            t0 = time.monotonic()
            await run_cut_plans(session, plans[1:], images, record, "pull", 512)
            return time.monotonic() - t0

    took = asyncio.run(asyncio.wait_for(sweep(), 120))
    assert len(tree) >= 2, tree  # zygote + MCU
    assert all_gone(tree), "the MCU outlived its supervisor (an orphan board still on the network)"
    outcomes = [(r.name, r.outcome) for r in record.results]
    assert outcomes == [("baseline-no-cut", "pass"), ("download-block-00005", "error"), ("download-block-00010", "error")]
    for r in record.results[1:]:
        assert "supervisor" in (r.error or "") or "virtual board" in (r.error or ""), r.error
    assert took < 2 * 15.0  # within the place's boot timeout per case, not a hang
    assert (tmp_path / "report.json").is_file() and (tmp_path / "junit.xml").is_file()
