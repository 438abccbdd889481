"""The standard power-cut suite: a baseline update, cuts spread over the download, cuts over the swap.

Spreads: "even" covers the whole download and swap; "random" draws the points from
the seed (the same seed gives the same plans, so a weekend run is reproducible);
"dense" packs every point around one place where bugs cluster (the first blocks,
the last blocks before Downloaded, the first moments after Execute).
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from rig.faults import (
    FaultPlan, dense_around, even_block_cuts, execute_window_cuts, first_boot_cuts, flash_op_cuts, nested_cuts,
    random_block_cuts, random_flash_op_cuts, random_window_cuts,
)


class HasName(Protocol):
    name: str


Named = TypeVar("Named", bound=HasName)

DEFAULT_POINTS = 8
FIRST_BOOT_POINTS = 3  # flash-op cuts at the new image's first writes (its confirm, its stored result)
DENSE_FRACTION = 0.125  # "dense" packs the points into this share of the download or swap


def baseline_plans(seed: int = 0) -> list[FaultPlan]:
    return [FaultPlan("baseline-no-cut", None, seed=seed)]


def power_cut_plans(
    blocks_total: int, points: int, swap_window_ms: float, seed: int = 0, spread: str = "even",
    dense_at: str = "download-end", swap_ops: int | None = None, nested: int = 0,
) -> list[FaultPlan]:
    """Baseline + `points` cuts: half across the download (by block), half across the swap; then `nested`
    plans that cut the swap and again the recovery boot that resumes it.

    With `swap_ops` (flash operations of one swap, measured on the virtual board)
    swap cuts land on exact flash operations instead of times after Execute.
    """
    plans = baseline_plans(seed)
    if points > 0:
        download_points = max(1, points // 2)
        swap_points = points - download_points
        plans += _download_cuts(blocks_total, download_points, seed, spread, dense_at)
        plans += _swap_cuts(swap_window_ms, swap_ops, swap_points, seed, spread, dense_at)
    return plans + nested_cuts(swap_ops, swap_window_ms, nested, seed)


def _download_cuts(blocks: int, points: int, seed: int, spread: str, dense_at: str) -> list[FaultPlan]:
    if spread == "random":
        return random_block_cuts(blocks, points, seed)
    if spread == "dense" and dense_at in ("download-start", "download-end"):
        width = max(points, int(blocks * DENSE_FRACTION))
        center = 0 if dense_at == "download-start" else blocks - 1
        return dense_around(center, width, points, blocks, seed)
    return even_block_cuts(blocks, points, seed)


def _swap_cuts(window_ms: float, ops: int | None, points: int, seed: int, spread: str, dense_at: str) -> list[FaultPlan]:
    if points <= 0:
        return []
    span = (ops if ops is not None else window_ms)
    if spread == "dense" and dense_at == "execute":
        span = max(points, span * DENSE_FRACTION) if ops is not None else span * DENSE_FRACTION
    if spread == "random":
        return random_flash_op_cuts(ops, points, seed) if ops is not None else random_window_cuts(window_ms, points, seed)
    if ops is not None:
        commit = min(FIRST_BOOT_POINTS, points // 2)  # the rest spread over the swap itself
        return flash_op_cuts(int(span), points - commit, seed) + first_boot_cuts(ops, commit, seed)
    return execute_window_cuts(span, points, seed)


def select(items: list[Named], keyword: str | None) -> list[Named]:
    """pytest-style -k on the case name (fault plans, conformance cases): a substring, or 'not WORD' to exclude."""
    if not keyword:
        return list(items)
    if keyword.startswith("not "):
        word = keyword[4:].strip()
        return [i for i in items if word not in i.name]
    return [i for i in items if keyword in i.name]
