"""Fault plans: data that round-trips, sweeps that cover what they claim, clear errors."""

from __future__ import annotations

import pytest

from rig.errors import RigError
from rig.faults import Cut, FaultPlan, NetworkFault, dense_around, even_block_cuts, execute_window_cuts, random_block_cuts


def test_plan_round_trips_through_dict():
    plan = FaultPlan("x", Cut("block", block=37), (NetworkFault("drop-block", 3),), off_time=0.5, seed=9)
    assert FaultPlan.from_dict(plan.to_dict()) == plan


def test_even_cuts_include_first_and_last_block():
    nums = [p.cut.block for p in even_block_cuts(412, 5)]
    assert nums[0] == 0 and nums[-1] == 411 and len(nums) == 5 and nums == sorted(nums)


def test_random_cuts_repeat_with_the_same_seed_and_differ_with_another():
    a = [p.cut.block for p in random_block_cuts(500, 10, seed=1)]
    assert a == [p.cut.block for p in random_block_cuts(500, 10, seed=1)]
    assert a != [p.cut.block for p in random_block_cuts(500, 10, seed=2)]


def test_execute_window_and_dense():
    delays = [p.cut.delay_ms for p in execute_window_cuts(300, 3)]
    assert delays == [50.0, 150.0, 250.0]
    dense = [p.cut.block for p in dense_around(100, 5, 11, 1000)]
    assert dense == list(range(95, 106))


def test_describe_reads_like_a_bug_report():
    assert Cut("block", block=137).describe(412) == "cut at block 137 of 412"
    assert Cut("after-execute", delay_ms=120).describe() == "cut 120 ms after Execute"


@pytest.mark.parametrize("raw, word", [
    ({"name": "a", "cut": {"kind": "laser"}}, "laser"),
    ({"name": "a", "network": [{"kind": "bitflip", "block": 1}]}, "bitflip"),
    ({"cut": None}, "malformed"),
])
def test_bad_plans_name_the_problem(raw, word):
    with pytest.raises(RigError, match=word):
        FaultPlan.from_dict(raw)
