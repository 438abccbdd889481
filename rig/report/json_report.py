"""report.json: every case's outcome, written after each case so Ctrl-C leaves a usable partial report.

The summary counts each outcome apart (a skip is never a pass) and the cases
not yet run; the "run" table says whether the run is complete.

A night has hundreds of cases and the file is rewritten after each one, so
`JsonReportWriter` serializes a case once and keeps its text: a rewrite joins
strings instead of encoding every earlier case again (encoding is most of the
cost; the write itself is a few milliseconds even at a thousand cases).
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


class JsonReportWriter:
    """write_json_report with each case's JSON text kept between writes (a case object is encoded once)."""

    def __init__(self) -> None:
        self._texts: dict[str, tuple[CaseResult, str]] = {}

    def write(self, path: Path, target: str, results: list[CaseResult], run: dict[str, Any],
              extra: dict[str, Any] | None = None, not_run: int = 0) -> None:
        head = {"target": target, "run": run, "summary": {**summarize(results), "not_run": not_run},
                "results": _PLACEHOLDER, **(extra or {})}
        text = json.dumps(head, indent=2, sort_keys=False, default=str)
        cases = ",\n".join(self._text(r) for r in results)
        body = f"[\n{cases}\n  ]" if results else "[]"
        write_atomic(path, text.replace(json.dumps(_PLACEHOLDER), body, 1) + "\n")

    def _text(self, result: CaseResult) -> str:
        kept = self._texts.get(result.name)
        if kept is not None and kept[0] is result:
            return kept[1]
        text = json.dumps(result.to_dict(), indent=2, default=str).replace("\n", "\n    ")
        self._texts[result.name] = (result, "    " + text)
        return "    " + text


_PLACEHOLDER = "\x00rig-results\x00"


def summarize(results: list[CaseResult]) -> dict[str, int]:
    counts = {"pass": 0, "fail": 0, "error": 0, "skip": 0}
    for r in results:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    counts["total"] = len(results)
    return counts


def read_json_report(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))
