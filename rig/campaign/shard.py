"""`rig run --shard I/N`: the I-th of N disjoint shares of a campaign's cut plans, for N places in parallel.

Every shard computes the same full plan list (same --points, --seed, spread,
images) and keeps every N-th plan starting at the I-th, so the shares are
disjoint, their union is the whole list, and each share mixes download and swap
cuts. Cuts over the swap are named by their fraction of the measured window
(rig.faults), so two boards with different swap times agree on which case is
which. Each shard runs its own baseline (it measures its board); the
conformance cases, one list with no timing in it, run whole in shard 1.
`rig merge` joins the shards' reports.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Sequence, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> "Shard":
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
        if not match:
            raise ValueError(f"{text!r} is not a shard like 1/2")
        index, count = int(match.group(1)), int(match.group(2))
        if count < 1 or not 1 <= index <= count:
            raise ValueError(f"shard {text!r}: I must be 1..N with N >= 1")
        return cls(index, count)

    def take(self, items: Sequence[T]) -> list[T]:
        return list(items[self.index - 1::self.count])

    @property
    def runs_conformance(self) -> bool:
        return self.index == 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_arg(text: str) -> str:
    """argparse type of --shard: checked here, kept as text (it goes into report.json as given)."""
    try:
        return str(Shard.parse(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def shard_of(text: str | None) -> Shard:
    """The shard a run's spec names (None: the whole campaign, 1/1)."""
    return Shard.parse(text) if text else Shard(1, 1)
