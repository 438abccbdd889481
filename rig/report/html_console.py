"""Console lines around the cut: what the board printed just before the power went and as it came back.

The whole log is a link away; the excerpt is what a bug report quotes.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

from rig.timeline import Event

BEFORE, AFTER, TAIL = 8, 16, 12


@dataclass(frozen=True)
class ConsoleLine:
    t: float | None
    text: str


def read_console_lines(report_dir: Path, relative: object, events: list[Event]) -> tuple[list[ConsoleLine], str]:
    """The case's console lines and where they came from: console.log ("<t> <line>"), else the timeline's copy."""
    if relative and isinstance(relative, str):
        try:
            text = (report_dir / relative).read_text(encoding="utf-8", errors="replace")
            return [_parse(line) for line in text.splitlines()], relative
        except OSError:
            pass
    lines = [ConsoleLine(e.t, str(e.data.get("line", ""))) for e in events if e.kind == "console"]
    return lines, "timeline (console.log missing)" if isinstance(relative, str) and relative else "timeline"


def _parse(line: str) -> ConsoleLine:
    stamp, _, rest = line.partition(" ")
    try:
        return ConsoleLine(float(stamp), rest)
    except ValueError:
        return ConsoleLine(None, line)


def excerpt(lines: list[ConsoleLine], cut: float | None) -> tuple[list[ConsoleLine], int | None]:
    """Lines from BEFORE lines ahead of the cut to AFTER lines past it, and where the cut falls in them.

    Without a cut (or timestamps) the log's tail is what matters: how the case ended.
    """
    if cut is None or not any(line.t is not None for line in lines):
        return lines[-TAIL:], None
    at = next((i for i, line in enumerate(lines) if line.t is not None and line.t >= cut), len(lines))
    start = max(at - BEFORE, 0)
    return lines[start:at + AFTER], at - start


def console_html(lines: list[ConsoleLine], cut: float | None, source: str, t0: float | None) -> str:
    """The excerpt as a <pre>; times are seconds from the case's start, so they match the picture's axis."""
    if not lines:
        return f'<p class="missing">no console lines ({escape(source)})</p>'
    shown, cut_at = excerpt(lines, cut)
    if t0 is None:
        t0 = next((line.t for line in lines if line.t is not None), None)
    out = []
    for i, line in enumerate(shown):
        if i == cut_at:
            out.append('<span class="cutline">----- power cut -----</span>')
        stamp = f"{line.t - t0:8.3f}" if line.t is not None and t0 is not None else " " * 8
        out.append(f'<span class="ts">{stamp}</span> {escape(line.text)}')
    if cut_at == len(shown):
        out.append('<span class="cutline">----- power cut -----</span>')
    where = "around the cut" if cut_at is not None else "last lines"
    return (f'<div class="meta">console, {where} ({len(shown)} of {len(lines)} lines, from {escape(source)})</div>'
            f'<pre class="console">' + "\n".join(out) + "</pre>")
