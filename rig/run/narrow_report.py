"""Write a narrow's probes into the report of the run it narrows, marked as probes of that case.

The probes run in DIR/narrow-CASE (their own report, board and logs); the
run's report.json, junit.xml and report.html get them too, after the run's own
cases, each with "narrow_of": CASE and its files found under narrow-CASE/, and
the run table gets a "narrows" entry with the boundary in words. The run's own
results and its completeness are left as they were; narrowing the same case
again replaces its earlier probes.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from rig.campaign.merge import FILE_KEYS
from rig.campaign.previous_run import load_previous_run
from rig.results import CaseResult
from rig.run.record import RunRecord

COMPUTED = ("rig_version", "stopped", "complete", "expected", "not_run", "not_planned_yet")


def add_probes(run_dir: Path, case: str, narrow_dir: Path, probes: list[CaseResult], summary: dict[str, Any]) -> None:
    prev = load_previous_run(run_dir)
    prefix = narrow_dir.relative_to(run_dir)
    kept = [r for r in prev.results if r.narrow_of != case]
    added = [replace(r, narrow_of=case, **{k: str(prefix / getattr(r, k)) for k in FILE_KEYS if getattr(r, k)})
             for r in probes]
    params = {k: v for k, v in prev.params.items() if k not in COMPUTED}
    narrows = [n for n in params.get("narrows") or [] if isinstance(n, dict) and n.get("case") != case]
    params["narrows"] = narrows + [summary]
    record = RunRecord(str(prev.report.get("target") or "?"), run_dir, params, results=kept + added)
    record.expected = prev.params.get("expected")
    record.planned = [str(n) for n in prev.params.get("not_run") or []]
    record.finished = bool(prev.params.get("complete"))
    record.stopped = prev.params.get("stopped")
    record.write()
