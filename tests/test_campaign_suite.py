"""The suite's spreads: even covers the download, random repeats with its seed, dense packs where asked."""

from __future__ import annotations

import pytest

from rig.campaign.spec import CampaignSpec
from rig.campaign.suite import power_cut_plans, select
from rig.errors import RigError


def blocks(plans):
    return [p.cut.block for p in plans if p.cut is not None and p.cut.kind == "block"]


def delays(plans):
    return [p.cut.delay_ms for p in plans if p.cut is not None and p.cut.kind == "after-execute"]


def test_even_spread_covers_first_and_last_block_and_the_swap_window():
    plans = power_cut_plans(100, 8, 800.0)
    assert plans[0].name == "baseline-no-cut" and plans[0].cut is None
    assert blocks(plans) == [0, 33, 66, 99]
    assert delays(plans) == [100.0, 300.0, 500.0, 700.0]
    assert len({p.name for p in plans}) == len(plans)


def test_random_spread_is_a_function_of_the_seed():
    a, b, c = (power_cut_plans(500, 10, 900.0, seed=s, spread="random") for s in (7, 7, 8))
    assert [p.to_dict() for p in a] == [p.to_dict() for p in b]
    assert blocks(a) != blocks(c) or delays(a) != delays(c)
    assert all(0 <= n < 500 for n in blocks(a)) and all(0 <= d <= 900.0 for d in delays(a))
    assert all(p.seed == 7 for p in a)


@pytest.mark.parametrize("where, lo, hi", [("download-start", 0, 125), ("download-end", 874, 999)])
def test_dense_spread_packs_download_cuts_at_one_end(where, lo, hi):
    plans = power_cut_plans(1000, 8, 800.0, spread="dense", dense_at=where)
    nums = blocks(plans)
    assert len(nums) == 4 and all(lo <= n <= hi for n in nums), nums
    assert delays(plans) == [100.0, 300.0, 500.0, 700.0]  # the swap keeps its even spread


def test_dense_around_execute_packs_swap_cuts_into_the_first_moments():
    plans = power_cut_plans(1000, 8, 800.0, spread="dense", dense_at="execute")
    assert all(d <= 100.0 for d in delays(plans)), delays(plans)
    assert blocks(plans) == [0, 333, 666, 999]


def test_select_keeps_or_excludes_by_substring():
    plans = power_cut_plans(100, 4, 400.0)
    assert [p.name for p in select(plans, "swap")] == [p.name for p in plans if "swap" in p.name]
    assert all("swap" not in p.name for p in select(plans, "not swap"))


def test_spec_round_trips_through_report_params_and_rejects_nonsense():
    spec = CampaignSpec(target_file="t.toml", points=3, seed=9, spread="random", defects=("no-revert",))
    params = {**spec.to_params(), "started": "x", "swap_window_ms": 5.0}
    assert CampaignSpec.from_params(params, "r.json") == spec
    with pytest.raises(RigError, match="r.json: spread 'wide'"):
        CampaignSpec.from_params({**params, "spread": "wide"}, "r.json")
