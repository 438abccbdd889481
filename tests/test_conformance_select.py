"""Case selection (-k) and the skip reasons a target's missing abilities give."""

from __future__ import annotations

import pytest

from rig.campaign.case import CaseImages
from rig.conformance import CASES, ConformanceContext, select_cases
from rig.conformance.abilities import missing
from rig.conformance.context import ConformanceCase, skipped
from rig.errors import RigError


def case(needs: set[str]) -> ConformanceCase:
    async def run(session, ctx):  # never awaited: only the needs are looked at
        raise AssertionError

    return ConformanceCase("999", "A title", frozenset(needs), run, "slug")


def test_names_are_unique_and_numbered():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))
    ids = [c.id for c in CASES if c.id.isdigit()]
    assert ids == sorted(ids) and {"751", "755", "756", "760", "770", "771", "772", "779"} <= set(ids)
    assert set(map(str, range(773, 779))) <= set(ids)


def test_keyword_selects_like_pytest_k():
    assert [c.id for c in select_cases(CASES, "779")] == ["779"] * 4
    assert all(c.id != "cancel" for c in select_cases(CASES, "not cancel"))
    assert select_cases(CASES, None) == CASES and select_cases(CASES, "no-such-case") == []


def test_missing_needs_give_the_reason():
    why = {"pull": "the device's Delivery Method is 1"}
    assert missing(case({"push"}), {"push"}, why) is None
    assert missing(case({"pull"}), {"push"}, why) == "the device's Delivery Method is 1"
    assert "'too-large' package" in missing(case({"negative:too-large"}), set(), why)
    assert missing(case({"object5-1.1"}), set(), {}) == "the target lacks 'object5-1.1'"


def test_skipped_is_a_skip_that_says_why():
    result = skipped(case(set()), "no reason at all")
    assert result.outcome == "skip" and result.plan == {"conformance": "999", "title": "A title", "skipped": "no reason at all"}
    assert result.name == "conf-999-slug" and result.message == "skipped: no reason at all"


def test_context_rejects_a_bad_mode_and_block_size(tmp_path):
    images = CaseImages(tmp_path / "b", "1.0.0", tmp_path / "n", "1.1.0")
    with pytest.raises(RigError, match="mode 'carrier-pigeon'"):
        ConformanceContext(images, {}, mode="carrier-pigeon")
    with pytest.raises(RigError, match="block size 1000"):
        ConformanceContext(images, {}, block_size=1000)
