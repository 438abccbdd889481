"""What changed at a place: new failures, fixes, flaky plans, and since when each failing rule fails.

Read against the latest campaign run (`rig run` or the pytest plugin; replays and
narrows repeat cases, they are not nights):
- new: failing now (fail or error), passing at that plan's most recent earlier
  run here; a plan that never ran here before and fails is new too, said so;
- fixed: passing now, failing at its most recent earlier run;
- flaky: one plan with the same images (SHA-256 of base and new) ending in
  different outcomes within the window, replays and narrow probes included;
- rules: for each rule broken now, the run its current streak began in (walking
  back over each plan that breaks it now while that plan kept breaking it) with
  that run's image versions, and the last run before it where those plans passed.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from rig.history.queries import NIGHTLY, CaseRow, RunRow, cases_of_plans, cases_of_run, cases_of_runs, last_runs, run_by_id

FAILING = ("fail", "error")


@dataclass
class Change:
    name: str
    plan_key: str
    outcome: str
    phase: str | None
    rules: list[str]
    message: str | None
    before: dict[str, Any] | None  # {"run", "started", "outcome", "images"}; None: the plan never ran here before

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class Flaky:
    plan_key: str
    names: list[str]
    images: str
    outcomes: dict[str, int]
    runs: list[int]

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class RuleOrigin:
    rule: str
    cases: list[str]  # failing with it in the latest run
    first_run: dict[str, Any]  # {"run", "started", "images", "source"}
    last_clean: dict[str, Any] | None  # the run before the streak, where those plans did not break it
    runs_failing: int  # runs in the streak

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class PlaceHistory:
    place: str
    target: str
    runs: list[RunRow]
    latest: RunRow | None
    new: list[Change] = field(default_factory=list)
    fixed: list[Change] = field(default_factory=list)
    flaky: list[Flaky] = field(default_factory=list)
    rules: list[RuleOrigin] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"place": self.place, "target": self.target, "runs": [r.to_dict() for r in self.runs],
                "latest_run": self.latest.id if self.latest else None,
                "new": [c.to_dict() for c in self.new], "fixed": [c.to_dict() for c in self.fixed],
                "flaky": [f.to_dict() for f in self.flaky], "rules": [r.to_dict() for r in self.rules]}


def place_history(conn: sqlite3.Connection, place: str, target: str, last: int = 10) -> PlaceHistory:
    runs = last_runs(conn, place, target, last)
    nightly = last_runs(conn, place, target, 1, NIGHTLY)
    latest = nightly[-1] if nightly else None
    out = PlaceHistory(place, target, runs, latest)
    out.flaky = _flaky(cases_of_runs(conn, [r.id for r in runs]), {r.id: r for r in runs})
    if latest is None:
        return out
    now = [c for c in cases_of_run(conn, latest.id) if c.narrow_of is None]
    earlier: dict[str, list[CaseRow]] = defaultdict(list)
    for case in cases_of_plans(conn, place, target, [c.plan_key for c in now], before=latest.started, sources=NIGHTLY):
        if case.run_id != latest.id:
            earlier[case.plan_key].append(case)  # newest first
    run_cache: dict[int, RunRow | None] = {r.id: r for r in runs}

    def run_info(run_id: int) -> dict[str, Any]:
        if run_id not in run_cache:
            run_cache[run_id] = run_by_id(conn, run_id)
        run = run_cache[run_id]
        return {"run": run_id, "started": run.started if run else None, "images": run.versions() if run else "?",
                "source": run.source if run else None}

    for case in now:
        before = earlier[case.plan_key][0] if earlier[case.plan_key] else None
        change = Change(case.name, case.plan_key, case.outcome, case.phase, list(case.rules), case.message,
                        {**run_info(before.run_id), "outcome": before.outcome} if before else None)
        if case.outcome in FAILING and (before is None or before.outcome == "pass"):
            out.new.append(change)
        elif case.outcome == "pass" and before is not None and before.outcome in FAILING:
            out.fixed.append(change)
    out.rules = _rules(now, earlier, latest, run_info)
    return out


def _rules(now: list[CaseRow], earlier: dict[str, list[CaseRow]], latest: RunRow, run_info) -> list[RuleOrigin]:
    by_rule: dict[str, list[CaseRow]] = defaultdict(list)
    for case in now:
        if case.outcome in FAILING:
            for rule in case.rules:
                by_rule[rule].append(case)
    origins = []
    for rule, cases in sorted(by_rule.items()):
        best: tuple[tuple[str, int], CaseRow | None] | None = None
        streak_runs = {latest.id}
        for case in cases:
            start, clean = (latest.started, latest.id), None
            for old in earlier[case.plan_key]:  # newest first: back while this plan kept breaking the rule
                if old.outcome in FAILING and rule in old.rules:
                    start = (old.started, old.run_id)
                    streak_runs.add(old.run_id)
                else:
                    clean = old
                    break
            if best is None or start < best[0]:
                best = (start, clean)
        assert best is not None
        (_, first_id), clean = best
        origins.append(RuleOrigin(rule, [c.name for c in cases], run_info(first_id),
                                  {**run_info(clean.run_id), "outcome": clean.outcome, "case": clean.name}
                                  if clean else None, len(streak_runs)))
    return origins


def _flaky(cases: list[CaseRow], runs: dict[int, RunRow]) -> list[Flaky]:
    groups: dict[tuple[str, str, str], list[CaseRow]] = defaultdict(list)
    for case in cases:
        run = runs.get(case.run_id)
        base, new = run.image_shas() if run else (None, None)
        if base and new and case.outcome in ("pass", *FAILING):  # unknown images are never "the same images"
            groups[(case.plan_key, base, new)].append(case)
    out = []
    for (key, _, _), group in groups.items():
        outcomes = defaultdict(int)
        for case in group:
            outcomes[case.outcome] += 1
        if len(outcomes) > 1:
            run_ids = sorted({c.run_id for c in group})
            out.append(Flaky(key, sorted({c.name for c in group}), runs[run_ids[-1]].versions(), dict(outcomes), run_ids))
    return sorted(out, key=lambda f: f.plan_key)
