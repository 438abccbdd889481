"""good-package-rejected: result 5/6 only counts against the device when every package offered was a good one."""

from __future__ import annotations

from rig.timeline import Timeline
from rig.verdict.package_rules import check_good_package_results


def case(offered: list[str], result: int) -> list:
    tl = Timeline()
    for name in offered:
        tl.append("package", endpoint="ep", file=name, mode="pull")
    tl.append("notify", endpoint="other", path="/5/0/5", values={"5/0/5": 5})
    tl.append("notify", endpoint="ep", path="/5/0/5", values={"5/0/5": result})
    return tl.events()


def test_integrity_failure_on_a_good_image_is_a_violation():
    found = check_good_package_results(case(["update-1.1.0.bin"], 5), "ep", {"update-1.1.0.bin", "base-1.0.0.bin"})
    assert [v.rule for v in found] == ["good-package-rejected"]
    assert "Update Result 5 (integrity check failure)" in found[0].detail and "update-1.1.0.bin" in found[0].detail


def test_results_for_bad_packages_or_other_failures_are_not():
    good = {"update-1.1.0.bin"}
    assert check_good_package_results(case(["corrupt.bin"], 5), "ep", good) == []
    assert check_good_package_results(case(["update-1.1.0.bin", "corrupt.bin"], 6), "ep", good) == []
    assert check_good_package_results(case(["update-1.1.0.bin"], 4), "ep", good) == []
    assert check_good_package_results(case([], 5), "ep", good) == []
