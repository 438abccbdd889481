"""How the target's device is deployed: queue mode and its awake time, bootstrap first ([lwm2m] keys).

    [lwm2m]
    queue_mode = true        # it registers in queue mode (Q / b=UQ): reachable only after it sends
    awake_time = 20.0        # s it listens after each message it sends (default: MAX_TRANSMIT_WAIT
                             # of the [coap] parameters, 93 s with RFC 7252's, as LwM2M recommends)
    bootstrap = true         # it asks a bootstrap server for its server account before registering

The rig's server holds requests for a queue-mode endpoint until it is awake for
`awake_time` after each message it hears; whether an endpoint is in queue mode
is what its registration says (`queue_mode` here is what the target file
expects, and what the conformance cases that need it check). A `bootstrap`
target is given the rig's bootstrap server: the place's session starts one and
the device gets the rig's LwM2M server through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from rig.errors import RigError
from rig.lwm2m.transmission import CoapTiming

KEYS = ("queue_mode", "awake_time", "bootstrap")


@dataclass(frozen=True)
class DeviceModes:
    queue_mode: bool = False
    awake_time: float | None = None  # None: the target's MAX_TRANSMIT_WAIT
    bootstrap: bool = False

    def awake(self, timing: CoapTiming) -> float:
        """The awake time the server assumes for this device."""
        return timing.max_transmit_wait if self.awake_time is None else self.awake_time

    @classmethod
    def from_target(cls, data: Mapping[str, Any], source: str) -> "DeviceModes":
        """The [lwm2m] table's queue_mode / awake_time / bootstrap; errors name the file and the key."""
        table = data.get("lwm2m", {})
        if not isinstance(table, Mapping):
            return cls()  # rig.lwm2m.profile says what is wrong with the table itself
        values: dict[str, Any] = {}
        for key in ("queue_mode", "bootstrap"):
            if key in table:
                if not isinstance(table[key], bool):
                    raise RigError(f"{source}: lwm2m.{key} must be true or false, not {table[key]!r}")
                values[key] = table[key]
        if "awake_time" in table:
            awake = table["awake_time"]
            if isinstance(awake, bool) or not isinstance(awake, (int, float)) or awake <= 0:
                raise RigError(f"{source}: lwm2m.awake_time must be a number of seconds > 0, got {awake!r}")
            if not values.get("queue_mode"):
                raise RigError(f"{source}: lwm2m.awake_time is queue mode's awake time: set lwm2m.queue_mode = true")
            values["awake_time"] = float(awake)
        return cls(**values)
