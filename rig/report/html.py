"""report.html: the run for people, as one self-contained file (inline CSS and SVG, no scripts, no network).

It is rebuilt from report.json and the per-case timelines, so it can be
refreshed while a run goes on (a Ctrl-C leaves a readable partial report) and
regenerated later from an old report directory with `rig report DIR`. A running
campaign passes a PageCache (rig.report.html_sections) so each case is drawn
once; each case shows how its plan ended in earlier runs when report.json names
a history (rig.report.html_history).
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from rig.report.atomic import write_atomic
from rig.report.html_case import case_section
from rig.report.html_history import PastCase, PastOutcomes, key_of
from rig.report.html_matrix import OUTCOMES, case_anchor, matrix_html, outcome_of
from rig.report.html_rules import Describe, rules_legend_html
from rig.report.html_sections import PageCache
from rig.report.html_style import CSS
from rig.report.html_timeline import legend_html
from rig.report.json_report import load_report, run_table


def write_html_report(report_dir: Path, cache: PageCache | None = None, describe_rule: Describe | None = None) -> Path:
    """Write report_dir/report.html from report_dir/report.json; RigError when there is no usable report.json.

    describe_rule (rig.verdict.rules.describe) gives the legend's line for each rule the run's cases broke.
    """
    report_dir = Path(report_dir)
    report = load_report(report_dir)
    path = report_dir / "report.html"
    write_atomic(path, render_report(report, report_dir, cache, describe_rule))
    return path


def render_report(report: dict[str, Any], report_dir: Path, cache: PageCache | None = None,
                  describe_rule: Describe | None = None) -> str:
    results = [r for r in report.get("results") or [] if isinstance(r, dict)]
    run = run_table(report)
    past = (cache.past(run) if cache is not None else PastOutcomes(run)).of(results)
    target = str(report.get("target") or "?")
    body = [
        f"<h1>rig report: {escape(target)}</h1>",
        _status(run, results),
        _params(target, run),
        '<h2 id="matrix">Cut matrix</h2>',
        '<div class="meta">rows grouped by the phase the device had actually reached when the power went; '
        "click a case for its timeline</div>",
        matrix_html(results),
    ]
    conformance = report.get("conformance")
    if isinstance(conformance, list) and conformance:
        body += ['<h2 id="conformance">Conformance</h2>', conformance_html(conformance)]
    legend = rules_legend_html(results, describe_rule)
    if legend:
        body.append(legend)
    body += ['<h2 id="cases">Cases</h2>', legend_html()]
    for i, r in enumerate(results):
        before = past.get(key_of(r)) if past else None
        draw = lambda i=i, r=r, before=before: _case_or_note(report_dir, i, r, before)  # noqa: E731
        if cache is None:
            body.append(draw())
        else:
            key = (i, r.get("outcome"), r.get("duration"), r.get("message"), r.get("timeline_file"), r.get("narrow_of"),
                   tuple(before or ()))
            body.append(cache.section(report_dir, key, str(r.get("name")), draw))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>rig report: {escape(target)}</title><style>{CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def _case_or_note(report_dir: Path, index: int, result: dict[str, Any], past: list[PastCase] | None = None) -> str:
    """One case's section; a case the renderer trips over gets a note, so the report of a weekend run still appears."""
    try:
        return case_section(report_dir, index, result, past)
    except Exception as exc:  # noqa: BLE001 - the runner refreshes report.html after each case; never abort for it
        anchor = escape(case_anchor(index, result.get("name")))
        return (f'<section class="case outcome-{outcome_of(result)}" id="{anchor}"><h3>{escape(str(result.get("name")))}'
                f'</h3><p class="missing">could not draw this case: {escape(repr(exc))}</p></section>')


def _status(run: dict[str, Any], results: list[dict[str, Any]]) -> str:
    counts = {o: sum(outcome_of(r) == o for r in results) for o in OUTCOMES}
    spans = "".join(f'<span class="outcome-{o}"><b>{n}</b> {o}</span>' for o, n in counts.items())
    not_run = run.get("not_run") if isinstance(run.get("not_run"), list) else []
    if not_run or run.get("not_planned_yet"):
        spans += f'<span class="outcome-skip"><b>{len(not_run) + int(run.get("not_planned_yet") or 0)}</b> not run</span>'
    out = f'<div class="counts"><span><b>{len(results)}</b> cases</span>{spans}</div>'
    if run.get("stopped") or run.get("complete") is False:
        where = run.get("stopped") or "the run did not finish (in progress, or killed)"
        out += f'<p class="stopped">partial report: {escape(str(where))}'
        if not_run:
            out += f"; not run: {escape(', '.join(map(str, not_run[:12])))}{' ...' if len(not_run) > 12 else ''}"
        out += "</p>"
    return out


def _params(target: str, run: dict[str, Any]) -> str:
    images = run.get("images")
    if isinstance(images, dict):
        images = " -> ".join(f"{k} {v}" for k, v in images.items())
    rows = [
        ("target", f"{target} ({run.get('target_file', '?')})"),
        ("suite", run.get("suite")),
        ("images", images),
        ("mode / block size", f"{run.get('mode', '?')} / {run.get('block_size', '?')} bytes"
         + (f" (the download used {run['download_block_size']}, chosen by the "
            f"{run.get('download_block_size_from', 'client')})" if run.get("download_block_size") else "")),
        ("cut points", f"{run.get('points', '?')}, spread {run.get('spread', '?')}, seed {run.get('seed', '?')}"),
        ("swap window", f"{run['swap_window_ms']} ms" if run.get("swap_window_ms") is not None else None),
        ("defects", ", ".join(map(str, run.get("defects") or [])) or "none"),
        ("shards", ", ".join(f"{s.get('shard')} on {s.get('place')}" for s in run["shards"] if isinstance(s, dict))
         if isinstance(run.get("shards"), list) else None),
        ("narrowed", "; ".join(f"{n.get('case')}: {n.get('boundary')}" for n in run["narrows"] if isinstance(n, dict))
         if isinstance(run.get("narrows"), list) and run["narrows"] else None),
        ("distinct cut points", (run["cut_points"] or {}).get("why") if isinstance(run.get("cut_points"), dict) else None),
        ("rig version", run.get("rig_version")),
        ("started", run.get("started")),
        ("finished", "complete" if run.get("complete") else f"stopped: {run.get('stopped') or 'unknown'}"),
    ]
    cells = "".join(f"<tr><td>{escape(k)}</td><td>{escape(str(v))}</td></tr>" for k, v in rows if v is not None)
    return f'<table class="params">{cells}</table>'


def conformance_html(rows: list[Any]) -> str:
    """The conformance cases (numbered as the LwM2M 1.0 enabler tests), coloured like the matrix."""
    out = ['<table class="conformance"><thead><tr><th>id</th><th>title</th><th>outcome</th><th>detail</th>'
           "</tr></thead><tbody>"]
    for row in rows:
        row = row if isinstance(row, dict) else {"id": "?", "detail": str(row)}
        outcome = outcome_of(row)
        out.append(f'<tr class="conf-row outcome-{outcome}"><td>{escape(str(row.get("id", "")))}</td>'
                   f'<td>{escape(str(row.get("title", "")))}</td><td class="outcome">{escape(str(row.get("outcome", "")))}</td>'
                   f'<td>{escape(str(row.get("detail") or ""))}</td></tr>')
    out.append("</tbody></table>")
    return "\n".join(out)
