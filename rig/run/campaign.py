"""`rig run` on a place: images, server, board, baseline, then the cut plans and the conformance cases.

The place is the virtual board (started here) unless a rig-file place or a
non-virtual target is given; either way it is opened through rig.place.open with
the same registries the bench commands use.

The baseline case also measures the board (the swap window after Execute, the
flash operations of one swap) so cuts "over the swap" cover what this board
really does; the measurements go into report.json so `--resume` spreads the rest
of the cuts exactly as the interrupted run would have.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import AsyncContextManager, Callable, Protocol

from rig.campaign import measure
from rig.campaign.images import per_run_test_key, run_images
from rig.campaign.negative_images import run_negatives
from rig.campaign.shard import shard_of
from rig.campaign.spec import CampaignSpec
from rig.campaign.suite import baseline_plans, merged_points, power_cut_plans, select
from rig.config import Place, Target, load_target
from rig.conformance import CASES, ConformanceContext, select_cases
from rig.errors import RigError
from rig.faults import FaultPlan, bootstrap_cuts, check_block_cuts
from rig.lwm2m.device_modes import DeviceModes
from rig.packages.base import CaseImages
from rig.place.open import OwnBoard, open_place
from rig.place.resolve import self_started_board
from rig.place.session import PlaceSession
from rig.results import CaseResult
from rig.run.conformance import run_conformance
from rig.run.cut_plans import run_cut_plans
from rig.run.history import HistoryChoice, note_probe, start_history
from rig.run.record import RunRecord, now_iso
from rig.timeline import Timeline


class PlanSource(Protocol):
    """Plans chosen one at a time from the outcomes so far (`rig narrow`'s search): `next()` None ends it."""

    narrow_of: str | None

    def next(self) -> FaultPlan | None: ...

    def seen(self, result: CaseResult) -> None: ...


class OnePlan:
    """--replay: one plan, once."""

    narrow_of = None

    def __init__(self, plan: FaultPlan) -> None:
        self._plan: FaultPlan | None = plan

    def next(self) -> FaultPlan | None:
        plan, self._plan = self._plan, None
        return plan

    def seen(self, result: CaseResult) -> None:
        pass


async def run_campaign(
    spec: CampaignSpec, report_dir: Path, progress: Callable | None = None, *,
    previous: list[CaseResult] | None = None, measured: dict | None = None,
    replay: FaultPlan | None = None, firmware: Path | None = None, extra_params: dict | None = None,
    place: Place | None = None, probes: PlanSource | None = None, history: HistoryChoice | None = None,
    notes: Callable[[str], None] | None = None,
) -> RunRecord:
    """`replay`: one plan of an earlier run; `probes`: plans chosen one by one (both on the earlier run's images,
    in one place session). `history`: where the run is recorded. `notes`: lines for the user while it runs."""
    if replay is not None and replay.name.startswith("conf-"):
        raise RigError(f"--replay {replay.name}: conformance cases are rerun with `rig run conformance -k {replay.name}`")
    report_dir.mkdir(parents=True, exist_ok=True)
    target_file = Path(spec.target_file)
    target = load_target(target_file)
    firmware = firmware or report_dir / "firmware"
    source = probes if probes is not None else OnePlan(replay) if replay is not None else None
    reuse = previous is not None or source is not None
    # The virtual board started here checks signatures like an MCUboot built with a key: a per-run test key.
    key = per_run_test_key(firmware) if place is None and not spec.base_image else None
    images = await asyncio.to_thread(
        run_images, target.data, target_file, target.layout, firmware, spec.image_size,
        Path(spec.base_image) if spec.base_image else None, Path(spec.new_image) if spec.new_image else None,
        reuse, key)
    params = {**spec.to_params(), "images": {"base": images.base_version, "new": images.new_version},
              "firmware_dir": str(firmware), "started": now_iso(), **(measured or {}), **(extra_params or {})}
    record = RunRecord(place.target_name if place else target.name, report_dir, params, results=list(previous or []))
    record.expected = 1 if replay is not None else None if probes is not None else _expected_cases(spec)
    record.exitfirst = spec.exitfirst
    record.narrow_of = source.narrow_of if source is not None else None
    record.plan([replay.name] if replay is not None else [] if probes is not None else _names_known_now(spec))
    start_history(history, record, place.name if place else "virtual", images)
    record.write()  # from the first moment on, report.json says the run is not complete
    timeline = Timeline()
    timeline.spill_to(report_dir / ("timeline.jsonl" if replay is None else "replay-timeline.jsonl"))
    went_to_end = False
    try:
        async with _open(place, target_file, report_dir, firmware, images, timeline, spec, key) as session:
            note_probe(record, session)
            await _run(session, spec, images, target, firmware, record, progress, key, source, notes)
        went_to_end = True
    except (asyncio.CancelledError, KeyboardInterrupt):
        record.stopped = record.stopped or "interrupted"
        raise
    except RigError as exc:
        record.stopped = record.stopped or f"rig error: {exc}"
        raise
    finally:
        timeline.save(report_dir / ("timeline.jsonl" if replay is None else "replay-timeline.jsonl"))
        record.finish() if went_to_end else record.close()
    return record


async def _run(session: PlaceSession, spec: CampaignSpec, images: CaseImages, target: Target, firmware: Path,
               record: RunRecord, progress: Callable | None, key: Path | None, source: PlanSource | None,
               notes: Callable[[str], None] | None) -> None:
    run = lambda plans: run_cut_plans(session, plans, images, record, spec.mode, spec.block_size, progress)  # noqa: E731
    if source is not None:
        while not record.halted and (plan := source.next()) is not None:
            if "download_block_size" in record.params:
                size = record.params["download_block_size"]
                check_block_cuts([plan], measure.blocks_of(images.new.stat().st_size, size), size)
            await run([plan])
            source.seen(record.results[-1])
        return
    if spec.suite in ("standard", "power-cut"):
        baseline = baseline_plans(spec.seed)
        await run(select(baseline, spec.keyword) or baseline)
        if record.halted:
            return
        _measure(record, session, spec, images)
        size = record.params["download_block_size"]
        blocks = measure.blocks_of(images.new.stat().st_size, size)
        swap_ops = record.params.get("swap_flash_ops") if spec.swap_cuts == "flash-op" else None
        made = power_cut_plans(blocks, spec.points, record.params["swap_window_ms"], spec.seed, spec.spread,
                               spec.dense_around, swap_ops, spec.nested)[1:]
        merged = merged_points(made, spec.points, spec.nested, blocks, size, swap_ops)
        if merged is not None:
            record.params["cut_points"] = merged.to_dict()
            if notes is not None:
                notes(merged.words)
        plans = select(made + (bootstrap_cuts(spec.seed) if session.bootstrap is not None else []), spec.keyword)
        plans = shard_of(spec.shard).take(plans)
        check_block_cuts(plans, blocks, size)
        record.plan([p.name for p in plans], after=baseline[0].name)
        record.expected = len(record.planned)  # every case is known now: fewer than estimated when points merged
        await run(plans)
    if spec.suite in ("standard", "conformance") and not record.halted and shard_of(spec.shard).runs_conformance:
        await _conformance(session, spec, images, target, firmware, record, progress, key)


def _open(place: Place | None, target_file: Path, report_dir: Path, firmware: Path, images: CaseImages,
          timeline: Timeline, spec: CampaignSpec, key: Path | None) -> AsyncContextManager[PlaceSession]:
    own = OwnBoard(key, spec.sim_queue_mode, spec.sim_bootstrap) if place is None else OwnBoard()
    return open_place(place or self_started_board(target_file, report_dir), timeline, report_dir, firmware,
                      base_image=images.base, defects=spec.defects, scheme=spec.scheme, own_board=own)


async def _conformance(session: PlaceSession, spec: CampaignSpec, images, target: Target, firmware: Path,
                       record: RunRecord, progress: Callable | None, key: Path | None) -> None:
    """The numbered conformance cases with their bad packages (served from firmware/negative), made for the
    target's package format; with the key the board trusts, the wrong-key and downgrade packages become cases
    too. A kind the format cannot make leaves its case a skip that says why."""
    negative = await asyncio.to_thread(run_negatives, target.data, target.path, target.layout, firmware / "negative",
                                       spec.image_size, images.base_version, images.new_version, key)
    ctx = ConformanceContext(images, negative.made, mode=spec.mode, block_size=spec.block_size,
                             abilities={"signature-check"} if key is not None else set(),
                             negative_missing=negative.missing)
    await run_conformance(session, ctx, record, progress, spec.keyword)


def _names_known_now(spec: CampaignSpec) -> list[str]:
    """The cases named before anything ran: the baseline and the conformance cases (cut plans follow the baseline's
    measurements)."""
    names = []
    if spec.suite in ("standard", "power-cut"):
        baseline = baseline_plans(spec.seed)
        names += [p.name for p in (select(baseline, spec.keyword) or baseline)]
    if spec.suite in ("standard", "conformance") and shard_of(spec.shard).runs_conformance:
        names += [c.name for c in select_cases(CASES, spec.keyword)]
    return names


def _expected_cases(spec: CampaignSpec) -> int:
    """How many cases the run will have (exact unless the image has fewer blocks than cut points)."""
    total = 0
    shard = shard_of(spec.shard)
    if spec.suite in ("standard", "power-cut"):
        plans = power_cut_plans(10**6, spec.points, 1000.0, spec.seed, spec.spread, spec.dense_around,
                                10**6 if spec.swap_cuts == "flash-op" else None, spec.nested)
        if spec.sim_bootstrap or _bootstraps(spec.target_file):
            plans += bootstrap_cuts(spec.seed)
        total += 1 + len(shard.take(select(plans[1:], spec.keyword)))
    if spec.suite in ("standard", "conformance") and shard.runs_conformance:
        total += len(select_cases(CASES, spec.keyword))
    return total


def _bootstraps(target_file: str) -> bool:
    """Whether the target's device bootstraps through the rig (its cut plans then include cuts during bootstrap)."""
    return DeviceModes.from_target(load_target(Path(target_file)).data, target_file).bootstrap


def _measure(record: RunRecord, session: PlaceSession, spec: CampaignSpec, images: CaseImages) -> None:
    """Window and flash ops of one swap and the download's block size, from this run's baseline (or kept from
    the run being resumed)."""
    measure.measure_baseline(record.params, session.timeline.events(), session.endpoint, spec.mode, images.new.name,
                             spec.block_size)
    if spec.swap_cuts == "flash-op" and not record.params.get("swap_flash_ops"):
        raise RigError("--swap-cuts flash-op: the baseline did not report how many flash operations a swap takes")
