"""The trend page of `rig history --html FILE`: outcomes per night and per phase, one self-contained file.

Inline CSS and SVG, no scripts: like report.html it travels as a CI artifact.
Per place/target: stacked bars of pass / fail / error / skip for each run, the
same split by the phase the device had reached when the power went, then the
new failures, fixes, flaky plans and failing rules `rig history` prints.
"""

from __future__ import annotations

from html import escape
from typing import Any

from rig.history.changes import PlaceHistory
from rig.history.queries import RunRow
from rig.report.html_style import CSS, OUTCOME_STRONG

OUTCOMES = ("pass", "fail", "error", "skip")
BAR_W, GAP, CHART_H, LABEL_H = 22, 6, 120, 34


def trend_page(history_file: str, places: list[PlaceHistory]) -> str:
    body = [f"<h1>rig history</h1><div class=\"meta\">{escape(history_file)}</div>"]
    for h in places:
        body.append(_place(h))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>rig history</title>"
            f"<style>{CSS}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n")


def _place(h: PlaceHistory) -> str:
    out = [f"<h2>place {escape(h.place)} · target {escape(h.target)}</h2>",
           '<div class="meta">outcomes per run (oldest left); bar height: cases</div>',
           bars_svg(h.runs, lambda r: r.counts, "all cases")]
    phases = sorted({p for r in h.runs for p in r.by_phase})
    for phase in phases:
        out.append(bars_svg(h.runs, lambda r, phase=phase: r.by_phase.get(phase, {}), f"phase reached: {phase}"))
    out.append(_runs_table(h.runs))
    out.append(_list("New since the previous run", [
        f"<b>{escape(c.outcome)}</b> {escape(c.name)} [{escape(', '.join(c.rules) or '-')}]: "
        + (f"{escape(str(c.before['outcome']))} in run #{c.before['run']} ({escape(str(c.before['images']))})"
           if c.before else "no earlier run of this plan here") for c in h.new]))
    out.append(_list("Fixed", [f"{escape(c.name)}: {escape(str(c.before['outcome']))} in run #{c.before['run']}"
                               for c in h.fixed if c.before]))
    out.append(_list("Flaky (same plan, same images)", [
        f"{escape(f.names[0])} ({escape(f.plan_key)}), {escape(f.images)}: "
        + escape(", ".join(f"{n} {o}" for o, n in sorted(f.outcomes.items()))) for f in h.flaky]))
    out.append(_list("Failing rules and since when", [
        f"<code>{escape(r.rule)}</code>: {len(r.cases)} case(s); first in run #{r.first_run['run']} "
        f"({escape(str(r.first_run['started']))}, images {escape(str(r.first_run['images']))})" for r in h.rules]))
    return "\n".join(out)


def bars_svg(runs: list[RunRow], counts_of: Any, title: str) -> str:
    """Stacked bars, one per run: pass at the bottom, then fail, error, skip; the run id under each."""
    width = max(1, len(runs)) * (BAR_W + GAP) + GAP
    top = max([sum(counts_of(r).values()) for r in runs] + [1])
    parts = [f'<svg class="trend" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{CHART_H + LABEL_H}" '
             f'role="img" aria-label="{escape(title, quote=True)}"><title>{escape(title)}</title>',
             f'<text x="{GAP}" y="12" font-size="11" fill="#333">{escape(title)}</text>']
    for i, run in enumerate(runs):
        x = GAP + i * (BAR_W + GAP)
        y = CHART_H
        counts = counts_of(run)
        for outcome in OUTCOMES:
            n = counts.get(outcome, 0)
            if not n:
                continue
            h = max(1.0, (CHART_H - 18) * n / top)
            y -= h
            parts.append(f'<rect class="bar-{outcome}" x="{x}" y="{y:.1f}" width="{BAR_W}" height="{h:.1f}" '
                         f'fill="{OUTCOME_STRONG[outcome]}"><title>run #{run.id}: {n} {outcome}</title></rect>')
        parts.append(f'<text x="{x + BAR_W / 2}" y="{CHART_H + 14}" font-size="10" text-anchor="middle">#{run.id}</text>')
        parts.append(f'<text x="{x + BAR_W / 2}" y="{CHART_H + 27}" font-size="9" text-anchor="middle" fill="#666">'
                     f'{escape(run.started[5:10])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _runs_table(runs: list[RunRow]) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("run", "started (UTC)", "kind", "suite", "images", "state", *OUTCOMES))
    rows = []
    for r in runs:
        state = "complete" if r.complete else ("no end (running, or killed)" if r.ended is None
                                               else f"stopped: {r.stopped or '?'}")
        cells = [f"#{r.id}", r.started[:19].replace("T", " "), r.source, str(r.suite), r.versions(), state]
        nums = "".join(f'<td class="num">{r.counts.get(o, 0)}</td>' for o in OUTCOMES)
        rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + nums + "</tr>")
    return f'<table class="runs"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _list(title: str, items: list[str]) -> str:
    inner = "".join(f"<li>{i}</li>" for i in items) or "<li>none</li>"
    return f"<h3>{escape(title)}</h3><ul>{inner}</ul>"
