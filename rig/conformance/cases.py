"""The conformance case list, in the order of the LwM2M 1.0 enabler test numbering, Cancel and resume last.

needs: "push"/"pull" (the device's Delivery Method and Protocol Support), "mode" (the run's
mode, whichever it is), "object5-1.1", "severity"/"lsct"/"defer-period" (the optional 1.1
resource is there), "deferral" (the target file says how to make the device defer), "queue-mode" (the device
registered in queue mode), "bootstrap" (it bootstraps through the rig's bootstrap server),
"resumes_download"/"persists_state" (the target's profile) and "negative:NAME" (a bad
package of that name was made for the target).
"""

from __future__ import annotations

from rig.conformance import cancel, download_errors, install_failure, reads, resets, resume, updates
from rig.conformance import bootstrap, deferral, deferral_cut, lsct, queue_mode, v11_settings
from rig.campaign.suite import select
from rig.conformance.context import ConformanceCase


def _case(id: str, slug: str, title: str, needs: set[str], run) -> ConformanceCase:
    return ConformanceCase(id, title, frozenset(needs), run, slug)


CASES: list[ConformanceCase] = [
    _case("751", "read-resources", "Read the readable resources: types and ranges", set(), reads.case_751),
    _case("755", "package-reset", "Write Package, then reset with a NUL byte", {"push"}, resets.case_755),
    _case("756", "uri-reset", "Write Package URI, then reset with an empty URI", {"pull"}, resets.case_756),
    _case("760", "observe-state", "Observe State during an update", {"mode"}, updates.case_760),
    _case("770", "push-update", "Push update end to end", {"push"}, updates.case_770),
    _case("770", "push-update-queue-mode", "Push update started while the device sleeps (queue mode)",
          {"push", "queue-mode"}, queue_mode.case_770_queue),
    _case("771", "pull-update", "Pull update end to end", {"pull"}, updates.case_771),
    _case("771", "pull-update-queue-mode", "Pull update started while the device sleeps (queue mode)",
          {"pull", "queue-mode"}, queue_mode.case_771_queue),
    _case("772", "execute-outside-downloaded", "Execute Update outside Downloaded gives 4.05", {"mode"},
          updates.case_772),
    _case("773", "not-enough-storage", "A package larger than the client stores gives result 2",
          {"mode", "negative:too-large"}, download_errors.case_773),
    _case("774", "out-of-memory", "Running out of RAM gives result 3",
          {"mode", "negative:out-of-memory"}, download_errors.case_774),
    _case("775", "connection-lost", "The server stops serving mid-pull: result 4", {"pull"}, download_errors.case_775),
    _case("776", "integrity", "A corrupt or truncated package gives result 5",
          {"mode", "negative:corrupt"}, download_errors.case_776),
    _case("777", "package-type", "A package of the wrong type gives result 6",
          {"mode", "negative:wrong-type"}, download_errors.case_777),
    _case("778", "invalid-uri", "A missing package gives 7, an unsupported scheme 9", {"pull"}, download_errors.case_778),
    # never-confirm first: on a board that never reverts it fails in a second, crash-on-boot only after timeouts
    _case("779", "never-confirm", "An image that never confirms: result 8 and the old version after a reset",
          {"mode", "negative:never-confirm"}, install_failure.failed_install("never-confirm")),
    _case("779", "crash-on-boot", "An image that crashes on boot: result 8 and the old version",
          {"mode", "negative:crash-on-boot"}, install_failure.failed_install("crash-on-boot")),
    _case("779", "wrong-key", "An image signed with a key the bootloader does not trust: result 8 and the old version",
          {"mode", "negative:wrong-key", "signature-check"}, install_failure.failed_install("wrong-key")),
    _case("779", "downgrade", "A lower version, with downgrade prevention: result 8 and the old version",
          {"mode", "negative:downgrade", "signature-check"}, install_failure.failed_install("downgrade")),
    _case("cancel", "idle", "Cancel in Idle gives 4.05", {"object5-1.1"}, cancel.case_cancel_idle),
    _case("cancel", "downloading", "Cancel in Downloading: Idle / 10", {"object5-1.1", "mode"},
          cancel.case_cancel_downloading),
    _case("cancel", "downloaded", "Cancel in Downloaded: Idle / 10", {"object5-1.1", "mode"},
          cancel.case_cancel_downloaded),
    _case("cancel", "updating", "Cancel in Updating is refused", {"object5-1.1", "mode"}, cancel.case_cancel_updating),
    _case("v11", "severity-defer-period", "Severity and Maximum Defer Period: defaults, writes, bad values refused",
          {"severity", "defer-period"}, v11_settings.case_settings),
    _case("defer", "execute", "A deferred Execute gives Downloaded / 11, then the device installs by itself in time",
          {"deferral", "mode"}, deferral.case_defer_execute),
    _case("defer", "critical", "A critical update (Severity 0) is never deferred", {"deferral", "severity", "mode"},
          deferral.case_defer_critical),
    _case("defer", "period-zero", "Maximum Defer Period 0: no deferral at all", {"deferral", "mode"},
          deferral.case_defer_period_zero),
    _case("defer", "after-cut", "A power cut while deferred: the deferral and its deadline survive",
          {"deferral", "mode", "persists_state"}, deferral_cut.case_defer_after_cut),
    _case("lsct", "state-changes", "Last State Change Time moves with State changes and only with them",
          {"lsct", "mode"}, lsct.case_lsct),
    _case("resume", "after-cut", "A pull cut by a power loss resumes after boot", {"pull", "resumes_download"},
          resume.case_resume),
    _case("bootstrap", "then-update", "Bootstrap through the rig's bootstrap server, then an update",
          {"bootstrap", "mode"}, bootstrap.case_bootstrap_update),
]


def select_cases(cases: list[ConformanceCase], keyword: str | None) -> list[ConformanceCase]:
    """pytest-style -k on the case name, as for cut plans."""
    return select(cases, keyword)
