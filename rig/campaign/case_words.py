"""A case's message in words, as a nightly CI reader sees it first: what was cut, where the device ended, why.

"cut at flash operation 40 (Updating): after the cut the device did not register
again; [bricked-after-cut] ...; flash: primary: 1.1.0 hash mismatch, secondary:
1.0.0 intact, ..." rather than "registered as None with State None".
"""

from __future__ import annotations

from rig.verdict.facts import CaseFacts
from rig.campaign.flash_evidence import FlashEvidence
from rig.faults import FaultPlan
from rig.lwm2m import object5
from rig.verdict.outcome import Decision


def end_state(facts: CaseFacts) -> str:
    """Where the device ended, in words: never 'None'."""
    if facts.came_back is False:
        after = "the cut" if facts.cut_phase else "Execute Update"
        return f"after {after} the device did not register again"
    if facts.final_version is None and facts.final_state is None:
        return "the device was not registered at the end (no final reading)"
    version = f"running {facts.final_version}" if facts.final_version else "not answering /3/0/3 (firmware version)"
    return f"at the end the device was {version} with {object5.describe(facts.final_state, facts.final_result)}"


def case_message(plan: FaultPlan, facts: CaseFacts, blocks_total: int | None, decision: Decision,
                 evidence: FlashEvidence | None) -> str:
    phase = f" ({facts.cut_phase.capitalize()})" if facts.cut_phase else ""
    head = f"{plan.describe(blocks_total)}{phase}: "
    if facts.came_back is False and decision.outcome != "pass":
        text = head + decision.reason  # the reason says it did not come back, and how long the rig waited
    else:
        text = head + end_state(facts) + (f"; {decision.reason}" if decision.outcome != "pass" else "")
        if decision.outcome == "pass" and facts.notes:
            text += f" ({'; '.join(facts.notes)})"
    if evidence is not None and evidence.words not in text:
        text += f"; flash: {evidence.words}"
    if evidence is not None and facts.came_back is False and evidence.report.next_boot.resume:
        text += " -- the board never booted again, so its bootloader did not resume that swap"
    return text
