"""A place whose board, console and probe vanish mid-sweep: every later case ends as "error" fast, the sweep goes on.

The virtual board's supervisor is the bench's USB probe and USB-serial adapter;
killing its process group is unplugging both (and the board's supply) at once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time

from rig.campaign.images import make_images
from rig.campaign.runner import RunRecord, run_cases
from rig.campaign.virtual_place import virtual_place
from rig.config import DEFAULT_TARGETS_DIR, load_target
from rig.faults import Cut, FaultPlan
from rig.timeline import Timeline

TARGET = DEFAULT_TARGETS_DIR / "virtual.toml"


def _descendants(root: int) -> set[int]:
    """Every process below `root` (the supervisor's zygote and MCU live in sessions of their own)."""
    parent_of = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    parent_of[int(pid)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parent_of.items() if ppid in frontier} - found
        found |= frontier
    return found


def _all_gone(pids: set[int], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not [p for p in pids if os.path.exists(f"/proc/{p}") and "Z" not in open(f"/proc/{p}/stat").read().rsplit(")", 1)[1][:3]]:
            return True
        threading.Event().wait(0.1)  # polling /proc: no event tells us another session's process exited
    return False


def test_unplugged_board_ends_later_cases_as_errors_and_the_sweep_goes_on(tmp_path):
    images = make_images(tmp_path / "firmware", load_target(TARGET).layout, 16 * 1024)
    record = RunRecord("virtual", tmp_path, {})
    plans = [FaultPlan("baseline-no-cut"), FaultPlan("download-block-00005", Cut("block", block=5)),
             FaultPlan("download-block-00010", Cut("block", block=10))]

    tree: set[int] = set()

    async def sweep() -> float:
        async with virtual_place(TARGET, tmp_path, images.base.parent, images.base, Timeline()) as session:
            await run_cases(session, plans[:1], images, record, "pull", 512)
            tree.update(_descendants(session.board.proc.pid))
            os.killpg(session.board.proc.pid, signal.SIGKILL)
            session.board.proc.wait(timeout=10)
            t0 = time.monotonic()
            await run_cases(session, plans[1:], images, record, "pull", 512)
            return time.monotonic() - t0

    took = asyncio.run(asyncio.wait_for(sweep(), 120))
    assert len(tree) >= 2, tree  # zygote + MCU
    assert _all_gone(tree), "the MCU outlived its supervisor (an orphan board still on the network)"
    outcomes = [(r.name, r.outcome) for r in record.results]
    assert outcomes == [("baseline-no-cut", "pass"), ("download-block-00005", "error"), ("download-block-00010", "error")]
    for r in record.results[1:]:
        assert "supervisor" in (r.error or "") or "virtual board" in (r.error or ""), r.error
    assert took < 2 * 15.0  # within the place's boot timeout per case, not a hang
    assert (tmp_path / "report.json").is_file() and (tmp_path / "junit.xml").is_file()
