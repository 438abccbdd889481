"""What the pytest plugin opens: the place named by --rig-place/--rig-target (the virtual board by default).

Kept out of rig/pytest_plugin.py so that loading the plugin (pytest loads it for
every test run of every project that has the rig installed) imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rig.campaign import measure
from rig.campaign.images import run_images
from rig.campaign.suite import baseline_plans, power_cut_plans
from rig.config import Place
from rig.errors import RigError
from rig.faults import FaultPlan, check_block_cuts
from rig.history.paths import history_path
from rig.packages.base import CaseImages
from rig.place.open import open_place
from rig.place.resolve import resolve_place
from rig.run.history import HistoryChoice, note_probe, start_history
from rig.run.in_thread import PlaceRunner
from rig.run.record import RunRecord, now_iso
from rig.target_files import find_target, shipped
from rig.timeline import Timeline


@dataclass(frozen=True)
class PluginOptions:
    target: Path | None
    place: str | None
    rig_file: Path | None
    report_dir: Path
    mode: str = "pull"
    block_size: int = 512
    image_size: int = 32 * 1024
    defects: tuple[str, ...] = ()
    base_image: Path | None = None
    new_image: Path | None = None
    history: Path | None = None  # None: $RIG_HISTORY or the user's data directory
    no_history: bool = False

    def images(self, place: Place) -> CaseImages:
        """The user's own packages when given (real boards boot only real firmware), else ones made for the
        target's package format."""
        firmware = self.report_dir / "firmware"
        if (self.base_image is None) != (self.new_image is None):
            raise RigError("give both --rig-base-image and --rig-new-image, or neither")
        return run_images(place.target, place.target_file, place.layout, firmware, self.image_size,
                          self.base_image, self.new_image)


def open_place_runner(opts: PluginOptions) -> PlaceRunner:
    """The place named by the options, opened like every command opens one (the virtual board starts its own)."""
    target_file = find_target(opts.target) if opts.target else (shipped("virtual") if opts.place is None else None)
    if target_file is not None and not target_file.is_file():
        raise RigError(f"--rig-target {target_file}: no such target file")
    place = resolve_place(opts.place, opts.rig_file, target_file, opts.report_dir)
    images = opts.images(place)
    params = {"suite": "pytest", "place": place.name, "target_file": str(place.target_file), "mode": opts.mode,
              "block_size": opts.block_size, "image_size": opts.image_size, "defects": list(opts.defects),
              "started": now_iso(), "images": {"base": images.base_version, "new": images.new_version}}
    record = RunRecord(place.target_name, opts.report_dir, params)
    # The session's cases go into the history of nights like a `rig run`'s (one transaction per case).
    start_history(HistoryChoice(history_path(opts.history, opts.no_history), "pytest"), record, place.name, images)
    runner = PlaceRunner(lambda: open_place(place, Timeline(), opts.report_dir, images.new.parent,
                                            base_image=images.base, defects=opts.defects),
                         images, record, opts.mode, opts.block_size).start()
    note_probe(record, runner.session)
    return runner


def suite_plans(runner: PlaceRunner, points: int) -> list[FaultPlan]:
    """The standard suite for this place, measured on its own baseline (run once, first)."""
    if not any(r.name == "baseline-no-cut" for r in runner.record.results):
        runner.run(baseline_plans()[0])
    params = runner.record.params
    assert runner.session is not None
    measure.measure_baseline(params, runner.session.timeline.events(), runner.session.endpoint, runner.mode,
                             runner.images.new.name, runner.block_size)
    size = params["download_block_size"]
    blocks = measure.blocks_of(runner.images.new.stat().st_size, size)
    plans = power_cut_plans(blocks, points, params["swap_window_ms"])
    check_block_cuts(plans, blocks, size)
    return plans
