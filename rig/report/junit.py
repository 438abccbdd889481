"""junit.xml: one testcase per case, so CI shows failures per cut point with the bug-report message.

A skipped case is <skipped message="why">, never a passed testcase. While a run
is incomplete (in progress, stopped, killed) the cases not yet run are listed
as skipped "not run: ..." and one error testcase says the run did not finish,
so a CI reader sees red for a nightly job that died half-way.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from rig.report.atomic import write_atomic
from rig.results import CaseResult

INCOMPLETE_CASE = "rig-run-incomplete"


@dataclass(frozen=True)
class NotRun:
    """What an incomplete run still owes: the names not run, their skip message, the run's error message."""

    names: list[str]
    message: str
    error: str


def write_junit(path: Path, suite: str, results: list[CaseResult], not_run: NotRun | None = None) -> None:
    failures = sum(r.outcome == "fail" for r in results)
    errors = sum(r.outcome == "error" for r in results) + (1 if not_run else 0)
    skipped = sum(r.outcome == "skip" for r in results) + (len(not_run.names) if not_run else 0)
    tests = len(results) + (len(not_run.names) + 1 if not_run else 0)
    total_time = sum(r.duration for r in results)
    counts = {"tests": str(tests), "failures": str(failures), "errors": str(errors), "skipped": str(skipped),
              "time": f"{total_time:.3f}"}
    root = ET.Element("testsuites", **counts)
    ts = ET.SubElement(root, "testsuite", name=suite, **counts)
    for r in results:
        case = ET.SubElement(ts, "testcase", classname=suite, name=r.name, time=f"{r.duration:.3f}")
        text = "\n".join(f"[{v.rule}] {v.detail}" for v in r.violations)
        if r.outcome == "fail":
            el = ET.SubElement(case, "failure", message=(r.message or (r.violations[0].detail if r.violations else "failed"))[:500])
            el.text = text
        elif r.outcome == "error":
            el = ET.SubElement(case, "error", message=(r.error or "error")[:500])
            el.text = "\n".join(t for t in (r.error or "", r.message or "") if t)
        elif r.outcome == "skip":
            ET.SubElement(case, "skipped", message=(r.message or "skipped")[:500])
        if r.console_log:
            out = ET.SubElement(case, "system-out")
            out.text = f"console log: {r.console_log}\ntimeline: {r.timeline_file or ''}" + (
                f"\nflash: {r.flash_dump}" if r.flash_dump else "")
    if not_run is not None:
        for name in not_run.names:
            case = ET.SubElement(ts, "testcase", classname=suite, name=name, time="0.000")
            ET.SubElement(case, "skipped", message=not_run.message[:500])
        case = ET.SubElement(ts, "testcase", classname=suite, name=INCOMPLETE_CASE, time="0.000")
        ET.SubElement(case, "error", message=not_run.error[:500]).text = not_run.error
    ET.indent(root)
    write_atomic(path, ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")
