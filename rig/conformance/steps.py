"""Steps the conformance cases share: a known start, a download in either mode, the settled
State/Update Result, and the oracle over the case's slice of the timeline.

The oracle (rig.verdict.oracle) is the one place the transition rules live; a case adds
only what its enabler test case requires on top (a code, a final result, a version).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from rig.campaign.driver import UpdateDriver
from rig.campaign.known_start import known_start, read_version
from rig.place.session import PlaceSession
from rig.conformance.context import Checks, ConformanceContext
from rig.errors import RigError
from rig.lwm2m import object5
from rig.lwm2m.blocks import BlockAction, BlockEvent
from rig.verdict.oracle import check_all
from rig.results import Violation
from rig.verdict.items import timeline_to_items
from rig.verdict.v11_rules import check_v11_rules


async def fresh(session: PlaceSession, ctx: ConformanceContext) -> UpdateDriver:
    """Base image, registered, State and Update Result observed: every case starts here."""
    await known_start(session, ctx.images)
    driver = UpdateDriver(session)
    await driver.observe()
    return driver


def firmware_uri(session: PlaceSession, image: Path, scheme: str | None = None) -> str:
    """The URI the rig serves `image` at (it must lie in the server's firmware directory)."""
    root = session.server.store.directory.resolve()
    try:
        relative = image.resolve().relative_to(root)
    except ValueError:
        raise RigError(f"{image}: not inside the firmware directory {root}, so the rig cannot serve it") from None
    return session.server.firmware_uri(relative.as_posix(), scheme=scheme or session.pull_scheme)


async def start_download(driver: UpdateDriver, image: Path, mode: str, block_size: int) -> str:
    """Push the whole package or write its URI; the device's answer code ("2.04", "4.13", ...)."""
    s = driver.s
    if mode == "push":
        pushed = await s.server.push_firmware(s.endpoint, image, block_size=block_size, request_timeout=10.0)
        return pushed.code or "no answer"
    response = await s.server.write(s.endpoint, object5.PACKAGE_URI_PATH, firmware_uri(s, image))
    return response.code_text


async def settle(driver: UpdateDriver, timeout: float | None = None) -> tuple[int | None, int | None]:
    """Wait until State leaves Downloading (Idle or Downloaded), then read State and Update Result."""
    await driver.wait_state({0, 2}, timeout or driver.s.download_timeout)
    return await driver.read_state()


async def download(driver: UpdateDriver, image: Path, mode: str, block_size: int) -> tuple[str, int | None, int | None]:
    code = await start_download(driver, image, mode, block_size)
    state, result = await settle(driver)
    return code, state, result


async def reregistered(driver: UpdateDriver, mark: int, timeout: float) -> str | None:
    """The version the device registers with after timeline index `mark` (None: no registration)."""
    if not await driver.wait_registration(mark, timeout):
        return None
    await driver.observe()
    return await read_version(driver.s)


async def update_completes(session: PlaceSession, ctx: ConformanceContext, driver: UpdateDriver, checks: Checks,
                           mark: int, how: str) -> None:
    """The install that began after timeline index `mark` ends with the new image running and Idle / 1."""
    version = await reregistered(driver, mark, session.update_timeout + session.boot_timeout)
    await driver.wait_state({0}, session.update_timeout)
    state, result = await driver.read_state()
    checks.expect(session.versions.same(version, ctx.images.new_version) and (state, result) == (0, 1), "update-completes",
                  f"{how} the device runs {version!r} with {object5.describe(state, result)}; "
                  f"expected {ctx.images.new_version} with Idle / 1")
    final(checks, state, result, version)


class BlockGate:
    """Holds one block of a transfer (either direction) until released: the device stays in Downloading."""

    def __init__(self, session: PlaceSession, block: int) -> None:
        self.block = block
        self.reached = asyncio.Event()
        self.release = asyncio.Event()
        self._remove = session.server.add_block_hook(self._hook)

    async def _hook(self, event: BlockEvent) -> BlockAction | None:
        if event.num == self.block and not self.release.is_set():
            self.reached.set()
            await self.release.wait()
        return None

    def close(self) -> None:
        self.release.set()
        self._remove()


def oracle(session: PlaceSession, ctx: ConformanceContext, first: int, end: int | None = None) -> list[Violation]:
    """The sampled-sequence oracle over timeline[first:end], for this target's profile."""
    reg = session.server.registry.table.by_name(session.endpoint) if session.server.registry else None
    versions = {ctx.images.new.name: ctx.images.new_version, ctx.images.base.name: ctx.images.base_version}
    events = session.timeline.events(since=first)[: None if end is None else end - first]
    items = timeline_to_items(events, session.endpoint, versions, session.versions)
    found = check_all(items, session.profile, reg.object_version(5) if reg else None, initial=None)
    return [Violation(v.rule, v.detail) for v in found] + check_v11_rules(events, session.endpoint, session.profile)


def final(checks: Checks, state: int | None, result: int | None, version: str | None = None) -> None:
    checks.state, checks.result_value = state, result
    if version is not None:
        checks.version = version
