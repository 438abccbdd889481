"""Every rule id a case's verdict can name, with one line saying what the device (or the rig) did.

A fail carries the id of the rule the device broke (report.json, junit.xml,
the history); people and CI read the id, so its meaning is written here once
and report.html's legend shows it for the rules a run met. The oracle keeps
its own table beside its diagnosis (rig.verdict.oracle_diagnose.RULES); the
others are here. A conformance case names its failed check "<case>:<check>"
(rig.conformance.context); the check words are CONFORMANCE_CHECKS.
tests/test_verdict_rules.py reads every rule id spelled in rig and holds it
against these tables.
"""

from __future__ import annotations

from collections.abc import Iterable

from rig.lwm2m.object5 import RESULT_NAMES
from rig.verdict.oracle_diagnose import RULES as ORACLE_RULES
from rig.verdict.outcome import BRICKED, BRICKED_BY_UPDATE

#: The hard invariants of every target (rig.verdict.invariants, rig.verdict.outcome).
INVARIANT_RULES: dict[str, str] = {
    BRICKED: "after a power cut the board never came back with an intact image to boot",
    BRICKED_BY_UPDATE: "after Execute Update (no cut) the board never registered again",
    "stuck-in-downloading": "the device stayed in Downloading past the target's timeout",
    "stuck-in-updating": "the device stayed in Updating past the target's timeout",
    "image-not-intact": "the primary slot holds no intact image after the case",
    "reported-version-not-in-flash": "the version the device reports is not the one its primary slot holds",
    "unknown-image-runs": "the device runs a version that is neither the old nor the new image",
    "new-image-without-success": "the new image runs but Update Result is not 1 (success)",
    "device-wedged": "after recovery a fresh update did not bring up the new image",
}

#: A good package called bad (rig.verdict.package_rules).
PACKAGE_RULES: dict[str, str] = {
    "good-package-rejected": "Update Result 5 or 6 although every package offered was an intact signed image",
}

#: Last State Change Time, object version 1.1 (rig.verdict.lsct).
LSCT_RULES: dict[str, str] = {
    "lsct-moved-without-state-change": "Last State Change Time changed while State did not",
    "lsct-not-moved-with-state": "State changed but Last State Change Time did not",
    "lsct-decreased": "Last State Change Time went back",
    "lsct-implausible": "Last State Change Time lies outside the interval the change happened in",
}

#: Deferred updates, Update Result 11 (rig.verdict.deferral).
DEFERRAL_RULES: dict[str, str] = {
    "deferred-without-period": "an update was deferred (11) while the Maximum Defer Period was 0",
    "deferral-overdue": "still deferred after the Maximum Defer Period (or the reboot after it) ended",
}

#: What the case wrapper itself establishes (rig.run.case, and the cut-plan body rig.campaign.case).
CASE_RULES: dict[str, str] = {
    "update-failed": "an update without any fault did not end with the new image registered",
    "case-error": "the rig could not carry out the case (the part and reason follow)",
    "cut-not-reached": "the plan's power cut never came (the update ended before it)",
}

#: Every rule a cut case, the baseline or the whole-timeline checks can name.
RULES: dict[str, str] = {**ORACLE_RULES, **INVARIANT_RULES, **PACKAGE_RULES, **LSCT_RULES, **DEFERRAL_RULES,
                         **CASE_RULES}

# A bad package or URI ends the download in Idle with one of these (8: a failed install, its own check).
_BAD_PACKAGE_RESULTS = (2, 3, 4, 5, 6, 7, 9)

