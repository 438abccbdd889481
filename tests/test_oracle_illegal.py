"""Illegal sampled sequences: the oracle must name the right item and rule.

Each row also proves it is the FIRST violation: the sequence cut just before the
expected index is accepted.
"""

from __future__ import annotations

import pytest

from rig.verdict.oracle import check, check_all
from rig.lwm2m.profile import Profile
from test_oracle_legal import (
    ANJAY,
    DD,
    DEFAULT,
    DL,
    RTC,
    UP,
    V10,
    ZEPHYR,
    I,
    Step,
    build,
    cancel,
    cut,
    exe,
    fault,
    nul,
    o,
    on,
    push,
    pushed,
    reboot,
    reg,
    reset,
    uri,
)

RTC10 = Profile(object5_version="1.0", keeps_real_time=True)
UPDATING_FROM_1_0 = [reg("1.0"), o(I, 0), uri(v="2.0"), o(DD, 0), exe(), o(UP, 0)]

# (id, profile, steps, expected index, expected rule)
ILLEGAL: list[tuple[str, Profile, list[Step], int, str]] = [
    ("success-without-execute", DEFAULT, [o(DD, 0), o(I, 1)], 1, "result-1-without-execute"),
    ("success-from-idle-never-downloaded", DEFAULT, [o(I, 0), o(I, 1)], 1, "result-1-without-execute"),
    ("success-after-refused-execute", DEFAULT, [o(DL, 0), exe("4.05"), o(I, 1)], 2, "result-1-without-execute"),
    ("updating-without-execute", DEFAULT, [o(DD, 0), o(UP, 0)], 1, "update-without-execute"),
    ("execute-accepted-in-idle", DEFAULT, [o(I, 0), exe("2.04")], 1, "execute-accepted-outside-downloaded"),
    ("execute-accepted-in-updating", DEFAULT, [o(UP, 0), exe("2.04")], 1, "execute-accepted-outside-downloaded"),
    ("execute-refused-in-downloaded", DEFAULT, [o(DD, 0), exe("4.05")], 1, "execute-refused-in-downloaded"),
    ("cancel-accepted-in-idle", DEFAULT, [o(I, 0), cancel("2.04")], 1, "cancel-accepted-outside-download"),
    ("cancel-accepted-in-updating", DEFAULT, [o(UP, 0), cancel("2.04")], 1, "cancel-accepted-outside-download"),
    ("cancel-refused-in-downloading", DEFAULT, [o(DL, 0), cancel("4.05"), o(DL, 0)], 2, "cancel-refused-in-download"),
    ("cancel-refused-in-downloaded", DEFAULT, [o(DD, 0), cancel("4.05")], 1, "cancel-refused-in-download"),
    ("cancel-in-object-1.0", V10, [o(DL, 0), cancel("2.04")], 1, "cancel-not-in-1.0"),
    ("deferred-in-object-1.0", V10, [o(DD, 0), exe(), o(DD, 11)], 2, "result-not-in-1.0"),
    ("cancelled-in-object-1.0", V10, [o(I, 10)], 0, "result-not-in-1.0"),
    ("result-out-of-range", DEFAULT, [o(I, 0), o(I, 12)], 1, "result-out-of-range"),
    ("state-out-of-range", DEFAULT, [o(I, 0), o(4, 0)], 1, "state-out-of-range"),
    ("lsct-backwards-with-rtc", RTC, [o(I, 0, 100.0), uri(), o(DL, 0, 99.0)], 2, "last-state-change-time-backwards"),
    ("lsct-backwards-across-cut-with-rtc", RTC, [o(DL, 0, 100.0), cut(), on(), o(I, 4, 50.0)], 3, "last-state-change-time-backwards"),
    ("lsct-in-object-1.0", RTC10, [o(I, 0), o(I, 0, 5.0)], 1, "lsct-not-in-1.0"),
    ("downloaded-lost-after-cut", DEFAULT, [o(DD, 0), cut(), on(), o(I, 0)], 3, "state-lost-after-reboot"),
    ("downloaded-lost-after-reboot", ANJAY, [o(I, 0), uri(), o(DD, 0), reboot(), o(I, 0)], 4, "state-lost-after-reboot"),
    ("failure-result-lost-after-cut", DEFAULT, [o(I, 8), cut(), on(), o(I, 0)], 3, "result-lost-after-reboot"),
    ("deferral-lost-after-cut", DEFAULT, [o(DD, 0), exe(), o(DD, 11), cut(), on(), o(DD, 0)], 5, "result-lost-after-reboot"),
    ("zephyr-restores-downloaded", ZEPHYR, [o(DD, 0), cut(), on(), o(DD, 0)], 3, "state-kept-after-reboot"),
    ("download-not-resumed", ANJAY, [o(I, 0), uri(), o(DL, 0), cut(), on(), o(I, 0)], 5, "download-not-resumed"),
    ("download-resumed-unexpectedly", DEFAULT, [o(I, 0), uri(), o(DL, 0), cut(), on(), o(DL, 0)], 5, "download-resumed"),
    ("failure-returned-to-downloaded", DEFAULT, [o(DD, 0), exe(), o(UP, 0), o(DD, 8)], 3, "failure-returned-to-downloaded"),
    ("failure-returned-to-idle", ANJAY, [o(DD, 0), exe(), o(UP, 0), o(I, 8)], 3, "failure-returned-to-idle"),
    ("reset-ignored-in-downloading", DEFAULT, [o(DL, 0), reset(), o(DL, 0)], 2, "reset-ignored-in-downloading"),
    ("nul-reset-ignored-in-downloading", DEFAULT, [o(DL, 0), nul(), o(DD, 0)], 2, "reset-ignored-in-downloading"),
    ("invalid-uri-passed-downloading", DEFAULT, [o(I, 0), uri("invalid"), o(DL, 0)], 2, "invalid-uri-via-downloading"),
    ("success-but-old-firmware-runs", DEFAULT, [*UPDATING_FROM_1_0, cut(), on(), reg("1.0"), o(I, 1)], 9, "result-1-old-firmware"),
    ("failure-but-new-firmware-runs", DEFAULT, [*UPDATING_FROM_1_0, cut(), on(), reg("2.0"), o(I, 8)], 9, "result-contradicts-firmware"),
    ("reverted-after-success", DEFAULT, [reg("1.0"), o(I, 0), uri(v="2.0"), o(DD, 0), exe(), o(I, 1), cut(), on(), reg("1.0")], 8, "reverted-after-success"),
    ("new-firmware-without-update", DEFAULT, [reg("1.0"), o(I, 0), uri(v="2.0"), o(DD, 0), cut(), on(), reg("2.0")], 6, "new-firmware-without-success"),
    ("unexpected-firmware-version", DEFAULT, [reg("1.0"), o(I, 0), reboot(), reg("3.0")], 3, "unexpected-firmware-version"),
    ("update-outcome-lost-after-cut", DEFAULT, [o(DD, 0), exe(), o(UP, 0), cut(), on(), o(I, 0)], 5, "result-lost-after-reboot"),
    ("downloaded-despite-too-large", DEFAULT, [o(I, 0), uri(fault="too-large"), o(DD, 0)], 2, "downloaded-despite-fault"),
    ("downloaded-despite-connection-lost", DEFAULT, [o(I, 0), uri(fault="connection-lost"), o(DL, 0), o(DD, 0)], 3, "downloaded-despite-fault"),
    ("downloaded-after-fault-mid-push", DEFAULT, [o(I, 0), push(), o(DL, 0), fault("connection-lost"), pushed(), o(DD, 0)], 5, "downloaded-despite-fault"),
    ("success-with-corrupt-package", DEFAULT, [o(I, 0), push(fault="corrupt"), pushed(), o(DD, 0), exe(), o(I, 1)], 5, "success-with-bad-package"),
    ("wrong-result-for-connection-lost", DEFAULT, [o(I, 0), uri(fault="connection-lost"), o(I, 5)], 2, "wrong-error-result"),
    ("downloaded-before-push-complete", DEFAULT, [o(I, 0), push(), o(DD, 0)], 2, "downloaded-before-push-complete"),
    ("downloaded-after-failed-push", DEFAULT, [o(I, 0), push(), pushed("4.13"), o(DD, 0)], 3, "downloaded-before-push-complete"),
    ("result-not-reset-on-download", DEFAULT, [o(I, 8), uri(), o(DL, 8)], 2, "result-not-reset"),
    ("result-not-reset-on-update", ANJAY, [o(DD, 8), exe(), o(UP, 8)], 2, "result-not-reset"),
    ("impossible-combination", DEFAULT, [o(DL, 4)], 0, "impossible-combination"),
    ("idle-deferred-combination", DEFAULT, [o(DD, 0), exe(), o(I, 11)], 2, "impossible-combination"),
    ("unexpected-update-result", DEFAULT, [o(UP, 0), o(I, 6)], 1, "unexpected-result"),
    ("download-without-request", DEFAULT, [o(I, 0), o(DL, 0)], 1, "download-without-request"),
    ("download-after-success-without-request", DEFAULT, [o(I, 1), o(DD, 0)], 1, "download-without-request"),
    ("package-dropped-silently", DEFAULT, [o(DD, 0), o(I, 0)], 1, "state-lost"),
    ("execute-accepted-but-still-downloaded", DEFAULT, [o(DD, 0), exe(), o(DD, 0)], 2, "execute-accepted-without-effect"),
    ("still-updating-after-cut", DEFAULT, [o(DD, 0), exe(), o(UP, 0), cut(), on(), o(UP, 0)], 5, "unreachable"),
    ("cancel-then-downloaded", DEFAULT, [o(DL, 0), cancel(), o(DD, 0)], 2, "cancel-accepted-without-effect"),
    ("first-of-two-violations", DEFAULT, [o(I, 0), o(I, 1), o(DD, 0), o(UP, 0)], 1, "result-1-without-execute"),
    ("crossing-window-closed", DEFAULT, [o(DD, 0), exe(done=0.5), o(DD, 0)], 2, "execute-accepted-without-effect"),
    ("reset-without-effect", DEFAULT, [o(DD, 0), reset(), o(DD, 0)], 2, "write-uri-accepted-without-effect"),
    ("uri-refused-but-downloading", DEFAULT, [o(I, 0), uri(code="4.00"), o(DL, 0)], 2, "write-uri-refused"),
    ("execute-refused-but-updating", DEFAULT, [o(I, 0), uri(), exe("4.05"), o(UP, 0)], 3, "update-without-execute"),
]


@pytest.mark.parametrize(
    "profile,steps,index,rule", [pytest.param(p, s, x, r, id=i) for i, p, s, x, r in ILLEGAL]
)
def test_illegal_sequence_is_reported_at_the_right_item(profile: Profile, steps: list[Step], index: int, rule: str) -> None:
    items = build(steps)
    violation = check(items, profile)
    assert violation is not None, "accepted an illegal sequence"
    assert (violation.index, violation.rule) == (index, rule), violation.detail
    assert violation.t == items[index].t
    assert f" {index} (" in violation.detail
    assert check(items[:index], profile) is None, "the prefix before the reported item must be legal"
    assert check_all(items, profile)[0] == violation


def test_table_is_large_enough() -> None:
    assert len(ILLEGAL) >= 40
    assert len({row[0] for row in ILLEGAL}) == len(ILLEGAL)


def test_every_expected_rule_is_documented() -> None:
    from rig.verdict.oracle_diagnose import RULES

    assert {row[4] for row in ILLEGAL} <= set(RULES)
