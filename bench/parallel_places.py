"""Parallel places: two `rig run` processes (two virtual boards) at once against one alone, as a throughput ratio.

Throughput is completed cases per second of wall time. One run alone, then two
at once, then one alone again (the reference is the mean of the two single
runs, so load from elsewhere that comes and goes hits both sides). A ratio of
2.0 would be perfect scaling; the machine has 2 cores that the rig, its boards
and the MCU processes share.

    .venv/bin/python bench/parallel_places.py [--points 6] [--image-size 256K]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_helpers import IMAGE_SIZE, finish_rig_run, load_average, rig_run, start_rig_run  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=6)
    ap.add_argument("--image-size", default=IMAGE_SIZE)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        first = rig_run(root / "single-1", args.points, args.image_size)
        started = [start_rig_run(root / f"pair-{i}", args.points, args.image_size) for i in (1, 2)]
        pair = [finish_rig_run(proc, t0, root / f"pair-{i}") for i, (proc, t0) in zip((1, 2), started)]
        second = rig_run(root / "single-2", args.points, args.image_size)
    singles = [len(r.results) / r.wall_s for r in (first, second)]
    single = sum(singles) / len(singles)
    pair_wall = max(r.wall_s for r in pair)
    together = sum(len(r.results) for r in pair) / pair_wall
    failed = sum(r.returncode != 0 for r in (first, second, *pair))
    print(f"rig run --points {args.points} --image-size {args.image_size}; load average {load_average()}"
          + (f"; {failed} run(s) exited non-zero" if failed else ""))
    print(f"  one place alone: {first.wall_s:.1f} s and {second.wall_s:.1f} s for {len(first.results)} cases "
          f"({60 * single:.1f} cases/min)")
    print(f"  two places at once: {pair[0].wall_s:.1f} s and {pair[1].wall_s:.1f} s "
          f"({60 * together:.1f} cases/min together)")
    print(f"parallel places: two at once give {together / single:.2f}x the throughput of one")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
