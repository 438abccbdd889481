"""report.html's legend of rules: each rule id the run's cases broke, once, with its one line.

The lines come from rig.verdict.rules, which the report does not import (the
report sits below the verdict): whoever writes the page passes its `describe`
(rig.verdict.rules.describe). A page written without one shows no legend.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

Describe = Callable[[str], "str | None"]


def rules_in(results: list[dict[str, Any]]) -> list[str]:
    """The rule ids the results' violations name, each once, in the order met."""
    found: dict[str, None] = {}
    for result in results:
        for v in result.get("violations") or []:
            if isinstance(v, dict) and v.get("rule"):
                found.setdefault(str(v["rule"]), None)
    return list(found)


def rules_legend_html(results: list[dict[str, Any]], describe: Describe | None) -> str:
    """A definition list of the rules broken in this run; "" when nothing broke one or no `describe` was given."""
    rules = rules_in(results)
    if describe is None or not rules:
        return ""
    rows = "".join(f"<dt><code>{escape(rule)}</code></dt><dd>{escape(describe(rule) or 'not described')}</dd>"
                   for rule in rules)
    return f'<h2 id="rules">Rules broken in this run</h2><dl class="rules">{rows}</dl>'
