"""Fault plans as data: when to cut power, and which network faults to inject.

A plan is plain data (it round-trips through report.json), so a failing case can
be replayed exactly; a sweep is just a list of plans.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

from rig.errors import RigError

CUT_KINDS = ("block", "state", "after-execute", "console", "flash-op", "bootstrap")
BOOTSTRAP_STEPS = ("delete", "write", "finish")  # rig.lwm2m.bootstrap_server.STEPS
NESTED_KINDS = ("flash-op", "after-power-on")  # where a second cut may land: in the recovery boot
NET_KINDS = ("drop-block", "delay-block", "restart-server", "lose-dtls-session")


@dataclass(frozen=True)
class Cut:
    """When the power goes. `kind` picks which fields matter:

    block: at Block1/Block2 number `block` (held until power is off, so the cut is exact)
    state: when State becomes `state`
    after-execute: `delay_ms` after the Execute of /5/0/2 was answered
    console: when a console line matches `pattern`
    flash-op: at flash operation `flash_op` (virtual board only), whole or `torn`
    after-power-on: `delay_ms` after the recovery's power-on (only as a plan's nested `then` cut)
    bootstrap: during the first bootstrap after Execute, before the bootstrap server's `step` (held until the
      power is off: the device has its old account deleted, or the new one written but not finished)
    """

    kind: str
    block: int | None = None
    state: int | None = None
    delay_ms: float | None = None
    pattern: str | None = None
    flash_op: int | None = None
    torn: bool = False
    step: str | None = None

    def describe(self, blocks_total: int | None = None) -> str:
        if self.kind == "block":
            of = f" of {blocks_total}" if blocks_total else ""
            return f"cut at block {self.block}{of}"
        if self.kind == "state":
            return f"cut when State becomes {self.state}"
        if self.kind == "after-execute":
            return f"cut {self.delay_ms:g} ms after Execute"
        if self.kind == "console":
            return f"cut when the log matches /{self.pattern}/"
        if self.kind == "after-power-on":
            return f"cut {self.delay_ms:g} ms after the recovery's power-on"
        if self.kind == "bootstrap":
            return f"cut during the bootstrap after Execute, before its {self.step}"
        return f"cut at flash operation {self.flash_op}{' (torn)' if self.torn else ''}"

    def describe_nested(self) -> str:
        """The second cut of a nested plan, as the tail of the first one's description."""
        if self.kind == "flash-op":
            return f"then at flash operation {self.flash_op} of the recovery boot{' (torn)' if self.torn else ''}"
        return f"then {self.delay_ms:g} ms after the recovery's power-on"


@dataclass(frozen=True)
class NetworkFault:
    kind: str
    block: int
    delay_ms: float = 0.0


