"""junit.xml: one testcase per case, so CI shows failures per cut point with the bug-report message."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from rig.report.atomic import write_atomic
from rig.results import CaseResult


def write_junit(path: Path, suite: str, results: list[CaseResult]) -> None:
    failures = sum(r.outcome == "fail" for r in results)
    errors = sum(r.outcome == "error" for r in results)
    total_time = sum(r.duration for r in results)
    root = ET.Element("testsuites", tests=str(len(results)), failures=str(failures), errors=str(errors), time=f"{total_time:.3f}")
    ts = ET.SubElement(root, "testsuite", name=suite, tests=str(len(results)), failures=str(failures), errors=str(errors), time=f"{total_time:.3f}")
    for r in results:
        case = ET.SubElement(ts, "testcase", classname=suite, name=r.name, time=f"{r.duration:.3f}")
        text = "\n".join(f"[{v.rule}] {v.detail}" for v in r.violations)
        if r.outcome == "fail":
            el = ET.SubElement(case, "failure", message=(r.message or (r.violations[0].detail if r.violations else "failed"))[:500])
            el.text = text
        elif r.outcome == "error":
            el = ET.SubElement(case, "error", message=(r.error or "error")[:500])
            el.text = r.error or ""
        if r.console_log:
            out = ET.SubElement(case, "system-out")
            out.text = f"console log: {r.console_log}\ntimeline: {r.timeline_file or ''}"
    ET.indent(root)
    write_atomic(path, ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")