#: The checks of the numbered conformance cases (rig.conformance.*): "<case>:<check>" in a report.
CONFORMANCE_CHECKS: dict[str, str] = {
    "bootstraps": "the device sent a Bootstrap-Request to the rig",
    **{f"bootstrap-{step}": f"the bootstrap {step} was answered as LwM2M requires"
       for step in ("delete", "write", "finish")},
    "registers-after-bootstrap": "after Bootstrap-Finish the device registered with the account it was given",
    "cancel-in-downloading": "Cancel in Downloading succeeded",
    "cancel-in-downloaded": "Cancel in Downloaded succeeded",
    "cancel-in-idle": "Cancel in Idle answered 4.05",
    "cancel-in-updating": "Cancel right after Execute Update answered 4.05",
    "cancelled-10": "after Cancel the device was Idle / 10 (cancelled)",
    "stays-cancelled": "a cancelled download stayed Idle / 10",
    "cut-in-download": "the power cut landed in Downloading",
    "resumed": "after the cut the download resumed past its start",
    "deferred-11": "Execute Update with a deferral gave Downloaded / 11",
    "deferral-survives-cut": "a deferred update was still Downloaded / 11 after a power cut",
    "installs-by-itself": "a deferred update installed itself when its period ran out",
    "not-deferred": "Execute Update was not deferred when the Maximum Defer Period was 0",
    "setup": "a setting the case needs was written (2.04)",
    "download-completes": "the download reached Downloaded",
    "downloaded": "the package download reached Downloaded",
    "downloading": "the download reached Downloading (block 1) in time",
    "execute-accepted": "Execute Update in Downloaded was accepted",
    "execute-in-downloading": "Execute Update in Downloading answered 4.05",
    "execute-in-idle": "Execute Update in Idle answered 4.05",
    "unchanged-downloading": "a refused request left the device in Downloading",
    "unchanged-idle": "a refused request left the device Idle / 0",
    "held-until-awake": "a request to a sleeping queue-mode device was delivered once it woke",
    "observe-survives-sleep": "notifications of an observation came across a queue-mode sleep",
    "sleeps": "the queue-mode device went to sleep (stopped answering) as its binding says",
    "initial-values": "a fresh device reads Idle / 0",
    "instance-consistent": "a resource read alone gives what the read of /5/0 gave",
    "mandatory-readable": "every mandatory readable resource answered a Read",
    "multiple-instance": "a multiple-instance resource reads as instances",
    "read-instance": "a Read of /5/0 succeeded",
    "type-range": "a resource's value has its declared type and range",
    "value-present": "a successful Read carried a value",
    "write-only-package": "a Read of Package (write-only) answered 4.05",
    "lsct-readable": "Last State Change Time was read as a Time",
    "new-version": "after the update the device ran the new version",
    "old-version": "after a failed install the device ran the old version",
    "reregistered": "after Execute Update the device registered again",
    "success-result": "after the update the device was Idle / 1 (success)",
    "state-notified": "State changes were notified to the observer",
    "update-completes": "the update ended with the new version, Idle / 1",
    "result-8": "a failed install ended with Update Result 8",
    **{f"result-{n}": f"a bad package ended Idle / {n} ({RESULT_NAMES[n]})" for n in _BAD_PACKAGE_RESULTS},
    "not-found-7": "a package URI that is not found gave Idle / 7",
    "unsupported-9": "a package URI of an unsupported scheme gave Idle / 9",
    "reset-accepted": "a reset write (empty Package URI or Package) was accepted",
    "reset-to-idle": "a reset in Downloaded gave Idle / 0",
    "uri-cleared": "a reset cleared Package URI",
    "severity-default": "Severity reads its default",
    "severity-write": "Severity takes a legal value and reads it back",
    "severity-bad-value": "Severity refuses an illegal value with 4.00 and keeps its value",
    "maximum-defer-period-write": "Maximum Defer Period takes a legal value and reads it back",
    "maximum-defer-period-bad-value": "Maximum Defer Period refuses an illegal value with 4.00 and keeps its value",
    "period-unsigned": "Maximum Defer Period reads as an unsigned integer",
}


def describe(rule: str) -> str | None:
    """The one line for a rule id (a conformance "<case>:<check>" included); None for an id no table lists."""
    if rule in RULES:
        return RULES[rule]
    case, sep, check = rule.rpartition(":")
    if sep and check in CONFORMANCE_CHECKS:
        return f"{CONFORMANCE_CHECKS[check]} (conformance case {case})"
    return None


def legend(rules: Iterable[str]) -> dict[str, str]:
    """The rules given, each once in first-seen order, with their lines (an unlisted id says so)."""
    return {rule: describe(rule) or "(not in rig.verdict.rules)" for rule in dict.fromkeys(rules)}
