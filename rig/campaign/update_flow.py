"""One update attempt from Idle to the re-registration, stopping early when the power is cut."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rig.campaign.cutter import Cutter
from rig.campaign.driver import UpdateDriver
from rig.lwm2m import events as lwm2m
from rig.lwm2m.object5 import RESULT_NAMES, UpdateResult


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
        result = await _until_cut(driver.push(image, block_size), cutter)
        if cutter and cutter.done.is_set():
            return "cut"
        if (result is None or not result.completed) and cutter and await cutter.server_restarted():
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


# An install that ends without a reboot.
FAILED_RESULTS = {int(r): RESULT_NAMES[r] for r in (UpdateResult.INTEGRITY_FAILURE, UpdateResult.UPDATE_FAILED)}


async def install(driver: UpdateDriver, cutter: Cutter | None) -> str:
    """Execute Update and wait for the re-registration: "registered", "refused", "no-reregistration", "cut", or
    "failed" when the device reports a failed install (Update Result 8 or 5 in Idle/Downloaded) without
    rebooting: no re-registration will come then, and waiting for one would only waste the timeout."""
    mark = len(driver.s.timeline)
    code = await _until_cut(driver.execute(), cutter)
    if cutter and cutter.done.is_set():
        return "cut"
    if not lwm2m.answered_ok(code):
        return "refused"
    if cutter:
        cutter.executed()
    came = await _until_cut(_registered_or_failed(driver, mark, driver.s.update_timeout + driver.s.boot_timeout),
                            cutter)
    if came == "registered" and cutter:
        await cutter.wait_pending()
    if cutter and cutter.done.is_set():
        return "cut"
    return came or "no-reregistration"


async def _registered_or_failed(driver: UpdateDriver, mark: int, timeout: float) -> str | None:
    """The first of: a registration after `mark` ("registered"), a failed-install result ("failed"); None on timeout."""
    endpoint = driver.endpoint

    def ended(event) -> bool:
        if event.data.get("endpoint") != endpoint:
            return False
        if event.kind == "register":
            return True
        values = lwm2m.reported(event)
        return values.get(lwm2m.RESULT) in FAILED_RESULTS and values.get(lwm2m.STATE, 0) in (0, 2)

    event = await driver.s.timeline.wait_for_async(ended, timeout, mark)
    if event is None:
        return None
    return "registered" if event.kind == "register" else "failed"



async def full_update(driver: UpdateDriver, image: Path, mode: str, block_size: int, cutter: Cutter | None) -> str:
    """Download then install; the answer names where it ended ("registered" on the happy path)."""
    got = await download(driver, image, mode, block_size, cutter)
    if got != "downloaded":
        return got
    return await install(driver, cutter)
