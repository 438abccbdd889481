"""The hard invariants of docs/object5.md ("Power loss"), checked on every target and profile."""

from __future__ import annotations

from rig.verdict import versions
from rig.verdict.facts import CaseFacts
from rig.results import Violation
from rig.verdict.outcome import BRICKED, BRICKED_BY_UPDATE


def check_invariants(f: CaseFacts, boot_timeout: float, last_console: str | None) -> list[Violation]:
    out: list[Violation] = []
    if f.came_back is False:
        after = f"the cut ({f.cut_phase.capitalize()})" if f.cut_phase else "Execute Update"
        again = " (power cycled once more)" if f.cut_phase else ""
        out.append(Violation(
            BRICKED if f.cut_phase else BRICKED_BY_UPDATE,
            f"after {after} the device did not register again within {boot_timeout:g} s{again}; "
            f"last console line: {last_console!r}",
        ))
        return out
    if f.stuck_in:
        out.append(Violation(f"stuck-in-{f.stuck_in}", f"the device stayed in {f.stuck_in.capitalize()} past the target's timeout"))
    if f.flash_state is not None and f.flash_state != "intact":
        out.append(Violation("image-not-intact", f"primary slot is {f.flash_state}: {f.flash_problem or 'no detail'}"))
    elif f.final_version is not None and f.flash_version is not None and not versions.same(f.final_version, f.flash_version):
        out.append(Violation(  # the header's version is numbers: compared as numbers whatever the target's rule
            "reported-version-not-in-flash",
            f"the device reports {f.final_version} but the primary slot holds {f.flash_version}",
        ))

    def same(a: str | None, b: str | None) -> bool:
        return versions.same(a, b, f.version_compare)

    if f.final_version is not None and not (same(f.final_version, f.base_version) or same(f.final_version, f.new_version)):
        out.append(Violation("unknown-image-runs", f"runs {f.final_version}, neither the old {f.base_version} nor the new {f.new_version}"))
    if same(f.final_version, f.new_version) and f.final_state == 0 and f.final_result not in (None, 1):
        out.append(Violation(
            "new-image-without-success",
            f"the new image {f.new_version} runs but Update Result is {f.final_result}, not 1 (success)",
        ))
    if f.fresh_update_ok is False:
        out.append(Violation("device-wedged", "a fresh update attempt after recovery did not bring up the new image"))
    return out
