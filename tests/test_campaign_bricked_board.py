"""A board that never comes back is a fail with flash evidence, and the next case reflashes it over the probe.

The update is an image that crashes on boot and the board has the no-revert
defect: it crash-loops on the new image and never registers again, as a
bricked field device would. The rig itself worked (power switched, probe read
the flash), so this is the device's failure, not an "error" of the rig.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from rig.campaign.images import make_images
from rig.place.open import open_place
from rig.place.resolve import self_started_board
from rig.run.cut_plans import run_cut_plans
from rig.run.record import RunRecord
from rig.config import DEFAULT_TARGETS_DIR, load_target
from rig.faults import FaultPlan
from rig.mcuboot.imgtool_helpers import make_payload, sign_image
from rig.sim.defects import IMAGE_MARKERS
from rig.timeline import Timeline

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

TARGET = DEFAULT_TARGETS_DIR / "virtual.toml"


def test_bricked_board_is_a_fail_with_flash_evidence_and_the_next_case_recovers_it(tmp_path):
    layout = load_target(TARGET).layout
    good = make_images(tmp_path / "firmware", layout, 16 * 1024)
    crash = sign_image(tmp_path / "firmware" / "crash-1.2.0.bin", layout, "1.2.0",
                       make_payload(16 * 1024, 3) + IMAGE_MARKERS["crash"], slot="primary")
    bricking = dataclasses.replace(good, new=crash, new_version="1.2.0")
    record = RunRecord("virtual", tmp_path, {})

    async def sweep() -> None:
        async with open_place(self_started_board(TARGET, tmp_path), Timeline(), tmp_path, good.base.parent, base_image=good.base,
                              defects=("no-revert",)) as session:
            session.boot_timeout, session.update_timeout = 5.0, 3.0
            await run_cut_plans(session, [FaultPlan("crash-image")], bricking, record, "pull", 512)
            await run_cut_plans(session, [FaultPlan("good-image")], good, record, "pull", 512)

    asyncio.run(asyncio.wait_for(sweep(), 150))
    bricked, recovered = record.results
    assert bricked.outcome == "fail", bricked
    assert bricked.violations[0].rule == "bricked-after-update", bricked.violations
    assert "did not register again" in bricked.message and "flash: primary: 1.2.0" in bricked.message, bricked.message
    assert bricked.flash["primary"]["version"].startswith("1.2.0") and bricked.flash_verdict, bricked.flash
    flash = tmp_path / "cases" / "crash-image" / "flash"
    assert {p.name for p in flash.iterdir()} == {"primary.bin", "secondary.bin", "scratch.bin", "slots.txt"}
    assert bricked.flash_dump == "cases/crash-image/flash/slots.txt"
    assert recovered.outcome == "pass", recovered.message
    assert recovered.booted_version.startswith("1.1.0")
