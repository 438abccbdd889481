"""Known start checks Object 5: a client that comes back in Downloading is reset before the next case, and one
that cannot be brought to the start state makes the case an error that names the state, not the device's fail.

The virtual board (real supervisor, MCU, server). The first case leaves the client
in Downloading (the stuck-downloading-after-cut defect) where the rig does not
erase its state (its layout here has no settings partition, as on a board whose
client keeps its state where the rig does not know); the next case must not be
blamed for it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from rig.campaign.case import CutPlanCase
from rig.campaign.images import make_images
from rig.place.open import open_place
from rig.place.resolve import self_started_board
from rig.config import load_target
from rig.faults import Cut, FaultPlan
from rig.run.case import run_case
from rig.timeline import Timeline

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

TARGET = Path(__file__).resolve().parents[1] / "targets" / "virtual.toml"


def test_a_client_left_in_downloading_is_reset_at_the_next_known_start(tmp_path):
    layout = load_target(TARGET).layout
    images = make_images(tmp_path / "firmware", layout, 16 * 1024)
    rigs_view = dataclasses.replace(layout, partitions={k: v for k, v in layout.partitions.items() if k != "settings"})

    async def main():
        timeline = Timeline()
        async with open_place(self_started_board(TARGET, tmp_path), timeline, tmp_path, images.base.parent,
                              base_image=images.base, defects=("stuck-downloading-after-cut",)) as session:
            session.layout, session.download_timeout = rigs_view, 2.0
            stuck = await run_case(session, CutPlanCase(FaultPlan("download-block-00005", Cut("block", block=5)), images, "pull", 512))
            mark = len(timeline)
            clean = await run_case(session, CutPlanCase(FaultPlan("baseline-no-cut"), images, "pull", 512))
            return stuck, clean, [e for e in timeline.events(since=mark) if e.kind == "known-start-object5"]

    stuck, clean, resets = asyncio.run(asyncio.wait_for(main(), 120))
    assert stuck.outcome == "fail" and stuck.violations[0].rule == "stuck-in-downloading", stuck.violations
    assert clean.outcome == "pass", clean.message  # not blamed for what the previous case left
    assert [(r.data["found"], r.data["reset_by"]) for r in resets] == [("Downloading / 0 initial", 'Write "" to /5/0/1')]


def test_a_device_not_in_the_declared_start_state_after_every_reset_is_an_error_naming_it(tmp_path):
    target = tmp_path / "virtual.toml"
    target.write_text(TARGET.read_text() + "\n[known_start]\nobject5_state = 2\n")  # a start this client never has
    images = make_images(tmp_path / "firmware", load_target(target).layout, 8 * 1024)

    async def main():
        async with open_place(self_started_board(target, tmp_path), Timeline(), tmp_path, images.base.parent,
                              base_image=images.base) as session:
            return await run_case(session, CutPlanCase(FaultPlan("baseline-no-cut"), images, "pull", 512))

    result = asyncio.run(asyncio.wait_for(main(), 120))
    assert result.outcome == "error", result
    assert result.error.startswith("rig error (known-start: known start: Object 5 of rig-virtual read Idle / 0"), \
        result.error
    assert 'after Write "" to /5/0/1, then a power cycle it still reads Idle / 0 initial' in result.error
