"""`rig run` on the virtual board: images, server, board, baseline, then the cut plans."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Callable

from rig.campaign.images import make_images
from rig.campaign.measure import blocks_of, swap_window_ms
from rig.campaign.runner import RunRecord, now_iso, run_cases
from rig.campaign.suite import DEFAULT_POINTS, power_cut_plans, select
from rig.campaign.virtual_place import virtual_place
from rig.config import load_target
from rig.timeline import Timeline


async def run_virtual(args: argparse.Namespace, target_file: Path, progress: Callable) -> RunRecord:
    report_dir: Path = args.report_dir
    report_dir.mkdir(parents=True, exist_ok=True)
    target = load_target(target_file)
    firmware = report_dir / "firmware"
    images = await asyncio.to_thread(make_images, firmware, target.layout, args.image_size)
    points = DEFAULT_POINTS if args.points is None else args.points
    params = {
        "suite": args.suite, "target_file": str(target_file), "mode": args.mode, "block_size": args.block_size,
        "image_size": args.image_size, "points": points, "seed": args.seed, "spread": args.spread,
        "defects": list(args.sim_defect), "images": {"base": images.base_version, "new": images.new_version},
        "started": now_iso(),
    }
    record = RunRecord(target.name, report_dir, params)
    timeline = Timeline()
    try:
        async with virtual_place(target_file, report_dir, firmware, images.base, timeline, tuple(args.sim_defect)) as session:
            baseline = power_cut_plans(0, 0, 0, args.seed)
            await run_cases(session, select(baseline, args.keyword) or baseline, images, record, args.mode, args.block_size, progress)
            window = swap_window_ms(timeline.events(), session.endpoint)
            record.params["swap_window_ms"] = round(window, 1)
            plans = power_cut_plans(blocks_of(images.new.stat().st_size, args.block_size), points, window, args.seed, args.spread)
            await run_cases(session, select(plans, args.keyword), images, record, args.mode, args.block_size, progress)
    except (asyncio.CancelledError, KeyboardInterrupt):
        record.stopped = record.stopped or "interrupted"
        raise
    finally:
        timeline.save(report_dir / "timeline.jsonl")
        record.write()
    return record
