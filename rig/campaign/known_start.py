"""Known start for every case: base image in primary, the rest erased, powered, registered.

A case must not inherit the previous case's half-finished swap or stored
package; and a board that bricked is re-flashed here, so one bad case does not
end the night.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from rig.campaign.session import PlaceSession
from rig.errors import RigError

SCRUB = ("secondary", "scratch", "settings")


def _program_base(session: PlaceSession, base_image: Path, base_version: str) -> bool:
    """Blocking (probe calls): returns True when the primary slot had to be re-flashed."""
    layout = session.layout
    session.probe.halt()
    primary = session.slot_image("primary")
    reflashed = False
    if not primary.intact or primary.version != base_version:
        part = layout.partition("primary")
        session.probe.erase(layout.base + part.offset, part.size)
        session.probe.program(base_image, layout.base + part.offset)
        reflashed = True
    for name in SCRUB:
        if name in layout.partitions:
            part = layout.partitions[name]
            session.probe.erase(layout.base + part.offset, part.size)
    return reflashed


async def known_start(session: PlaceSession, base_image: Path, base_version: str) -> str:
    """Returns the version the board registered with (read from /3/0/3)."""
    tl = session.timeline
    tl.append("phase", name="known-start")
    resets = getattr(session.probe, "resets_target", True)
    # A file probe (host-process target) programs the "flash" with the process stopped, and a power-on is its reset.
    await asyncio.to_thread(session.power.on if resets else session.power.off)
    reflashed = await asyncio.to_thread(_program_base, session, base_image, base_version)
    mark = len(tl)
    await asyncio.to_thread(session.probe.reset if resets else session.power.on)
    tl.append("known-start", reflashed=reflashed)
    try:
        await session.server.wait_registration(session.endpoint, session.boot_timeout, after=mark)
    except RigError:
        raise RigError(
            f"known start: {session.endpoint} did not register within {session.boot_timeout:g} s after reset; "
            f"last console line: {session.last_console_line()!r}"
        ) from None
    version = await read_version(session)
    if version is None or not base_version.startswith(version.split("+")[0]):
        raise RigError(f"known start: board runs {version!r} after flashing base {base_version}")
    return version


async def read_version(session: PlaceSession) -> str | None:
    response = await session.server.read(session.endpoint, "/3/0/3")
    return str(response.value) if response.ok and response.value is not None else None
