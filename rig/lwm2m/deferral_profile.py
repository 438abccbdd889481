"""Whether a device can be made to defer an update, and how: the [lwm2m.deferral] table of a target file.

Object 5 v1.1 lets a device defer Execute Update (State stays Downloaded, Update Result
11) when its user says "later"; what makes it say so is the device's own business (a
button, a busy vehicle, a Severity it treats as optional). The rig cannot guess it, so
the target file says it:

    [lwm2m.deferral]
    how = "resource-write"   # resource-write | console | none (the default: deferral cases skip)
    path = "/5/0/11"         # resource-write: the resource the rig writes before Execute ...
    value = 2                # ... and the value (here: Severity optional)
    undo = 1                 # optional: written back after the case
    command = "fw later"     # console: the line the rig types on the console before Execute
    margin = 3.0             # seconds after the Maximum Defer Period within which the device must start installing

`margin` also bounds the general rule that a deferred update ends (rig.verdict.deferral).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from rig.errors import RigError

HOWS = ("resource-write", "console", "none")
DEFAULT_MARGIN = 10.0
_KEYS = ("how", "path", "value", "undo", "command", "margin")


@dataclass(frozen=True)
class DeferralProfile:
    """how: "resource-write" (write `value` to `path`), "console" (type `command`) or "none";
    undo: what puts the device back (a value for `path`, or a console line); margin: seconds."""

    how: str = "none"
    path: str | None = None
    value: int | str | None = None
    command: str | None = None
    undo: int | str | None = None
    margin: float = DEFAULT_MARGIN

    @property
    def supported(self) -> bool:
        return self.how != "none"

    def describe(self) -> str:
        if self.how == "resource-write":
            return f"writing {self.value!r} to {self.path}"
        if self.how == "console":
            return f"typing {self.command!r} on the console"
        return "nothing (the target file says it cannot be made to defer: lwm2m.deferral.how = \"none\")"

    @classmethod
    def from_table(cls, table: Any, source: str) -> "DeferralProfile":
        """Parse lwm2m.deferral; errors name `source` and the key."""
        where = f"{source}: lwm2m.deferral"
        if not isinstance(table, Mapping):
            raise RigError(f"{where} must be a table, e.g. {{ how = \"none\" }}, not {table!r}")
        for key in table:
            if key not in _KEYS:
                raise RigError(f"{where}.{key}: unknown key; known keys: {', '.join(_KEYS)}")
        how = table.get("how", "none")
        if how not in HOWS:
            raise RigError(f"{where}.how: must be one of {', '.join(HOWS)}, got {how!r}")
        margin = table.get("margin", DEFAULT_MARGIN)
        if isinstance(margin, bool) or not isinstance(margin, (int, float)) or margin < 0:
            raise RigError(f"{where}.margin: must be seconds >= 0, got {margin!r}")
        path, value, command, undo = (table.get(k) for k in ("path", "value", "command", "undo"))
        if how == "resource-write":
            if not isinstance(path, str) or len([p for p in path.split("/") if p]) != 3:
                raise RigError(f"{where}.path: must be a resource path like \"/5/0/11\", got {path!r}")
            for key, v in (("value", value), ("undo", undo)):
                if (v is not None or key == "value") and (isinstance(v, bool) or not isinstance(v, (int, str))):
                    raise RigError(f"{where}.{key}: must be an integer or a string to write to {path}, got {v!r}")
        if how == "console":
            for key, v in (("command", command), ("undo", undo)):
                if (v is not None or key == "command") and (not isinstance(v, str) or not v.strip()):
                    raise RigError(f"{where}.{key}: must be a console line (a non-empty string), got {v!r}")
        return cls(how, path, value, command, undo, float(margin))
