"""A board that never comes back is a result ("error" with the reason), and the next case reflashes it over the probe.

The update is an image that crashes on boot and the board has the no-revert
defect: it crash-loops on the new image and never registers again, as a
bricked field device would.
"""

from __future__ import annotations

import asyncio
import dataclasses

from rig.campaign.images import make_images
from rig.campaign.runner import RunRecord, run_cases
from rig.campaign.virtual_place import virtual_place
from rig.config import DEFAULT_TARGETS_DIR, load_target
from rig.faults import FaultPlan
from rig.mcuboot.imgtool_helpers import make_payload, sign_image
from rig.sim.defects import IMAGE_MARKERS
from rig.timeline import Timeline

TARGET = DEFAULT_TARGETS_DIR / "virtual.toml"


def test_bricked_board_is_an_error_and_the_next_case_recovers_it(tmp_path):
    layout = load_target(TARGET).layout
    good = make_images(tmp_path / "firmware", layout, 16 * 1024)
    crash = sign_image(tmp_path / "firmware" / "crash-1.2.0.bin", layout, "1.2.0",
                       make_payload(16 * 1024, 3) + IMAGE_MARKERS["crash"], slot="primary")
    bricking = dataclasses.replace(good, new=crash, new_version="1.2.0")
    record = RunRecord("virtual", tmp_path, {})

    async def sweep() -> None:
        async with virtual_place(TARGET, tmp_path, good.base.parent, good.base, Timeline(), ("no-revert",)) as session:
            session.boot_timeout, session.update_timeout = 5.0, 3.0
            await run_cases(session, [FaultPlan("crash-image")], bricking, record, "pull", 512)
            await run_cases(session, [FaultPlan("good-image")], good, record, "pull", 512)

    asyncio.run(asyncio.wait_for(sweep(), 150))
    bricked, recovered = record.results
    assert bricked.outcome == "error", bricked
    assert "no-reregistration" in (bricked.error or "") or "did not" in (bricked.error or ""), bricked.error
    assert recovered.outcome == "pass", recovered.message
    assert recovered.booted_version.startswith("1.1.0")
