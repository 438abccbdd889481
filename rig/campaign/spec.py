"""What a run is, as data: enough to repeat it (`--resume`, `--replay`) from its report.json alone.

A weekend campaign stopped by Ctrl-C on Saturday night and a failing cell reproduced
on Monday both need the exact parameters of the original run, not whatever the
command line says today; so they are written into report.json and read back here.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from rig.errors import RigError

SUITES = ("standard", "power-cut", "conformance")
SPREADS = ("even", "random", "dense")
DENSE_AROUND = ("download-start", "download-end", "execute")


@dataclass(frozen=True)
class CampaignSpec:
    suite: str = "standard"
    target_file: str = ""
    mode: str = "pull"
    scheme: str = "coap"  # how a pull travels (and the board registers): coap or coaps (DTLS PSK)
    block_size: int = 512
    image_size: int = 32 * 1024
    points: int = 8
    seed: int = 0
    spread: str = "even"
    dense_around: str = "download-end"
    swap_cuts: str = "time"  # "time" (ms after Execute) or "flash-op" (exact, virtual board only)
    defects: tuple[str, ...] = field(default_factory=tuple)
    keyword: str | None = None
    base_image: str | None = None  # the user's signed images (hardware); None: generated for the target
    new_image: str | None = None
    place: str | None = None
    exitfirst: bool = False
    shard: str | None = None  # "I/N": this run's share of the cut plans (rig.campaign.shard)
    nested: int = 0  # plans that cut the swap, then the recovery boot again
    allow_skips: bool = False  # a run whose conformance cases were all skipped may pass
    sim_queue_mode: bool = False  # the virtual board registers in queue mode and sleeps between wake-ups
    sim_bootstrap: bool = False  # the virtual board bootstraps through the rig's bootstrap server at every boot
    sim_dir: str | None = None  # a `rig sim` board the run attached to (--sim-dir): a resume or replay goes back to it
    server_host: str | None = None  # where the run's server listened (--host/--port), when it was told
    server_port: int | None = None

    def to_params(self) -> dict[str, Any]:
        data = asdict(self)
        data["defects"] = list(self.defects)
        return data

    @classmethod
    def from_params(cls, params: dict[str, Any], source: str) -> "CampaignSpec":
        """The spec a report.json's "run" table was made with; unknown keys (results of the run) are ignored."""
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in params.items() if k in known}
        data["defects"] = tuple(data.get("defects") or ())
        try:
            spec = cls(**data)
        except TypeError as exc:
            raise RigError(f"{source}: the run table cannot be read back: {exc}") from None
        spec.check(source)
        return spec

    @classmethod
    def from_args(cls, args: argparse.Namespace, target_file: Path, default_points: int) -> "CampaignSpec":
        spec = cls(
            suite=args.suite, target_file=str(target_file), mode=args.mode, scheme=args.scheme, block_size=args.block_size,
            image_size=args.image_size, points=default_points if args.points is None else args.points,
            seed=args.seed, spread=args.spread, dense_around=args.dense_around, swap_cuts=args.swap_cuts,
            defects=tuple(args.sim_defect), keyword=args.keyword, place=args.place, exitfirst=args.exitfirst,
            shard=getattr(args, "shard", None), nested=args.nested, allow_skips=args.allow_skips,
            sim_queue_mode=getattr(args, "sim_queue_mode", False), sim_bootstrap=getattr(args, "sim_bootstrap", False),
            sim_dir=str(args.sim_dir) if getattr(args, "sim_dir", None) else None,
            server_host=getattr(args, "host", None), server_port=getattr(args, "port", None),
            base_image=str(args.base_image) if args.base_image else None,
            new_image=str(args.new_image) if args.new_image else None,
        )
        spec.check("the command line")
        return spec

    def check(self, source: str) -> None:
        if self.points < 0:
            raise RigError(f"{source}: points {self.points} must be 0 or more")
        if self.nested < 0:
            raise RigError(f"{source}: nested {self.nested} must be 0 or more")
        if self.spread not in SPREADS:
            raise RigError(f"{source}: spread {self.spread!r} is not one of {', '.join(SPREADS)}")
        if self.dense_around not in DENSE_AROUND:
            raise RigError(f"{source}: dense-around {self.dense_around!r} is not one of {', '.join(DENSE_AROUND)}")
        if self.swap_cuts not in ("time", "flash-op"):
            raise RigError(f"{source}: swap-cuts {self.swap_cuts!r} is not 'time' or 'flash-op'")
        if self.suite not in SUITES:
            raise RigError(f"{source}: suite {self.suite!r} is not one of {', '.join(SUITES)}")
        if self.scheme not in ("coap", "coaps"):
            raise RigError(f"{source}: scheme {self.scheme!r} is not coap or coaps")
        if (self.base_image is None) != (self.new_image is None):
            raise RigError(f"{source}: give both --base-image and --new-image, or neither")
        if self.mode not in ("push", "pull"):
            raise RigError(f"{source}: mode {self.mode!r} is not push or pull")
