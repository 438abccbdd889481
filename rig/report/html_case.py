"""One case's section of report.html: what happened, the picture, the broken rules, the console around the cut."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from rig.report.html_console import console_html, read_console_lines
from rig.report.html_history import PastCase, history_line
from rig.report.html_matrix import case_anchor, describe_plan_cut, outcome_of
from rig.report.html_timeline import cut_time, load_case_events, timeline_svg


def _links(result: dict[str, Any]) -> str:
    """Links to the case's raw files, relative so the report directory can be moved or zipped whole."""
    items = []
    for key, label in (("console_log", "console.log"), ("timeline_file", "timeline.jsonl"), ("flash_dump", "flash (slots.txt)")):
        value = result.get(key)
        if value:
            items.append(f'<a href="{escape(str(value), quote=True)}">{label}</a>')
    if result.get("console_dropped"):
        items.append(f"console capped: {int(result['console_dropped'])} lines dropped")
    return " · ".join(items)


def _violations(result: dict[str, Any]) -> str:
    violations = result.get("violations") or []
    if not violations:
        return ""
    items = []
    for v in violations:
        v = v if isinstance(v, dict) else {"rule": "?", "detail": str(v)}
        items.append(f"<li><code>{escape(str(v.get('rule')))}</code>: {escape(str(v.get('detail')))}</li>")
    return f'<ul class="violations">{"".join(items)}</ul>'


def _plan_meta(result: dict[str, Any]) -> str:
    plan = result.get("plan") if isinstance(result.get("plan"), dict) else {}
    parts = [f"cut: {describe_plan_cut(result)}", f"phase reached: {result.get('phase') or '-'}"]
    if result.get("place"):  # a merged report of shards: which place ran the case
        parts.insert(0, f"place: {result['place']} (shard {result.get('shard', '?')})")
    if result.get("narrow_of"):  # a probe of `rig narrow`, added to this run's report after it
        parts.insert(0, f"narrow probe of {result['narrow_of']}")
    if plan:
        parts.append(f"seed {plan.get('seed')}")
        parts.append(f"power off {plan.get('off_time')} s")
        if plan.get("network"):
            parts.append(f"network faults: {len(plan['network'])}")
    duration = result.get("duration")
    if isinstance(duration, (int, float)):
        parts.append(f"took {duration:.2f} s")
    return escape(" · ".join(str(p) for p in parts))


def _flash(result: dict[str, Any]) -> str:
    """The decoded slots of a failing case: per slot the image and its trailer, and what the next boot does."""
    flash = result.get("flash")
    if not isinstance(flash, dict):
        return ""
    lines = []
    for slot in ("primary", "secondary", "scratch"):
        info = flash.get(slot)
        if not isinstance(info, dict):
            continue
        trailer = info.get("trailer") if isinstance(info.get("trailer"), dict) else {}
        status = trailer.get("status")
        image = f"{info.get('version') or '-'} {info.get('state')}" if "state" in info else "(trailer only)"
        lines.append(f"{slot:<9} {image}; magic {trailer.get('magic')}, image_ok {trailer.get('image_ok')}, "
                     f"copy_done {trailer.get('copy_done')}, swap_info {trailer.get('swap_info')} "
                     f"({trailer.get('swap_type')}), status "
                     + (f"idx {status.get('idx')} state {status.get('state')}" if isinstance(status, dict) else "none"))
    lines.append(f"next boot: {flash.get('next_boot')}")
    return (f'<div class="meta">flash read through the probe after the case: {escape(str(flash.get("words") or ""))}'
            f'</div><pre class="flash">{escape(chr(10).join(lines))}</pre>')


def case_section(report_dir: Path, index: int, result: dict[str, Any], past: list[PastCase] | None = None) -> str:
    outcome = outcome_of(result)
    name = escape(str(result.get("name")))
    loaded = load_case_events(report_dir, result.get("timeline_file"))
    events = loaded.events
    out = [f'<section class="case outcome-{outcome}" id="{escape(case_anchor(index, result.get("name")))}">',
           '<a class="back" href="#matrix">back to the matrix</a>',
           f'<h3>{name} <span class="outcome outcome-{outcome}">{escape(outcome)}</span></h3>',
           f'<div class="meta">{_plan_meta(result)}</div>', history_line(past, outcome)]
    if result.get("message"):
        out.append(f'<div class="message">{escape(str(result["message"]))}</div>')
    if result.get("error"):
        out.append(f'<div class="message"><b>error:</b> {escape(str(result["error"]))}</div>')
    out.append(_violations(result))
    out.append(_flash(result))
    if events:
        out.append(timeline_svg(events))
    if loaded.problem:
        prefix = "" if events else "timeline missing: "
        out.append(f'<p class="missing">{prefix}{escape(loaded.problem)}</p>')
    lines, source = read_console_lines(report_dir, result.get("console_log"), events)
    out.append(console_html(lines, cut_time(events), source, events[0].t if events else None))
    links = _links(result)
    if links:
        out.append(f'<div class="meta">files: {links}</div>')
    out.append("</section>")
    return "\n".join(o for o in out if o)
