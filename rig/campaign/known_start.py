"""Known start for every case: base image in primary, the rest erased, powered, registered, Object 5 Idle.

A case must not inherit the previous case's half-finished swap, stored package
or Object 5 state (a client that comes back in Downloading would be blamed in
the next case for what this one left); and a board that bricked is re-flashed
here, so one bad case does not end the night. When the device cannot be brought
to the start state the case is an error of the known start, naming what it read.

What is programmed is the package format's flash form of the base (the MCUboot
image itself, or what the target's package.flash command made); on a flash that
holds MCUboot images the slot is read and decoded, on any other it is compared
byte for byte. A process target's reset_command then clears client state kept
outside its flash. The running version is read where the target says
(rig.campaign.version_sources) and compared as it says.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from rig.campaign.reset_command import run_reset_command
from rig.place.session import PlaceSession
from rig.campaign.version_sources import read_version
from rig.errors import RigError
from rig.lwm2m import object5
from rig.packages.base import CaseImages

__all__ = ["KnownStartError", "known_start", "object5_start", "read_object5", "read_version"]

SCRUB = ("secondary", "scratch", "settings")
RESET_SETTLE = 1.0  # s allowed for a reset to show in State (a client may answer the Write before applying it)
POLL = 0.25  # s between reads of State while waiting for a reset to land (no observation is set up yet)
OFF_TIME = 0.2  # s the power stays off in a known start's power cycle, as a FaultPlan's default off_time


class KnownStartError(RigError):
    """The board could not be brought to the known start: the case cannot run (an error, not the device's fail)."""


def _base_is_there(session: PlaceSession, base_image: Path, base_version: str) -> bool:
    if session.mcuboot_flash:
        primary = session.slot_image("primary")
        return primary.intact and session.versions.same(primary.version, base_version)
    want = base_image.read_bytes()
    return session.read_partition("primary")[: len(want)] == want


def _program_base(session: PlaceSession, base_image: Path | None, base_version: str) -> bool:
    """Blocking (probe calls): returns True when the primary slot had to be re-flashed."""
    layout = session.layout
    session.probe.halt()
    reflashed = False
    if base_image is not None and not _base_is_there(session, base_image, base_version):
        part = layout.partition("primary")
        session.probe.erase(layout.base + part.offset, part.size)
        session.probe.program(base_image, layout.base + part.offset)
        reflashed = True
    for name in SCRUB:
        if name in layout.partitions:
            part = layout.partitions[name]
            session.probe.erase(layout.base + part.offset, part.size)
    return reflashed


async def known_start(session: PlaceSession, images: CaseImages) -> str:
    """Returns the version the board registered with (read where the target's [version] table says)."""
    base_version = images.base_version
    tl = session.timeline
    tl.append("phase", name="known-start")
    resets = session.probe.resets_target
    # A file probe (host-process target) programs the "flash" with the process stopped, and a power-on is its reset.
    await asyncio.to_thread(session.power.on if resets else session.power.off)
    reflashed = await asyncio.to_thread(_program_base, session, images.flash_form, base_version)
    if session.reset_command:
        try:
            await asyncio.to_thread(run_reset_command, session, images.base)
        except RigError as exc:
            raise KnownStartError(f"known start: {exc}") from None
    mark = len(tl)
    await asyncio.to_thread(session.probe.reset if resets else session.power.on)
    tl.append("known-start", reflashed=reflashed)
    try:
        await session.server.wait_registration(session.endpoint, session.boot_timeout, after=mark)
    except RigError:
        raise KnownStartError(
            f"known start: {session.endpoint} did not register within {session.boot_timeout:g} s after reset; "
            f"last console line: {session.last_console_line()!r}"
        ) from None
    version = await read_version(session)
    if not session.versions.same(version, base_version):
        raise KnownStartError(f"known start: board runs {version!r} (read from {session.versions.describe()}) "
                              f"after {'flashing' if images.flash_form else 'resetting to'} base {base_version}")
    await object5_start(session)
    return version


async def read_object5(session: PlaceSession) -> tuple[int | None, int | None]:
    state = await session.server.read(session.endpoint, object5.STATE_PATH)
    result = await session.server.read(session.endpoint, object5.RESULT_PATH)
    return (state.value if state.ok else None, result.value if result.ok else None)


async def object5_start(session: PlaceSession) -> None:
    """Object 5 must read the target's start state (Idle / 0 unless [known_start] says otherwise); else reset it:
    Write "" to /5/0/1, the target's declared reset Execute, a power cycle, in that order."""
    want = session.start
    state, result = await read_object5(session)
    if want.holds(state, result):
        return
    found = object5.describe(state, result)
    steps = [('Write "" to /5/0/1', _write_empty_uri, RESET_SETTLE)]
    if want.reset_execute:
        steps.append((f"Execute {want.reset_execute}", _execute_reset, session.boot_timeout))
    steps.append(("a power cycle", _power_cycle, RESET_SETTLE))
    tried = []
    for what, step, settle in steps:
        await step(session)
        tried.append(what)
        state, result = await _settled(session, settle)
        if want.holds(state, result):
            session.timeline.append("known-start-object5", found=found, reset_by=what, tried=tried)
            return
    session.timeline.append("known-start-object5", found=found, reset_by=None, tried=tried,
                            left=object5.describe(state, result))
    raise KnownStartError(
        f"known start: Object 5 of {session.endpoint} read {found} after the reflash, not {want.describe()}; "
        f"after {', then '.join(tried)} it still reads {object5.describe(state, result)}")


async def _write_empty_uri(session: PlaceSession) -> None:
    await session.server.write(session.endpoint, object5.PACKAGE_URI_PATH, "")


async def _execute_reset(session: PlaceSession) -> None:
    await session.server.execute(session.endpoint, session.start.reset_execute or "")


async def _power_cycle(session: PlaceSession) -> None:
    await asyncio.to_thread(session.power.off)
    await asyncio.sleep(OFF_TIME)
    mark = len(session.timeline)
    await asyncio.to_thread(session.power.on)
    try:
        await session.server.wait_registration(session.endpoint, session.boot_timeout, after=mark)
    except RigError:
        raise KnownStartError(f"known start: after a power cycle (to reset Object 5) {session.endpoint} did not "
                              f"register within {session.boot_timeout:g} s; last console line: "
                              f"{session.last_console_line()!r}") from None


async def _settled(session: PlaceSession, within: float) -> tuple[int | None, int | None]:
    """State and Update Result once they reach the start state, or as they read after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        registered = session.server.registry.table.by_name(session.endpoint) is not None
        state, result = await read_object5(session) if registered else (None, None)
        if session.start.holds(state, result) or loop.time() >= deadline:
            return state, result
        await asyncio.sleep(POLL)  # polling a remote value with a deadline: no notification is set up yet

