"""Steps the Object 5 v1.1 cases share: /5/0 read as one sample, single-resource writes, making the device defer.

A Read of the whole instance returns State, Update Result and Last State Change Time
from one moment, which is what the general rule on that resource (rig.verdict.lsct)
needs; every such read lands in the timeline like any other request.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from rig.place.session import PlaceSession
from rig.errors import RigError
from rig.verdict.lsct import WALL_CLOCK

SEVERITY, LSCT, PERIOD = 11, 12, 13
DEFAULT_SEVERITY = 1  # the XML: "Default value is 1"


@dataclass(frozen=True)
class Instance:
    """What one Read of /5/0 said (None: not in the answer)."""

    code: str
    state: int | None = None
    result: int | None = None
    lsct: int | None = None
    severity: int | None = None
    period: int | None = None


async def read_instance(session: PlaceSession) -> Instance:
    response = await session.server.read(session.endpoint, "/5/0")
    if not response.ok:
        return Instance(response.code_text)
    v = {path[2]: value for path, value in response.values.items() if len(path) == 3}
    return Instance(response.code_text, v.get(3), v.get(5), v.get(LSCT), v.get(SEVERITY), v.get(PERIOD))


async def read_value(session: PlaceSession, rid: int) -> Any:
    response = await session.server.read(session.endpoint, f"/5/0/{rid}")
    return response.value if response.ok else f"({response.code_text})"


async def write(session: PlaceSession, rid: int, value: int) -> str:
    """Write one /5/0 resource as text; the answer code. Sent as written, so an out-of-range value goes out too."""
    return (await session.server.write_text(session.endpoint, f"/5/0/{rid}", str(value))).code_text


def wall_anchor(session: PlaceSession) -> None:
    """Tie the timeline's clock to the wall clock, so a real-time Last State Change Time can be checked."""
    session.timeline.append(WALL_CLOCK, wall=time.time())


async def make_defer(session: PlaceSession) -> None:
    """Do what the target file says makes this device defer the next Execute Update."""
    how = session.profile.deferral
    if how.how == "resource-write":
        response = await session.server.write(session.endpoint, str(how.path), how.value)
        if not response.ok:
            raise RigError(f"the target file says {how.describe()} makes the device defer, but the Write answered "
                           f"{response.code_text}")
    elif how.how == "console":
        await _type(session, str(how.command))
    else:
        raise RigError(f"this device cannot be made to defer: {how.describe()}")


async def undo_defer(session: PlaceSession) -> None:
    """Put the device back (lwm2m.deferral.undo), when the target file says how."""
    how = session.profile.deferral
    if how.undo is None:
        return
    if how.how == "console":
        await _type(session, str(how.undo))
    elif how.how == "resource-write" and session.server.registry.table.by_name(session.endpoint) is not None:
        await session.server.write(session.endpoint, str(how.path), how.undo)


async def _type(session: PlaceSession, line: str) -> None:
    if session.console is None:
        raise RigError(f"the target file says typing {line!r} on the console makes the device defer, "
                       "but this place has no console")
    session.timeline.append("console-input", endpoint=session.endpoint, line=line)
    await asyncio.to_thread(session.console.write, line + "\n")
