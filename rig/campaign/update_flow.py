"""One update attempt from Idle to the re-registration, stopping early when the power is cut."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rig.campaign.cutter import Cutter
from rig.campaign.driver import UpdateDriver

FIRST_BOOT_WRITES_WITHIN = 3.0  # s after the re-registration by which a new image has confirmed and stored its result


async def _until_cut(coro, cutter: Cutter | None):
    """Run `coro`, but stop waiting as soon as the cutter has cut the power."""
    task = asyncio.ensure_future(coro)
    if cutter is None:
        return await task
    cut_wait = asyncio.ensure_future(cutter.done.wait())
    done, _ = await asyncio.wait({task, cut_wait}, return_when=asyncio.FIRST_COMPLETED)
    cut_wait.cancel()
    if task in done:
        return task.result()
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):
        pass
    return None


async def download(driver: UpdateDriver, image: Path, mode: str, block_size: int, cutter: Cutter | None) -> str:
    """Push or pull `image`; returns "downloaded", "failed", "stuck" or "cut"."""
    stop = cutter.done if cutter else None
    if mode == "push":
        mark = len(driver.s.timeline)
        result = await _until_cut(driver.push(image, block_size), cutter)
        if cutter and cutter.done.is_set():
            return "cut"
        if (result is None or not result.completed) and await _server_restarted(driver, mark):
            # The push lived in the server that restarted; a server that comes back starts the transfer over.
            result = await _until_cut(driver.push(image, block_size), cutter)
            if cutter and cutter.done.is_set():
                return "cut"
        if result is None or not result.completed:
            return "failed"
    else:
        ok = await _until_cut(driver.pull(image), cutter)
        if cutter and cutter.done.is_set():
            return "cut"
        if not ok:
            return "failed"
    state = await driver.wait_state({2, 0}, driver.s.download_timeout, stop)
    if cutter and cutter.done.is_set():
        return "cut"
    if state == 2:
        return "downloaded"
    return "failed" if state == 0 else "stuck"


async def _server_restarted(driver: UpdateDriver, since: int, timeout: float = 10.0) -> bool:
    """Did a restart-server fault hit this transfer? Waits (bounded) for the restart to have finished."""
    tl = driver.s.timeline
    if not any(e.kind == "net-fault" and e.data.get("fault") == "restart-server" for e in tl.events()[since:]):
        return False
    done = await tl.wait_for_async(lambda e: e.kind == "net-fault-done" and e.data.get("fault") == "restart-server",
                                   timeout, since)
    return done is not None


async def install(driver: UpdateDriver, cutter: Cutter | None) -> str:
    """Execute Update and wait for the re-registration: "registered", "refused", "no-reregistration" or "cut"."""
    mark = len(driver.s.timeline)
    code = await _until_cut(driver.execute(), cutter)
    if cutter and cutter.done.is_set():
        return "cut"
    if code is None or not code.startswith("2."):
        return "refused"
    if cutter:
        cutter.executed()
    came = await _until_cut(driver.wait_registration(mark, driver.s.update_timeout + driver.s.boot_timeout), cutter)
    if came and cutter and _cut_pending(cutter):
        # The board was back before the planned instant (or flash op): the cut still lands, in the new
        # image's first moments (before it confirms itself), rather than silently not at all.
        cut = cutter.plan.cut
        wait = (cut.delay_ms or 0) / 1000.0 + 2.0 if cut.kind == "after-execute" else FIRST_BOOT_WRITES_WITHIN
        try:
            await asyncio.wait_for(cutter.done.wait(), wait)
        except asyncio.TimeoutError:
            pass
    if cutter and cutter.done.is_set():
        return "cut"
    return "registered" if came else "no-reregistration"


def _cut_pending(cutter: Cutter) -> bool:
    cut = cutter.plan.cut
    return cut is not None and cut.kind in ("after-execute", "flash-op") and not cutter.done.is_set()


async def full_update(driver: UpdateDriver, image: Path, mode: str, block_size: int, cutter: Cutter | None) -> str:
    """Download then install; the answer names where it ended ("registered" on the happy path)."""
    got = await download(driver, image, mode, block_size, cutter)
    if got != "downloaded":
        return got
    return await install(driver, cutter)
