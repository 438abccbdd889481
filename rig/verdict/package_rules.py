"""A good package must never be called bad: Update Result 5 or 6 for an image the rig knows is intact.

The rig signs and serves the images itself, so when every package it handed the
device in a case was one of its known-good images, an integrity failure (5) or
"unsupported package type" (6) can only come from the device: a resumed download
that restarted in the wrong place, a trailer written before the data, a stored
image damaged by a cut. This holds for every target, whatever its profile.
"""

from __future__ import annotations

from rig.lwm2m import events as lwm2m
from rig.lwm2m.object5 import RESULT_NAMES, UpdateResult
from rig.results import Violation
from rig.timeline import Event

CORRUPT_RESULTS = {int(r): RESULT_NAMES[r] for r in (UpdateResult.INTEGRITY_FAILURE, UpdateResult.UNSUPPORTED_PACKAGE_TYPE)}


def check_good_package_results(events: list[Event], endpoint: str, good_files: set[str]) -> list[Violation]:
    offered: list[str] = []
    for event in events:
        d = event.data
        if d.get("endpoint") != endpoint:
            continue
        if event.kind == "package":
            offered.append(str(d.get("file")))
            continue
        result = lwm2m.result(event)
        if result in CORRUPT_RESULTS and offered and all(name in good_files for name in offered):
            return [Violation(
                "good-package-rejected",
                f"Update Result {result} ({CORRUPT_RESULTS[result]}) at t={event.t:.3f} although the only "
                f"package(s) offered, {', '.join(sorted(set(offered)))}, are intact signed images",
            )]
    return []
