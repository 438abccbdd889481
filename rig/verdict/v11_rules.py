"""The Object 5 v1.1 rules every case is judged by besides the oracle: Last State Change Time and deferral.

Both read only the case's timeline, so `rig run` (rig.verdict.judge) and the
conformance cases (rig.conformance.steps.oracle) apply them to every target; on a
1.0 device, or one that is never read /5/0/12 or deferred, they find nothing to judge.
"""

from __future__ import annotations

from rig.lwm2m.profile import Profile
from rig.results import Violation
from rig.timeline import Event
from rig.verdict.deferral import check_deferral
from rig.verdict.lsct import check_lsct


def check_v11_rules(events: list[Event], endpoint: str, profile: Profile) -> list[Violation]:
    return check_lsct(events, endpoint, profile) + check_deferral(events, endpoint, profile)
