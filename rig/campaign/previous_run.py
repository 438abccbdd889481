"""Read a previous run back from its report.json: for `rig run --resume DIR` and `--replay DIR/report.json#CASE`.

Both must repeat the original exactly (same images, same plans, same seed), so
they take everything from the report and its firmware directory, and say in one
line what is missing when a report cannot be used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rig.campaign.spec import CampaignSpec
from rig.errors import RigError
from rig.faults import FaultPlan
from rig.report.json_report import REPORT_FILE, load_run_report
from rig.results import CaseResult


MEASUREMENTS = ("swap_window_ms", "swap_flash_ops", "download_block_size", "download_block_size_from")


@dataclass
class PreviousRun:
    report_dir: Path
    report: dict[str, Any]
    spec: CampaignSpec
    results: list[CaseResult]

    @property
    def params(self) -> dict[str, Any]:
        return self.report.get("run", {})

    @property
    def measured(self) -> dict[str, Any]:
        """What the run measured on its baseline (swap window, flash ops of a swap): reused, not measured again."""
        return {k: self.params[k] for k in MEASUREMENTS if self.params.get(k) is not None}

    def case(self, name: str) -> CaseResult:
        for result in self.results:
            if result.name == name:
                return result
        known = ", ".join(r.name for r in self.results[:8]) + (" ..." if len(self.results) > 8 else "")
        raise RigError(f"{self.report_dir / 'report.json'}: no case {name!r} (cases: {known or 'none'})")

    def plan(self, name: str) -> FaultPlan:
        result = self.case(name)
        if not result.plan:
            raise RigError(f"{self.report_dir / 'report.json'}: case {name!r} carries no plan to replay")
        return FaultPlan.from_dict(result.plan)


def load_previous_run(report_dir: Path) -> PreviousRun:
    report, results = load_run_report(report_dir)
    return PreviousRun(report_dir, report, CampaignSpec.from_params(report["run"], str(report_dir / REPORT_FILE)), results)


def parse_replay_ref(ref: str) -> tuple[Path, str]:
    """`DIR/report.json#CASE` (or `DIR#CASE`) -> (DIR, CASE)."""
    path, sep, case = ref.partition("#")
    if not sep or not case:
        raise RigError(f"--replay {ref!r}: name the case after '#', e.g. rig-results/report.json#download-block-00012")
    p = Path(path)
    return (p.parent if p.name == "report.json" else p), case
