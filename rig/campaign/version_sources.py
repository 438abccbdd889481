"""Read the version a device runs from where its target file says (rig.version_rule): a resource, the console,
the flash. The first source that gives a value wins; what was read, and from where, goes into the timeline
as a "version" event, so the verdict (rig.verdict.items) knows which version each registration ran.
"""

from __future__ import annotations

import asyncio
import re

from rig.place.session import PlaceSession
from rig.errors import RigError


async def _resource(session: PlaceSession, path: str) -> str | None:
    response = await session.server.read(session.endpoint, path)
    if not response.ok or response.value is None or str(response.value).strip() == "":
        return None
    return str(response.value).strip()


def _console(session: PlaceSession, pattern: str) -> str | None:
    """The last console line that matches: the banner of the latest boot (earlier boots printed earlier)."""
    if session.console is None:
        return None
    regex = re.compile(pattern)
    for line in reversed(session.console.lines()):
        found = regex.search(line.text)
        if found:
            if "version" in regex.groupindex:
                return found.group("version")
            return found.group(1) if regex.groups else found.group(0)
    return None


def _flash(session: PlaceSession) -> str | None:
    if session.probe is None or not session.mcuboot_flash:
        return None
    image = session.slot_image("primary")
    if not image.intact or image.version is None:
        return None
    return image.version.removesuffix("+0")  # as MCUboot logs it ("Image version: v1.2.3"): a build 0 is no build


async def read_version(session: PlaceSession) -> str | None:
    """The running version from the target's sources in order (None: none of them gave one)."""
    for source in session.versions.sources:
        try:
            if source.startswith("/"):
                version = await _resource(session, source)
            elif source.startswith("console:"):
                version = _console(session, source[len("console:"):])
            else:
                version = await asyncio.to_thread(_flash, session)
        except RigError:
            version = None  # a source that cannot answer now (probe busy, console gone): try the next
        if version is not None:
            session.timeline.append("version", endpoint=session.endpoint, version=version, source=source)
            return version
    return None
