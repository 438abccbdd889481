"""report.json: every case's outcome, written after each case so Ctrl-C leaves a usable partial report.

This module owns the file's format: the top-level keys, the summary, and how a
report is read back and checked (`rig report`, `rig run --resume/--replay`,
`rig merge` all read it through here). The summary counts each outcome apart (a
skip is never a pass) and the cases not yet run; the "run" table says whether
the run is complete.

A night has hundreds of cases and the file is rewritten after each one, so
`JsonReportWriter` serializes a case once and keeps its text: a rewrite joins
strings instead of encoding every earlier case again (encoding is most of the
cost; the write itself is a few milliseconds even at a thousand cases).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rig.errors import RigError
from rig.report.atomic import write_atomic
from rig.results import CaseResult

REPORT_FILE = "report.json"
OUTCOMES = ("pass", "fail", "error", "skip")


def report_body(target: Any, run: dict[str, Any], results: list[dict[str, Any]],
                extra: dict[str, Any] | None = None, not_run: int | None = None) -> dict[str, Any]:
    """The whole report from cases already as dicts (a merge adds keys of its own to them).

    not_run: cases planned but not run, counted in the summary (None: the summary has no such count).
    """
    summary: dict[str, Any] = _count([r.get("outcome") for r in results])
    if not_run is not None:
        summary["not_run"] = not_run
    return {"target": target, "run": run, "summary": summary, "results": results, **(extra or {})}


def write_report_body(path: Path, body: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(body, indent=2, sort_keys=False, default=str) + "\n")


def write_json_report(path: Path, target: str, results: list[CaseResult], run: dict[str, Any],
                      extra: dict[str, Any] | None = None, not_run: int = 0) -> None:
    """`extra` adds top-level tables (e.g. "conformance": one row per numbered case)."""
    write_report_body(path, report_body(target, run, [r.to_dict() for r in results], extra, not_run))


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
    return _count([r.outcome for r in results])


def _count(outcomes: list[Any]) -> dict[str, int]:
    """The summary's counts: each outcome apart, then the total."""
    return {**{o: outcomes.count(o) for o in OUTCOMES}, "total": len(outcomes)}


def load_report(report_dir: Path) -> dict[str, Any]:
    """The report.json of `report_dir`, checked to be a rig report (a dict with a list of results); RigError if not."""
    report_dir = Path(report_dir)
    source = report_dir / REPORT_FILE
    if not report_dir.is_dir():
        raise RigError(f"{report_dir}: no such report directory")
    try:
        report = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RigError(f"{report_dir}: no report.json there (is it a `rig run --report-dir`?)") from None
    except (OSError, ValueError) as exc:
        raise RigError(f"{source}: not a readable JSON report: {exc}") from None
    if not isinstance(report, dict) or not isinstance(report.get("results", []), list):
        raise RigError(f"{source}: not a rig report (no list of results)")
    return report


def run_table(report: dict[str, Any]) -> dict[str, Any]:
    """The report's "run" table (its parameters and how it ended); {} when it has none."""
    run = report.get("run")
    return run if isinstance(run, dict) else {}


def load_run_report(report_dir: Path) -> tuple[dict[str, Any], list[CaseResult]]:
    """A report a run can be repeated from (`--resume`, `--replay`, `rig narrow`): its body and its cases.

    Stricter than load_report: the "run" table and every case must be there as `rig run` writes them.
    """
    path = Path(report_dir) / REPORT_FILE
    if not path.is_file():
        raise RigError(f"{report_dir}: no report.json here (is it the --report-dir of an earlier rig run?)")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        results = [CaseResult.from_dict(r) for r in report["results"]]
        if not isinstance(report["run"], dict):
            raise TypeError(f"run is {type(report['run']).__name__}, not a table")
    except (ValueError, KeyError, TypeError) as exc:
        raise RigError(f"{path}: not a report written by rig run ({exc})") from None
    return report, results
