"""The per-case history line of report.html: how the same plan ended in this place's earlier runs.

report.json's run table names the history file and this run's row in it
("history": {"file", "run", "place", "target"}); without it, or when the file is
gone (a report copied off the Pi), the line is simply absent. Past outcomes are
read once per plan key and kept (earlier runs do not change while this one runs).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from rig.errors import RigError
from rig.history import store
from rig.history.plans import plan_identity
from rig.history.queries import CaseRow, recent_cases_of_plans, run_by_id

RUNS_SHOWN = 6  # earlier runs of the plan shown per case


@dataclass(frozen=True)
class PastCase:
    run: int
    started: str
    source: str
    outcome: str
    name: str


class PastOutcomes:
    """Earlier outcomes of plans at the report's place, looked up on demand and kept."""

    def __init__(self, run: dict[str, Any]) -> None:
        info = run.get("history") if isinstance(run.get("history"), dict) else {}
        self._file = Path(info["file"]) if info.get("file") else None
        self._run = info.get("run")
        self._place, self._target = info.get("place"), info.get("target")
        self._known: dict[str, list[PastCase]] = {}
        self._before: str | None = None
        self.problem: str | None = None

    def of(self, results: list[dict[str, Any]]) -> dict[str, list[PastCase]]:
        """Plan key -> earlier cases of that plan (oldest first), for these results."""
        if self._file is None or not self._file.is_file() or self.problem:
            return {}
        keys = [key_of(r) for r in results]
        missing = [k for k in dict.fromkeys(keys) if k not in self._known]
        if missing:
            try:
                store.read(self._file, lambda conn: self._load(conn, missing))
            except (RigError, sqlite3.Error) as exc:  # a page without history lines, never no page
                self.problem = str(exc)
                return {}
        return self._known

    def _load(self, conn: sqlite3.Connection, keys: list[str]) -> None:
        if self._before is None:
            row = run_by_id(conn, int(self._run)) if self._run is not None else None
            self._before = row.started if row else "9999"
        found: dict[str, list[CaseRow]] = {k: [] for k in keys}
        for case in recent_cases_of_plans(conn, self._place, self._target, keys, self._before, RUNS_SHOWN * 2):
            if case.run_id != self._run and len(found[case.plan_key]) < RUNS_SHOWN:
                found[case.plan_key].append(case)
        for key, cases in found.items():
            self._known[key] = [PastCase(c.run_id, c.started, c.source, c.outcome, c.name) for c in reversed(cases)]


def key_of(result: dict[str, Any]) -> str:
    return plan_identity(str(result.get("name")), result.get("plan") if isinstance(result.get("plan"), dict) else None).key


def history_line(past: list[PastCase] | None, outcome: str) -> str:
    """'this plan here before: #11 pass · #12 fail · now fail' (empty when the plan never ran here before)."""
    if not past:
        return ""
    items = []
    for case in past:
        title = f"run {case.run} ({case.source}) started {case.started}" + (f", as {case.name}" if case.name else "")
        items.append(f'<span class="past outcome-{escape(case.outcome)}" title="{escape(title, quote=True)}">'
                     f"#{case.run} {escape(case.outcome)}</span>")
    items.append(f'<span class="past outcome-{escape(outcome)}"><b>now {escape(outcome)}</b></span>')
    return f'<div class="meta history">this plan here before: {" · ".join(items)}</div>'
