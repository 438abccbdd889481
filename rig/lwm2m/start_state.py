"""What Object 5 must read at a known start, and how this target is brought back there ([known_start] table).

After a reflash and a reset most clients register Idle / 0. A client that comes
back in Downloading (it resumes a download the rig no longer serves) or with a
stale Update Result would carry the previous case into the next one, and the
rig would blame the device for what the previous case left. So the known start
checks Object 5 and resets it; a target may declare a different start (some
keep their last Update Result across a reflash) and an extra reset step:

    [known_start]
    object5_state = 0          # State after reflash + reset (default 0, Idle)
    object5_result = 0         # Update Result then (default 0); "any" accepts whatever it reports
    object5_reset = "/3/0/5"   # optional: an Execute that resets the client (e.g. Factory Reset)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rig.errors import RigError
from rig.lwm2m import object5


@dataclass(frozen=True)
class StartState:
    state: int = 0
    result: int | None = 0  # None: any Update Result is a clean start
    reset_execute: str | None = None

    def holds(self, state: int | None, result: int | None) -> bool:
        return state == self.state and (self.result is None or result == self.result)

    def describe(self) -> str:
        return object5.describe(self.state, self.result) if self.result is not None else \
            f"{object5.state_label(self.state)} / any result"

    @classmethod
    def from_target(cls, data: dict[str, Any], source: str) -> "StartState":
        table = data.get("known_start", {})
        if not isinstance(table, dict):
            raise RigError(f"{source}: [known_start] must be a table (object5_state, object5_result, object5_reset)")
        known = {"object5_state", "object5_result", "object5_reset"}
        for key in table:
            if key not in known:
                raise RigError(f"{source}: known_start.{key}: unknown key; known: {', '.join(sorted(known))}")
        state = table.get("object5_state", 0)
        if isinstance(state, bool) or state not in (0, 1, 2, 3):
            raise RigError(f"{source}: known_start.object5_state: must be a State 0..3, got {state!r}")
        result = table.get("object5_result", 0)
        if result == "any":
            result = None
        elif isinstance(result, bool) or not isinstance(result, int) or not 0 <= result <= 11:
            raise RigError(f"{source}: known_start.object5_result: must be an Update Result 0..11 or \"any\", "
                           f"got {result!r}")
        reset = table.get("object5_reset")
        if reset is not None and (not isinstance(reset, str) or not reset.startswith("/")
                                  or len(reset.strip("/").split("/")) != 3):
            raise RigError(f"{source}: known_start.object5_reset: must be a resource path to Execute, like \"/3/0/5\", "
                           f"got {reset!r}")
        return cls(state, result, reset)
