"""Legal sampled sequences the Object 5 oracle must accept (one row per behaviour).

Every row can fail: besides "the oracle accepts it", each row's last observation is
checked to be constrained (some other pair at that position is rejected), so no row
passes because the oracle accepts everything there.
"""

from __future__ import annotations

from typing import Callable

import pytest

from rig.verdict.oracle import check, check_all
from rig.verdict.oracle_items import (
    Cancel,
    DownloadFault,
    ExecuteUpdate,
    Observation,
    PowerCut,
    PowerOn,
    PushCompleted,
    PushStarted,
    Reboot,
    Registration,
    WritePackageReset,
    WriteUri,
)
from rig.lwm2m.profile import Profile

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

I, DL, DD, UP = 0, 1, 2, 3
Step = Callable[[float], object]


def o(state: int | None, result: int | None, lsct: float | None = None) -> Step:
    return lambda t: Observation(t, state, result, last_state_change_time=lsct)


def uri(kind: str = "valid", code: str | None = "2.04", v: str | None = "2.0", fault: str | None = None, done: float | None = None) -> Step:
    return lambda t: WriteUri(t, "coap://127.0.0.1:5683/fw/fw.bin", code, kind, v, fault, None if done is None else t + done)


def reset(code: str | None = "2.04") -> Step:
    return lambda t: WriteUri(t, "", code)


def nul(code: str | None = "2.04") -> Step:
    return lambda t: WritePackageReset(t, code)


def push(v: str | None = "2.0", fault: str | None = None) -> Step:
    return lambda t: PushStarted(t, v, fault)


def pushed(code: str | None = "2.04") -> Step:
    return lambda t: PushCompleted(t, code)


def exe(code: str | None = "2.04", done: float | None = None) -> Step:
    return lambda t: ExecuteUpdate(t, code, None if done is None else t + done)


def cancel(code: str | None = "2.04") -> Step:
    return lambda t: Cancel(t, code)


def cut() -> Step:
    return lambda t: PowerCut(t)


def on() -> Step:
    return lambda t: PowerOn(t)


def reboot() -> Step:
    return lambda t: Reboot(t, "probe reset")


def reg(v: str | None, fresh: bool = True) -> Step:
    return lambda t: Registration(t, v, fresh)


def fault(kind: str) -> Step:
    return lambda t: DownloadFault(t, kind)


def build(steps: list[Step]) -> list:
    return [step(float(t)) for t, step in enumerate(steps)]


DEFAULT = Profile()
ANJAY = Profile(failure_returns_to="downloaded", resumes_download=True, invalid_uri="via-downloading")
ZEPHYR = Profile(reset_in_downloading="ignored", persists_state=False)
RTC = Profile(keeps_real_time=True)
V10 = Profile(object5_version="1.0")

