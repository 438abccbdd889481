"""`rig run` on the virtual board: images, server, board, baseline, then the cut plans.

The baseline case also measures the board (the swap window after Execute, the
flash operations of one swap) so cuts "over the swap" cover what this board
really does; the measurements go into report.json so `--resume` spreads the rest
of the cuts exactly as the interrupted run would have.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Callable

from rig.campaign import measure
from rig.campaign.images import make_images
from rig.campaign.runner import RunRecord, now_iso, run_cases
from rig.campaign.session import PlaceSession
from rig.campaign.spec import CampaignSpec
from rig.campaign.suite import baseline_plans, power_cut_plans, select
from rig.campaign.virtual_place import virtual_place
from rig.config import load_target
from rig.faults import FaultPlan
from rig.results import CaseResult
from rig.timeline import Timeline


async def run_virtual(
    spec: CampaignSpec, report_dir: Path, progress: Callable | None = None, *,
    previous: list[CaseResult] | None = None, measured: dict | None = None,
    replay: FaultPlan | None = None, firmware: Path | None = None, extra_params: dict | None = None,
) -> RunRecord:
    report_dir.mkdir(parents=True, exist_ok=True)
    target_file = Path(spec.target_file)
    target = load_target(target_file)
    firmware = firmware or report_dir / "firmware"
    reuse = previous is not None or replay is not None
    images = await asyncio.to_thread(make_images, firmware, target.layout, spec.image_size, reuse=reuse)
    params = {**spec.to_params(), "images": {"base": images.base_version, "new": images.new_version},
              "firmware_dir": str(firmware), "started": now_iso(), **(measured or {}), **(extra_params or {})}
    record = RunRecord(target.name, report_dir, params, results=list(previous or []))
    timeline = Timeline()
    try:
        async with virtual_place(target_file, report_dir, firmware, images.base, timeline, spec.defects) as session:
            run = lambda plans: run_cases(session, plans, images, record, spec.mode, spec.block_size, progress)  # noqa: E731
            if replay is not None:
                await run([replay])
                return record
            baseline = baseline_plans(spec.seed)
            await run(select(baseline, spec.keyword) or baseline)
            _measure(record, session, spec)
            plans = power_cut_plans(
                measure.blocks_of(images.new.stat().st_size, spec.block_size), spec.points,
                record.params["swap_window_ms"], spec.seed, spec.spread, spec.dense_around,
                record.params.get("swap_flash_ops") if spec.swap_cuts == "flash-op" else None,
            )
            await run(select(plans[1:], spec.keyword))
    except (asyncio.CancelledError, KeyboardInterrupt):
        record.stopped = record.stopped or "interrupted"
        raise
    finally:
        timeline.save(report_dir / ("timeline.jsonl" if replay is None else "replay-timeline.jsonl"))
        record.write()
    return record


def _measure(record: RunRecord, session: PlaceSession, spec: CampaignSpec) -> None:
    """Window and flash ops of one swap, from this run's baseline (or kept from the run being resumed)."""
    events = session.timeline.events()
    if "swap_window_ms" not in record.params:
        record.params["swap_window_ms"] = round(measure.swap_window_ms(events, session.endpoint), 1)
    ops_of = getattr(measure, "swap_flash_ops", None)
    if "swap_flash_ops" not in record.params and ops_of is not None:
        record.params["swap_flash_ops"] = ops_of(events, session.endpoint)
    if spec.swap_cuts == "flash-op" and not record.params.get("swap_flash_ops"):
        from rig.errors import RigError

        raise RigError("--swap-cuts flash-op: the baseline did not report how many flash operations a swap takes")
