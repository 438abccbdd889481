"""The narrow's search on its own: which points it probes, when it stops, what it refuses.

No board: each probe's outcome comes from a rule written here ("fails from op 33
on"), and the test checks the search finds exactly that boundary, with both
sides replayed by itself, within the bound log2(range) + confirmations.
"""

from __future__ import annotations

import math

import pytest

from rig.campaign.narrow import start_search
from rig.campaign.narrow_words import boundary_words, flash_op_words
from rig.errors import RigError
from rig.faults import Cut, FaultPlan
from rig.flash_layout import load_layout
from rig.results import CaseResult, Violation

from sim_board import TARGET


def _case(name: str, cut: Cut, outcome: str, **plan) -> CaseResult:
    plan_ = FaultPlan(name, cut, **plan)
    return CaseResult(name, outcome, plan=plan_.to_dict(), cut=plan_.to_dict()["cut"],
                      violations=[Violation("bricked-after-cut", "x")] if outcome == "fail" else [])


def _drive(search, outcome_at) -> list[float]:
    probed = []
    while (plan := search.next()) is not None:
        at = search.at_of(plan)
        probed.append(at)
        search.seen(CaseResult(plan.name, outcome_at(at), plan=plan.to_dict()))
    return probed


def test_finds_the_first_failing_op_between_the_nearest_pass_and_the_fail_with_both_sides_replayed():
    run = [_case("swap-op-00015", Cut("flash-op", flash_op=15), "pass"),
           _case("swap-op-00047", Cut("flash-op", flash_op=47), "fail"),
           _case("swap-op-00060", Cut("flash-op", flash_op=60), "pass"),  # above: not the range searched
           _case("block", Cut("block", block=20), "pass")]  # another kind: no evidence
    failing = run[1]
    search = start_search(failing, FaultPlan.from_dict(failing.plan), run, max_cases=20)
    assert search.span == (15.0, 47.0)
    probed = _drive(search, lambda at: "fail" if at >= 33 else "pass")
    assert search.converged()
    low, high = search.bounds()
    assert (low.at, high.at) == (32.0, 33.0) and low.ours and high.ours
    assert len(probed) <= math.ceil(math.log2(47 - 15)) + 2
    assert all(p.name.startswith("narrow-op-") for p in search.ran)
    words = boundary_words(search, ".", None)
    assert words.startswith("passes at op 32, fails at op 33")
    assert "ops 15..32 passes and 33..47 fails" in words


def test_known_failures_of_the_run_narrow_the_range_at_once_and_the_run_side_is_confirmed():
    run = [_case("swap-op-00031", Cut("flash-op", flash_op=31), "pass"),
           _case("swap-op-00038", Cut("flash-op", flash_op=38), "fail"),
           _case("swap-op-00045", Cut("flash-op", flash_op=45), "fail")]
    search = start_search(run[2], FaultPlan.from_dict(run[2].plan), run, max_cases=10)
    assert search.span == (31.0, 38.0)
    probed = _drive(search, lambda at: "fail" if at >= 32 else "pass")
    assert probed[-1] == 31.0  # the run's own passing case, replayed so both sides are probes
    assert search.converged() and [search.bounds()[0].at, search.bounds()[1].at] == [31.0, 32.0]


def test_without_a_passing_point_below_the_start_of_the_axis_is_probed_first():
    failing = _case("download-block-00012", Cut("block", block=12), "fail")
    search = start_search(failing, FaultPlan.from_dict(failing.plan), [failing], max_cases=10)
    probed = _drive(search, lambda at: "fail" if at >= 5 else "pass")
    assert probed[0] == 0.0 and search.converged()
    assert boundary_words(search, ".", None).startswith("passes at block 4, fails at block 5")


def test_a_failure_from_the_start_of_the_range_is_no_boundary():
    failing = _case("download-block-00012", Cut("block", block=12), "fail")
    search = start_search(failing, FaultPlan.from_dict(failing.plan), [failing], max_cases=10)
    _drive(search, lambda at: "fail")
    assert not search.converged()
    assert "fails from the start of the range (block 0) on" in boundary_words(search, ".", None)


def test_max_cases_bounds_the_search_and_the_words_say_how_far_it_got():
    failing = _case("swap-op-00100", Cut("flash-op", flash_op=100), "fail")
    base = _case("swap-op-00000", Cut("flash-op", flash_op=0), "pass")
    search = start_search(failing, FaultPlan.from_dict(failing.plan), [base, failing], max_cases=3)
    _drive(search, lambda at: "fail" if at >= 37 else "pass")
    assert len(search.ran) == 3 and not search.converged()
    words = boundary_words(search, ".", None)
    assert "--max-cases 3 reached" in words and "lies between op 25 (passes) and op 37 (fails)" in words


def test_an_erring_probe_or_a_side_that_does_not_reproduce_ends_the_search():
    failing = _case("swap-op-00040", Cut("flash-op", flash_op=40), "fail")
    base = _case("swap-op-00030", Cut("flash-op", flash_op=30), "pass")
    search = start_search(failing, FaultPlan.from_dict(failing.plan), [base, failing], max_cases=10)
    _drive(search, lambda at: "error")
    assert len(search.ran) == 1 and "says nothing about the device" in search.stopped

    search = start_search(failing, FaultPlan.from_dict(failing.plan), [base, failing], max_cases=10)
    _drive(search, lambda at: "pass")  # op 40 passes when replayed: the run's failure was not reproducible
    assert not search.converged() and "does not reproduce" in search.stopped


def test_timed_cuts_are_searched_to_the_resolution_and_named_by_fraction_of_the_window():
    failing = _case("swap-50.000pct", Cut("after-execute", delay_ms=150.0), "fail")
    passing = _case("swap-16.667pct", Cut("after-execute", delay_ms=50.0), "pass")
    search = start_search(failing, FaultPlan.from_dict(failing.plan), [passing, failing], max_cases=20,
                          resolution=2.0, window_ms=300.0)
    _drive(search, lambda at: "fail" if at >= 117.3 else "pass")
    low, high = search.bounds()
    assert search.converged() and high.at - low.at <= 2.0 and low.at < 117.3 <= high.at
    assert all(p.name.startswith("narrow-swap-") and p.name.endswith("pct") for p in search.ran)


@pytest.mark.parametrize("case, why", [
    (_case("swap-op-00040", Cut("flash-op", flash_op=40), "pass"), "nothing to narrow"),
    (_case("state-2", Cut("state", state=2), "fail"), "lies on no axis"),
    (CaseResult("baseline-no-cut", "fail", plan=FaultPlan("baseline-no-cut").to_dict()), "has no cut"),
    (_case("nested", Cut("flash-op", flash_op=40), "fail", then=Cut("flash-op", flash_op=9)), "nested plan"),
])
def test_what_cannot_be_narrowed_is_refused_in_one_line(case, why):
    with pytest.raises(RigError, match=why):
        start_search(case, FaultPlan.from_dict(case.plan), [case], max_cases=5)


def test_a_flash_op_is_named_by_its_partition_and_sector():
    layout = load_layout(TARGET)
    scratch = layout.partition("scratch")
    assert flash_op_words("erase", scratch.offset, layout.sector_size, layout) == "erase of scratch sector 0"
    primary = layout.partition("primary")
    assert flash_op_words("program", primary.offset + 3 * layout.sector_size + 8, 8, layout) == \
        "program of primary sector 3 (+0x3008, 8 bytes)"