@dataclass(frozen=True)
class FaultPlan:
    """`then`: a second cut during the recovery boot after `cut` (a nested plan: an interrupted resume)."""

    name: str
    cut: Cut | None = None
    network: tuple[NetworkFault, ...] = ()
    off_time: float = 0.2
    seed: int = 0
    then: Cut | None = None

    def describe(self, blocks_total: int | None = None) -> str:
        if self.cut is None:
            return "no cut"
        return self.cut.describe(blocks_total) + (f", {self.then.describe_nested()}" if self.then else "")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FaultPlan":
        try:
            cut, then = data.get("cut"), data.get("then")
            network = tuple(NetworkFault(**n) for n in data.get("network", ()))
            plan = cls(
                name=str(data["name"]),
                cut=Cut(**cut) if cut else None,
                network=network,
                off_time=float(data.get("off_time", 0.2)),
                seed=int(data.get("seed", 0)),
                then=Cut(**then) if then else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RigError(f"fault plan {data!r} is malformed: {exc}") from None
        plan.validate()
        return plan

    def validate(self) -> None:
        if self.cut is not None and self.cut.kind not in CUT_KINDS:
            raise RigError(f"fault plan {self.name!r}: cut kind {self.cut.kind!r} is not one of {', '.join(CUT_KINDS)}")
        if self.cut is not None and self.cut.kind == "bootstrap" and self.cut.step not in BOOTSTRAP_STEPS:
            raise RigError(f"fault plan {self.name!r}: a bootstrap cut's step is one of {', '.join(BOOTSTRAP_STEPS)}, "
                           f"not {self.cut.step!r}")
        if self.then is not None and (self.cut is None or self.then.kind not in NESTED_KINDS):
            raise RigError(f"fault plan {self.name!r}: a nested cut needs a first cut and is one of "
                           f"{', '.join(NESTED_KINDS)}, not {self.then.kind!r}")
        for fault in self.network:
            if fault.kind not in NET_KINDS:
                raise RigError(f"fault plan {self.name!r}: network fault {fault.kind!r} is not one of {', '.join(NET_KINDS)}")
        if self.off_time < 0:
            raise RigError(f"fault plan {self.name!r}: off_time must be >= 0")


def even_block_cuts(blocks_total: int, points: int, seed: int = 0, prefix: str = "download") -> list[FaultPlan]:
    """`points` cuts spread evenly over the download's blocks (first and last included when points > 1)."""
    if blocks_total <= 0 or points <= 0:
        return []
    points = min(points, blocks_total)
    if points == 1:
        nums = [blocks_total // 2]
    else:
        nums = sorted({round(i * (blocks_total - 1) / (points - 1)) for i in range(points)})
    return [FaultPlan(f"{prefix}-block-{n:05d}", Cut("block", block=n), seed=seed) for n in nums]


def check_block_cuts(plans: list[FaultPlan], blocks_total: int, block_size: int) -> None:
    """Refuse, before anything runs, a plan that cuts at a block the transfer does not have."""
    for plan in plans:
        if plan.cut is not None and plan.cut.kind == "block" and plan.cut.block >= blocks_total:
            raise RigError(f"fault plan {plan.name!r}: block {plan.cut.block} is past the last block of the transfer "
                           f"(blocks 0..{blocks_total - 1} at {block_size} bytes): it could never fire")


def nested_cuts(swap_ops: int | None, window_ms: float, points: int, seed: int = 0) -> list[FaultPlan]:
    """`points` plans that cut inside the swap and again inside the recovery boot that resumes it.

    With `swap_ops` (the virtual board): the first cut at a flash op spread over the swap, the
    second at the op half way through what is left for the resume to do. Else by time: a cut in
    the swap window after Execute, then half the rest of the window after the recovery's power-on.
    """
    if points <= 0:
        return []
    plans = []
    if swap_ops:
        step = swap_ops / min(points, swap_ops)
        for first in sorted({min(swap_ops - 1, max(1, int((i + 0.5) * step))) for i in range(min(points, swap_ops))}):
            second = max(1, (swap_ops - first) // 2)
            plans.append(FaultPlan(f"nested-op-{first:05d}-then-{second:05d}", Cut("flash-op", flash_op=first),
                                   seed=seed, then=Cut("flash-op", flash_op=second)))
        return plans
    step = window_ms / points
    for i in range(points):
        first = round((i + 0.5) * step, 1)
        second = round(max(1.0, (window_ms - first) / 2), 1)
        plans.append(FaultPlan(f"nested-{int(first):05d}ms-then-{int(second):05d}ms", Cut("after-execute", delay_ms=first),
                               seed=seed, then=Cut("after-power-on", delay_ms=second)))
    return plans


def state_cuts(states: tuple[int, ...] = (1, 2, 3), seed: int = 0) -> list[FaultPlan]:
    return [FaultPlan(f"state-{s}", Cut("state", state=s), seed=seed) for s in states]


def execute_window_cuts(window_ms: float, points: int, seed: int = 0) -> list[FaultPlan]:
    """Cuts spread over `window_ms` after Execute: the bootloader's swap lives there."""
    if points <= 0:
        return []
    # Mid-points (neither before nor after the window), named by their fraction of it: boards with different
    # swap times (shards of one campaign on several places) agree on which case is which.
    fractions = [(i + 0.5) / points for i in range(points)]
    return [FaultPlan(f"swap-{f * 100:06.3f}pct", Cut("after-execute", delay_ms=round(f * window_ms, 1)), seed=seed)
            for f in fractions]


def flash_op_cuts(total_ops: int, points: int, seed: int = 0, torn: bool = False) -> list[FaultPlan]:
    """Cuts at flash operations spread over a swap of `total_ops` ops (measured: rig.campaign.measure).

    Mid-points of equal intervals, as execute_window_cuts: an exact op of the bootloader's
    work instead of a delay, so the cut lands at the same place under any machine load.
    """
    if total_ops <= 0 or points <= 0:
        return []
    step = total_ops / min(points, total_ops)
    ops = sorted({min(total_ops - 1, int((i + 0.5) * step)) for i in range(min(points, total_ops))})
    suffix = "-torn" if torn else ""
    return [FaultPlan(f"swap-op-{n:05d}{suffix}", Cut("flash-op", flash_op=n, torn=torn), seed=seed) for n in ops]


def first_boot_cuts(swap_ops: int, points: int, seed: int = 0) -> list[FaultPlan]:
    """Cuts at the first flash writes of the new image after the swap (ops swap_ops, swap_ops+1, ...).

    That is where an update commits: the image confirms itself and Object 5 stores
    Update Result 1. A device that stores success before confirming (and so reverts
    yet says success after a cut there) is caught only by a cut in this window.
    """
    # The second write first: the first is often the same on every device (its confirm or its result);
    # where the order differs is after it.
    order = [swap_ops + 1, swap_ops, swap_ops + 2] + list(range(swap_ops + 3, swap_ops + max(3, points)))
    return [FaultPlan(f"first-boot-op-{n:05d}", Cut("flash-op", flash_op=n), seed=seed)
            for n in sorted(order[: max(0, points)])]


def bootstrap_cuts(seed: int = 0) -> list[FaultPlan]:
    """Cuts during the bootstrap that follows the update's reboot: with the old account deleted (before the writes)
    and with the new one written but not finished (before Bootstrap-Finish)."""
    return [FaultPlan(f"bootstrap-before-{step}", Cut("bootstrap", step=step), seed=seed) for step in ("write", "finish")]


def random_block_cuts(blocks_total: int, points: int, seed: int) -> list[FaultPlan]:
    """Random cut blocks from a seed: the same seed gives the same plans."""
    rng = random.Random(seed)
    nums = sorted(rng.sample(range(blocks_total), min(points, blocks_total)))
    return [FaultPlan(f"random-block-{n:05d}", Cut("block", block=n), seed=seed) for n in nums]


def random_window_cuts(window_ms: float, points: int, seed: int) -> list[FaultPlan]:
    """Random delays after Execute within the swap window, from a seed."""
    rng = random.Random(seed ^ 0x5A5A)
    fractions = sorted(rng.random() for _ in range(points))  # named by fraction of the window, as above
    return [FaultPlan(f"random-swap-{f * 100:07.4f}pct", Cut("after-execute", delay_ms=round(f * window_ms, 1)),
                      seed=seed) for f in fractions]


def random_flash_op_cuts(swap_ops: int, points: int, seed: int) -> list[FaultPlan]:
    """Random flash operations of the swap (virtual board), from a seed."""
    rng = random.Random(seed ^ 0x5A5A)
    ops = sorted(rng.sample(range(1, max(swap_ops, points) + 1), points))
    return [FaultPlan(f"random-op-{n:05d}", Cut("flash-op", flash_op=n), seed=seed) for n in ops]


def dense_around(center: int, width: int, points: int, limit: int, seed: int = 0) -> list[FaultPlan]:
    """Cuts packed around block `center` (e.g. the end of the download)."""
    lo, hi = max(0, center - width), min(limit - 1, center + width)
    nums = sorted({lo + round(i * (hi - lo) / max(points - 1, 1)) for i in range(points)})
    return [FaultPlan(f"dense-block-{n:05d}", Cut("block", block=n), seed=seed) for n in nums]
