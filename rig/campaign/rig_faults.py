"""Which part of the rig an exception came from, so an "error" outcome names it (power, probe, console, ...).

A RigError in a case is the rig's own failure, never the device's: the outcome
says "error", and a reader of the nightly report must see at once whether the
relay, the probe or the known start gave up.
"""

from __future__ import annotations

from rig.campaign.known_start import KnownStartError
from rig.console.base import ConsoleError
from rig.errors import RigError
from rig.power.base import PowerError
from rig.probe.base import ProbeError
from rig.verdict.outcome import RigFault

PARTS: tuple[tuple[type[RigError], str], ...] = (
    (PowerError, "power"), (ProbeError, "probe"), (ConsoleError, "console"), (KnownStartError, "known-start"),
)


def fault_of(exc: RigError) -> RigFault:
    for kind, part in PARTS:
        if isinstance(exc, kind):
            return RigFault(part, str(exc))
    return RigFault("rig", str(exc))