# (id, profile, steps)
LEGAL: list[tuple[str, Profile, list[Step]]] = [
    ("push-every-step-seen", DEFAULT, [o(I, 0), push(), o(DL, 0), pushed(), o(DD, 0), exe(), o(UP, 0), o(I, 1)]),
    ("push-downloading-skipped", DEFAULT, [o(I, 0), push(), pushed(), o(DD, 0)]),
    ("pull-idle-to-downloaded-with-uri", DEFAULT, [o(I, 0), uri(), o(DD, 0)]),
    ("pull-updating-skipped", DEFAULT, [o(I, 0), uri(), o(DD, 0), exe(), o(I, 1)]),
    ("pull-whole-update-one-late-sample", DEFAULT, [o(I, 0), uri(), exe("4.05"), o(DL, 0), o(DD, 0), exe(), o(I, 1)]),
    ("state-only-and-result-only-samples", DEFAULT, [o(I, None), uri(), o(DL, None), o(None, 0), o(DD, None), exe(), o(None, 1)]),
    ("repeated-samples", DEFAULT, [o(I, 0), o(I, 0), uri(), o(DL, 0), o(DL, 0), o(DD, 0), o(DD, 0)]),
    ("download-error-4", DEFAULT, [o(I, 0), uri(), o(DL, 0), o(I, 4)]),
    ("download-error-held-back", DEFAULT, [o(I, 0), uri(), o(I, 5)]),
    ("unsupported-scheme-4.00", DEFAULT, [o(I, 0), uri("unsupported", "4.00"), o(I, 9)]),
    ("unsupported-scheme-2.04", DEFAULT, [o(I, 0), uri("unsupported"), o(I, 9)]),
    ("invalid-uri-direct", DEFAULT, [o(I, 0), uri("invalid"), o(I, 7)]),
    ("invalid-uri-via-downloading", ANJAY, [o(I, 0), uri("invalid"), o(DL, 0), o(I, 7)]),
    ("update-failure-to-idle", DEFAULT, [o(DD, 0), exe(), o(UP, 0), o(I, 8)]),
    ("update-failure-to-downloaded-then-retry", ANJAY, [o(DD, 0), exe(), o(UP, 0), o(DD, 8), exe(), o(UP, 0), o(I, 1)]),
    ("integrity-failure-goes-idle", ANJAY, [o(DD, 0), exe(), o(I, 5)]),
    ("deferred-then-automatic", DEFAULT, [o(DD, 0), exe(), o(DD, 11), o(UP, 0), o(I, 1)]),
    ("deferred-then-execute-again", DEFAULT, [o(DD, 0), exe(), o(DD, 11), exe(), o(UP, 0)]),
    ("deferred-then-cancel", DEFAULT, [o(DD, 0), exe(), o(DD, 11), cancel(), o(I, 10)]),
    ("cancel-in-downloading", DEFAULT, [o(I, 0), uri(), o(DL, 0), cancel(), o(I, 10)]),
    ("cancel-in-downloaded", DEFAULT, [o(DD, 0), cancel(), o(I, 10)]),
    ("cancel-refused-in-updating", DEFAULT, [o(DD, 0), exe(), o(UP, 0), cancel("4.05"), o(I, 1)]),
    ("cancel-refused-in-idle", DEFAULT, [o(I, 8), cancel("4.05"), o(I, 8)]),
    ("execute-refused-in-idle", DEFAULT, [o(I, 0), exe("4.05"), o(I, 0)]),
    ("execute-refused-in-downloading", DEFAULT, [o(DL, 0), exe("4.05"), o(DD, 0)]),
    ("reset-in-downloaded", DEFAULT, [o(DD, 0), reset(), o(I, 0)]),
    ("nul-reset-in-downloading", DEFAULT, [o(DL, 0), nul(), o(I, 0)]),
    ("reset-ignored-in-downloading-zephyr", ZEPHYR, [o(DL, 0), reset(), o(DL, 0), o(DD, 0)]),
    ("reset-after-failure", DEFAULT, [o(I, 8), reset(), o(I, 0)]),
    ("reset-refused-keeps-state", DEFAULT, [o(DD, 0), reset("4.00"), o(DD, 0)]),
    ("new-download-resets-result", DEFAULT, [o(I, 8), uri(), o(DL, 0)]),
    ("second-uri-in-downloading", DEFAULT, [o(DL, 0), uri(), o(DD, 0)]),
    ("uri-refused-in-downloaded", DEFAULT, [o(DD, 0), uri(code="4.00"), o(DD, 0)]),
    ("second-update-after-success", DEFAULT, [o(I, 1), uri(v="3.0"), o(DL, 0), o(DD, 0), exe(), o(I, 1)]),
    ("execute-no-answer-maybe-not-started", DEFAULT, [o(DD, 0), exe(None), o(DD, 0)]),
    ("execute-no-answer-maybe-started", DEFAULT, [o(DD, 0), exe(None), o(UP, 0)]),
    ("cut-in-idle-keeps-result", DEFAULT, [o(I, 8), cut(), on(), o(I, 8)]),
    ("cut-in-idle-zephyr-resets", ZEPHYR, [o(I, 8), cut(), on(), o(I, 0)]),
    ("cut-in-downloaded-persists", DEFAULT, [o(DD, 0), cut(), on(), o(DD, 0), exe(), o(I, 1)]),
    ("cut-in-downloaded-twice", ANJAY, [o(DD, 0), cut(), on(), cut(), on(), o(DD, 0)]),
    ("cut-in-deferred-keeps-11", DEFAULT, [o(DD, 0), exe(), o(DD, 11), cut(), on(), o(DD, 11)]),
    ("cut-in-downloaded-zephyr", ZEPHYR, [o(DD, 0), cut(), on(), o(I, 0)]),
    ("reboot-in-downloaded", DEFAULT, [o(DD, 0), reboot(), o(DD, 0)]),
    ("cut-in-pull-download-resumes", ANJAY, [o(I, 0), uri(), o(DL, 0), cut(), on(), o(DL, 0), o(DD, 0)]),
    ("cut-in-push-download-anjay-idle", ANJAY, [o(I, 0), push(), o(DL, 0), cut(), on(), o(I, 0)]),
    ("cut-in-download-no-resume-4", DEFAULT, [o(I, 0), uri(), o(DL, 0), cut(), on(), o(I, 4)]),
    ("cut-in-download-zephyr", ZEPHYR, [o(I, 0), uri(), o(DL, 0), cut(), on(), o(I, 0)]),
    ("cut-late-in-download-completed", DEFAULT, [o(I, 0), uri(), o(DL, 0), cut(), on(), o(DD, 0)]),
    ("cut-in-updating-new-runs", DEFAULT, [reg("1.0"), o(I, 0), uri(), o(DD, 0), exe(), o(UP, 0), cut(), on(), reg("2.0"), o(I, 1)]),
    ("cut-in-updating-old-runs", DEFAULT, [reg("1.0"), o(I, 0), uri(), o(DD, 0), exe(), o(UP, 0), cut(), on(), reg("1.0"), o(I, 8)]),
    ("cut-in-updating-old-runs-anjay", ANJAY, [reg("1.0"), o(DD, 0), exe(), o(UP, 0), cut(), on(), reg("1.0"), o(DD, 8)]),
    ("cut-in-updating-zephyr-success", ZEPHYR, [reg("1.0"), o(I, 0), push(), pushed(), o(DD, 0), exe(), cut(), on(), reg("2.0"), o(I, 1)]),
    ("self-reboot-to-apply-update", DEFAULT, [reg("1.0"), o(I, 0), uri(), o(DD, 0), exe(), o(UP, 0), reg("2.0"), o(I, 1)]),
    ("registration-update-while-updating", DEFAULT, [reg("1.0"), o(DD, 0), exe(), reg("1.0", fresh=False), o(UP, 0)]),
    ("notification-crosses-execute-response", DEFAULT, [o(DD, 0), exe(done=3), o(DD, 0), o(UP, 0)]),
    ("notification-crosses-uri-response", DEFAULT, [o(I, 0), uri(done=3), o(I, 0), o(DL, 0)]),
    ("late-sample-while-powered-off", DEFAULT, [o(I, 0), uri(), o(DL, 0), cut(), o(DL, 0), on(), o(I, 0)]),
    ("object-1.0-pull-update", V10, [o(I, 0), uri(), o(DL, 0), o(DD, 0), exe(), o(UP, 0), o(I, 1)]),
    ("object-1.0-cancel-not-found", V10, [o(DL, 0), cancel("4.04"), o(DD, 0)]),
    ("lsct-monotonic-with-rtc", RTC, [o(I, 0, 100.0), uri(), o(DL, 0, 105.0), cut(), on(), o(I, 4, 105.0)]),
    ("lsct-may-restart-without-rtc", DEFAULT, [o(I, 0, 100.0), uri(), o(DL, 0, 105.0), cut(), on(), o(I, 4, 3.0)]),
    ("push-corrupt-detected-at-download", DEFAULT, [o(I, 0), push(fault="corrupt"), pushed(), o(I, 5)]),
    ("push-corrupt-detected-at-update", DEFAULT, [o(I, 0), push(fault="corrupt"), pushed(), o(DD, 0), exe(), o(I, 8)]),
    ("connection-lost-injected", DEFAULT, [o(I, 0), uri(), o(DL, 0), fault("connection-lost"), o(I, 4)]),
    ("too-large-push-refused", DEFAULT, [o(I, 0), push(fault="too-large"), pushed("4.13"), o(I, 2)]),
    ("unknown-start-in-updating", DEFAULT, [o(UP, 0), o(I, 1)]),
    ("unknown-uri-kind", DEFAULT, [o(I, 0), uri("unknown"), o(I, 7), uri("unknown"), o(I, 9), uri("unknown"), o(DD, 0)]),
]


@pytest.mark.parametrize("profile,steps", [pytest.param(p, s, id=i) for i, p, s in LEGAL])
def test_legal_sequence_is_accepted(profile: Profile, steps: list[Step]) -> None:
    items = build(steps)
    assert check_all(items, profile) == []
    assert check(items, profile) is None


@pytest.mark.parametrize("profile,steps", [pytest.param(p, s, id=i) for i, p, s in LEGAL])
def test_legal_row_can_fail(profile: Profile, steps: list[Step]) -> None:
    """Replacing the last observation by some other pair must be rejected (the row is not vacuous)."""
    items = build(steps)
    last = max(i for i, item in enumerate(items) if isinstance(item, Observation))
    seen = items[last]
    rejected = []
    for state in range(4):
        for result in range(12):
            if (state, result) == (seen.state, seen.result):
                continue
            variant = list(items)
            variant[last] = Observation(seen.t, state, result)
            violation = check(variant, profile)
            if violation is not None and violation.index == last:
                rejected.append((state, result))
    assert rejected, "no other final observation is rejected: this row cannot fail"


def test_table_is_large_enough() -> None:
    assert len(LEGAL) >= 60
    assert len({row[0] for row in LEGAL}) == len(LEGAL)
