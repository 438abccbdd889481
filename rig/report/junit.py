"""junit.xml: one testcase per case, so CI shows failures per cut point with the bug-report message.

A skipped case is <skipped message="why">, never a passed testcase. While a run
is incomplete (in progress, stopped, killed) the cases not yet run are listed
as skipped "not run: ..." and one error testcase says the run did not finish,
so a CI reader sees red for a nightly job that died half-way.

The file is rewritten after every case; JunitWriter keeps each case's text, so a
rewrite at the thousandth case costs about what it did at the first.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr
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
    JunitWriter().write(path, suite, results, not_run)


class JunitWriter:
    """junit.xml with each case's <testcase> text kept between writes: a rewrite after the thousandth case
    joins texts instead of building and indenting a thousand elements again."""

    def __init__(self) -> None:
        self._texts: dict[str, tuple[CaseResult, str, str]] = {}

    def write(self, path: Path, suite: str, results: list[CaseResult], not_run: NotRun | None = None) -> None:
        failures = sum(r.outcome == "fail" for r in results)
        errors = sum(r.outcome == "error" for r in results) + (1 if not_run else 0)
        skipped = sum(r.outcome == "skip" for r in results) + (len(not_run.names) if not_run else 0)
        tests = len(results) + (len(not_run.names) + 1 if not_run else 0)
        total_time = sum(r.duration for r in results)
        counts = {"tests": str(tests), "failures": str(failures), "errors": str(errors), "skipped": str(skipped),
                  "time": f"{total_time:.3f}"}
        cases = [self._text(suite, r) for r in results]
        if not_run is not None:
            for name in not_run.names:
                case = ET.Element("testcase", classname=suite, name=name, time="0.000")
                ET.SubElement(case, "skipped", message=not_run.message[:500])
                cases.append(_text(case))
            case = ET.Element("testcase", classname=suite, name=INCOMPLETE_CASE, time="0.000")
            ET.SubElement(case, "error", message=not_run.error[:500]).text = not_run.error
            cases.append(_text(case))
        attrs = "".join(f' {k}="{v}"' for k, v in counts.items())
        write_atomic(path, "<?xml version='1.0' encoding='utf-8'?>\n"
                           f"<testsuites{attrs}>\n  <testsuite name={quoteattr(suite)}{attrs}>\n{''.join(cases)}"
                           "  </testsuite>\n</testsuites>\n")

    def _text(self, suite: str, result: CaseResult) -> str:
        kept = self._texts.get(result.name)
        if kept is not None and kept[0] is result and kept[1] == suite:
            return kept[2]
        text = _text(_testcase(suite, result))
        self._texts[result.name] = (result, suite, text)
        return text


def _text(case: ET.Element) -> str:
    ET.indent(case, space="  ", level=2)
    return "    " + ET.tostring(case, encoding="unicode").rstrip() + "\n"


def _testcase(suite: str, r: CaseResult) -> ET.Element:
    case = ET.Element("testcase", classname=suite, name=r.name, time=f"{r.duration:.3f}")
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
    return case
