"""report.json: every case's outcome, written after each case so Ctrl-C leaves a usable partial report.

The summary counts each outcome apart (a skip is never a pass) and the cases
not yet run; the "run" table says whether the run is complete.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rig.report.atomic import write_atomic
from rig.results import CaseResult


def write_json_report(path: Path, target: str, results: list[CaseResult], run: dict[str, Any],
                      extra: dict[str, Any] | None = None, not_run: int = 0) -> None:
    """`extra` adds top-level tables (e.g. "conformance": one row per numbered case)."""
    body = {
        "target": target,
        "run": run,
        "summary": {**summarize(results), "not_run": not_run},
        "results": [r.to_dict() for r in results],
        **(extra or {}),
    }
    write_atomic(path, json.dumps(body, indent=2, sort_keys=False, default=str) + "\n")


def summarize(results: list[CaseResult]) -> dict[str, int]:
    counts = {"pass": 0, "fail": 0, "error": 0, "skip": 0}
    for r in results:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    counts["total"] = len(results)
    return counts


def read_json_report(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))
