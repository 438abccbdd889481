"""Verdict of one case: the sampled-sequence oracle over the timeline plus the hard invariants."""

from __future__ import annotations

from rig.verdict.facts import CaseFacts
from rig.verdict.oracle import check_all
from rig.lwm2m.profile import Profile
from rig.results import Violation
from rig.timeline import Event
from rig.version_rule import VersionRule
from rig.verdict.invariants import check_invariants
from rig.verdict.items import timeline_to_items
from rig.verdict.package_rules import check_good_package_results
from rig.verdict.v11_rules import check_v11_rules


def judge(
    events: list[Event],
    endpoint: str,
    profile: Profile,
    facts: CaseFacts,
    boot_timeout: float,
    object_version: str | None,
    image_versions: dict[str, str],
    last_console: str | None,
    version_rule: VersionRule | None = None,
) -> list[Violation]:
    items = timeline_to_items(events, endpoint, image_versions, version_rule)
    found = [Violation(v.rule, v.detail) for v in check_all(items, profile, object_version, initial=None)]
    found.extend(check_invariants(facts, boot_timeout, last_console))
    found.extend(check_good_package_results(events, endpoint, set(image_versions)))
    found.extend(check_v11_rules(events, endpoint, profile))
    return found
