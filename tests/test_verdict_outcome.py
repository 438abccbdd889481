"""Every row of rig.verdict.outcome.decide, on its own: pure inputs, no board.

pass | fail | error | skip must each mean one thing; these are the rules a
nightly reader relies on when a red cell says "fail" and a yellow one "error".
"""

from __future__ import annotations

import pytest

from rig.results import Violation
from rig.verdict.outcome import BRICKED, BRICKED_BY_UPDATE, Observed, RigFault, decide

ORACLE = Violation("result-after-success", "Update Result 8 after the new image ran")


def test_a_case_that_never_ran_is_a_skip_never_a_fail():
    d = decide(Observed(ran=False, violations=(ORACLE,), faults=(RigFault("power", "relay stuck"),)))
    assert (d.outcome, d.reason) == ("skip", "not run: the run stopped before this case")


def test_a_case_that_does_not_apply_is_a_skip_with_its_reason_never_a_pass():
    d = decide(Observed(not_applicable="the device's Delivery Method is pull only"))
    assert d.outcome == "skip" and d.reason == "skipped: the device's Delivery Method is pull only"


def test_nothing_broken_is_a_pass():
    assert decide(Observed()).outcome == "pass"
    assert decide(Observed(cut=True, came_back=True, probe_reachable=True, intact_image=True)).outcome == "pass"


def test_a_broken_rule_is_a_fail_naming_the_first_rule():
    d = decide(Observed(violations=(ORACLE, Violation("other", "x"))))
    assert (d.outcome, d.rule) == ("fail", "result-after-success")
    assert d.reason == "[result-after-success] Update Result 8 after the new image ran"


@pytest.mark.parametrize("part", ["power", "probe", "server", "console", "known-start", "rig"])
def test_the_rigs_own_failure_is_an_error_naming_the_part(part):
    d = decide(Observed(faults=(RigFault(part, "it gave up"),), violations=(ORACLE,), cut=True, came_back=False))
    assert d.outcome == "error" and d.reason == f"rig error ({part}: it gave up)"


def test_a_board_that_does_not_come_back_while_the_rig_worked_is_a_brick_fail():
    d = decide(Observed(cut=True, came_back=False, probe_reachable=True, flash_words="primary: 1.1.0 hash mismatch"))
    assert (d.outcome, d.rule) == ("fail", BRICKED)
    assert "primary: 1.1.0 hash mismatch" in d.reason and [v.rule for v in d.added] == [BRICKED]


def test_the_brick_keeps_the_invariants_own_detail_when_it_gave_one():
    given = Violation(BRICKED, "after the cut (Updating) the device did not register again within 6 s")
    d = decide(Observed(cut=True, came_back=False, probe_reachable=True, violations=(given,)))
    assert d.reason == f"[{BRICKED}] {given.detail}" and d.added == ()


def test_a_board_that_does_not_come_back_after_an_update_without_a_cut_is_bricked_by_the_update():
    d = decide(Observed(came_back=False, probe_reachable=True))
    assert (d.outcome, d.rule) == ("fail", BRICKED_BY_UPDATE)


def test_a_board_that_does_not_come_back_and_a_probe_that_cannot_look_is_an_error_not_a_fail():
    d = decide(Observed(cut=True, came_back=False, probe_reachable=False, probe_problem="no probe with id 0240"))
    assert d.outcome == "error" and "probe" in d.reason and "no probe with id 0240" in d.reason
    assert decide(Observed(cut=True, came_back=False)).outcome == "error"  # nobody could look at the flash


def test_came_back_with_no_intact_image_in_flash_is_a_brick_fail():
    d = decide(Observed(cut=True, came_back=True, probe_reachable=True, intact_image=False, flash_words="both erased"))
    assert (d.outcome, d.rule) == ("fail", BRICKED) and "both erased" in d.reason


def test_a_cut_the_plan_never_reached_is_an_error_unless_the_device_broke_a_rule_anyway():
    missed = RigFault("plan", "the planned cut at block 559 never happened")
    assert decide(Observed(faults=(missed,))).outcome == "error"
    assert decide(Observed(faults=(missed,))).reason.startswith("rig error (plan: ")
    assert decide(Observed(faults=(missed,), violations=(ORACLE,))).outcome == "fail"
