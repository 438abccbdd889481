"""The cut matrix: one row per case, grouped by the phase the device had really reached when the power went.

Grouping by the reached phase (not the planned one) is the point: a "block 65"
cut that landed after the download finished belongs with the Downloaded rows.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from rig.lwm2m.object5 import RESULT_NAMES, STATE_NAMES

PHASE_ORDER = ("downloading", "downloaded", "updating")
NO_CUT = "no cut"
NOT_REACHED = "cut not reached"
COLUMNS = ("case", "cut", "booted version", "State", "Update Result", "flash verdict", "time to recover", "outcome")


def case_anchor(index: int, name: Any) -> str:
    """A unique, safe id for a case's section: names are free text, ids must not be."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(name)).strip("-")[:60]
    return f"case-{index}-{slug}" if slug else f"case-{index}"


def phase_group(result: dict[str, Any]) -> str:
    if not result.get("cut"):
        return NO_CUT
    return str(result.get("phase") or NOT_REACHED)  # planned, but the power never went: worth its own group


def group_by_phase(results: list[dict[str, Any]]) -> list[tuple[str, list[tuple[int, dict[str, Any]]]]]:
    """Groups in update order (downloading, downloaded, updating, other phases, cut not reached, no cut).

    Inside a group the rows keep the run order, which is the order of the cut points.
    """
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for index, result in enumerate(results):
        groups.setdefault(phase_group(result), []).append((index, result))
    tail = (NOT_REACHED, NO_CUT)
    others = sorted(g for g in groups if g not in PHASE_ORDER and g not in tail)
    order = [g for g in PHASE_ORDER if g in groups] + others + [g for g in tail if g in groups]
    return [(g, groups[g]) for g in order]


def describe_cut(cut: Any) -> str:
    if not isinstance(cut, dict):
        return "none"
    kind = cut.get("kind")
    if kind == "block":
        return f"block {cut.get('block')}"
    if kind == "state":
        return f"State -> {cut.get('state')}"
    if kind == "after-execute":
        return f"{cut.get('delay_ms')} ms after Execute"
    if kind == "console":
        return f"console /{cut.get('pattern')}/"
    if kind == "flash-op":
        return f"flash op {cut.get('flash_op')}" + (" (torn)" if cut.get("torn") else "")
    if kind == "after-power-on":
        return f"{cut.get('delay_ms')} ms after power-on"
    if kind == "bootstrap":
        return f"bootstrap, before its {cut.get('step')}"
    return str(kind)


def describe_plan_cut(result: dict[str, Any]) -> str:
    """The cut, and a nested plan's second cut in the recovery boot."""
    plan = result.get("plan") if isinstance(result.get("plan"), dict) else {}
    then = plan.get("then")
    return describe_cut(result.get("cut")) + (f", then {describe_cut(then)} of the recovery" if then else "")


def named(value: Any, names: dict[int, str]) -> str:
    if value is None:
        return "-"
    if isinstance(value, int) and value in names:
        return f"{value} {names[value]}"
    return str(value)


def seconds(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.2f} s"
    return "-" if value is None else str(value)


OUTCOMES = ("pass", "fail", "error", "skip")


def outcome_of(result: dict[str, Any]) -> str:
    outcome = str(result.get("outcome") or "unknown")
    return outcome if outcome in OUTCOMES else "unknown"


def _verdict(result: dict[str, Any]) -> str:
    """The flash verdict, linked to the slot dump when the case kept one (a failing cell's evidence)."""
    verdict = escape(str(result.get("flash_verdict") or "-"))
    dump = result.get("flash_dump")
    if dump and isinstance(dump, str):
        return f'<a class="dump" href="{escape(dump, quote=True)}">{verdict}</a>'
    return verdict


def _row(index: int, result: dict[str, Any]) -> str:
    outcome = outcome_of(result)
    anchor = case_anchor(index, result.get("name"))
    cells = [
        f'<a href="#{anchor}">{escape(str(result.get("name")))}</a>',
        escape(describe_plan_cut(result)),
        escape(str(result.get("booted_version") or "-")),
        escape(named(result.get("state"), STATE_NAMES)),
        escape(named(result.get("update_result"), RESULT_NAMES)),
        _verdict(result),
    ]
    tds = "".join(f"<td>{c}</td>" for c in cells)
    tds += f'<td class="num">{escape(seconds(result.get("recover_time")))}</td>'
    tds += f'<td class="outcome"><a href="#{anchor}">{escape(outcome)}</a></td>'
    title = escape(str(result.get("message") or ""), quote=True)
    return f'<tr class="case-row outcome-{outcome}" data-case="{escape(anchor)}" title="{title}">{tds}</tr>'


def matrix_html(results: list[dict[str, Any]]) -> str:
    """The matrix table; each group is its own <tbody data-phase=...> so tests and readers can find it."""
    if not results:
        return '<p class="missing">no cases ran</p>'
    head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
    out = [f'<table class="matrix"><thead><tr>{head}</tr></thead>']
    for group, rows in group_by_phase(results):
        counts = {o: sum(outcome_of(r) == o for _, r in rows) for o in OUTCOMES}
        tally = ", ".join(f"{n} {o}" for o, n in counts.items() if n)
        out.append(f'<tbody class="phase" data-phase="{escape(group)}">')
        out.append(f'<tr class="group"><th colspan="{len(COLUMNS)}">{escape(group)}: {len(rows)} case{"s" if len(rows) != 1 else ""}'
                   f"{' (' + tally + ')' if tally else ''}</th></tr>")
        out.extend(_row(index, result) for index, result in rows)
        out.append("</tbody>")
    out.append("</table>")
    return "\n".join(out)
