"""The standard power-cut suite: a baseline update, cuts spread over the download, cuts over the swap."""

from __future__ import annotations

from rig.faults import FaultPlan, even_block_cuts, execute_window_cuts, random_block_cuts

DEFAULT_POINTS = 8


def power_cut_plans(blocks_total: int, points: int, swap_window_ms: float, seed: int = 0, spread: str = "even") -> list[FaultPlan]:
    """`points` cuts: half across the download (by block), half across the window after Execute."""
    plans = [FaultPlan("baseline-no-cut", None, seed=seed)]
    if points <= 0:
        return plans
    download_points = max(1, points // 2)
    swap_points = points - download_points
    if spread == "random":
        plans += random_block_cuts(blocks_total, download_points, seed)
    else:
        plans += even_block_cuts(blocks_total, download_points, seed)
    plans += execute_window_cuts(swap_window_ms, swap_points, seed)
    return plans


def select(plans: list[FaultPlan], keyword: str | None) -> list[FaultPlan]:
    """pytest-style -k: a substring of the case name (prefix with 'not ' to exclude)."""
    if not keyword:
        return plans
    if keyword.startswith("not "):
        word = keyword[4:].strip()
        return [p for p in plans if word not in p.name]
    return [p for p in plans if keyword in p.name]
