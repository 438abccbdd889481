"""Fault plans: data that round-trips, sweeps that cover what they claim, clear errors."""

from __future__ import annotations

import pytest

from rig.errors import RigError
from rig.faults import (
    Cut, FaultPlan, NetworkFault, check_block_cuts, dense_around, even_block_cuts, execute_window_cuts, nested_cuts,
    random_block_cuts,
)


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


def test_a_block_cut_past_the_last_block_is_refused_before_the_run():
    plans = even_block_cuts(17, 2)  # planned for 512-byte blocks of an 8.5 KB image
    check_block_cuts(plans, 17, 512)
    with pytest.raises(RigError, match=r"block 16 is past the last block of the transfer \(blocks 0\.\.8 at 1024"):
        check_block_cuts(plans, 9, 1024)  # ... but the client asked for 1024


def test_the_download_block_size_is_the_one_the_client_asked_for():
    from rig.campaign.measure import download_block_size
    from rig.timeline import Event

    served = [Event(0.1, "block2", {"file": "new.bin", "num": 0, "size": 1024}),
              Event(0.2, "block2", {"file": "new.bin", "num": 2, "size": 512}),  # renegotiated down (RFC 7959 2.4)
              Event(0.3, "block2", {"file": "other.bin", "num": 0, "size": 64})]
    assert download_block_size(served, "new.bin") == 512
    assert download_block_size(served, "missing.bin") is None


def test_nested_plans_cut_the_swap_then_the_recovery_boot_and_round_trip():
    plans = nested_cuts(160, 0.0, 2, seed=5)
    assert [p.name for p in plans] == ["nested-op-00040-then-00060", "nested-op-00120-then-00020"]
    assert all(p.cut.kind == "flash-op" and p.then.kind == "flash-op" for p in plans)
    assert FaultPlan.from_dict(plans[0].to_dict()) == plans[0]
    timed = nested_cuts(None, 400.0, 1)
    assert timed[0].cut.kind == "after-execute" and timed[0].then.kind == "after-power-on"
    assert "then 100 ms after the recovery's power-on" in timed[0].describe()
    with pytest.raises(RigError, match="nested cut"):
        FaultPlan("bad", None, then=Cut("flash-op", flash_op=3)).validate()
