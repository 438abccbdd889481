"""Read the history: the places and targets in it, a place's last runs with counts, and the cases of plans.

Plain rows out (dataclasses), no judgement: rig.history.changes decides what is
new, fixed or flaky from them. Every function takes an open connection, so a
caller reads one consistent snapshot (rig.history.store.read).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Iterable

NIGHTLY = ("run", "pytest")  # runs of a campaign; replays and narrows repeat cases of one


@dataclass
class RunRow:
    id: int
    started: str
    ended: str | None
    place: str
    target: str
    suite: str | None
    source: str
    complete: bool
    stopped: str | None
    probe_uid: str | None
    rig_version: str | None
    report_dir: str | None
    images: dict[str, dict[str, str | None]] = field(default_factory=dict)  # role -> {version, sha256}
    counts: dict[str, int] = field(default_factory=dict)  # outcome -> cases
    by_phase: dict[str, dict[str, int]] = field(default_factory=dict)  # phase -> outcome -> cases

    def versions(self) -> str:
        base, new = (self.images.get(r, {}).get("version") for r in ("base", "new"))
        return f"{base or '?'} -> {new or '?'}" if base or new else "?"

    def image_shas(self) -> tuple[str | None, str | None]:
        return self.images.get("base", {}).get("sha256"), self.images.get("new", {}).get("sha256")

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "started": self.started, "ended": self.ended, "place": self.place, "target": self.target,
                "suite": self.suite, "source": self.source, "complete": self.complete, "stopped": self.stopped,
                "probe_uid": self.probe_uid, "rig_version": self.rig_version, "report_dir": self.report_dir,
                "images": self.images, "counts": self.counts, "by_phase": self.by_phase}


@dataclass(frozen=True)
class CaseRow:
    run_id: int
    started: str  # the run's start
    source: str
    name: str
    plan_key: str
    plan_kind: str
    plan_at: float | None
    phase: str | None
    outcome: str
    rules: tuple[str, ...]
    message: str | None
    narrow_of: str | None


def places(conn: sqlite3.Connection, place: str | None = None, target: str | None = None) -> list[tuple[str, str]]:
    """(place, target) pairs in the history, the most recently run first."""
    rows = conn.execute("SELECT place, target, MAX(started) AS last FROM runs WHERE (? IS NULL OR place = ?)"
                        " AND (? IS NULL OR target = ?) GROUP BY place, target ORDER BY last DESC",
                        (place, place, target, target)).fetchall()
    return [(r["place"], r["target"]) for r in rows]


def last_runs(conn: sqlite3.Connection, place: str, target: str, limit: int,
              sources: Iterable[str] | None = None) -> list[RunRow]:
    """The last `limit` runs of a place/target (optionally of some sources only), oldest first, with counts."""
    marks = _marks(sources)
    rows = conn.execute(
        f"SELECT * FROM runs WHERE place = ? AND target = ? {marks[0]} ORDER BY started DESC, id DESC LIMIT ?",
        (place, target, *marks[1], limit)).fetchall()
    runs = [_run(r) for r in reversed(rows)]
    _fill(conn, runs)
    return runs


def run_by_id(conn: sqlite3.Connection, run_id: int) -> RunRow | None:
    row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        return None
    run = _run(row)
    _fill(conn, [run])
    return run


def cases_of_run(conn: sqlite3.Connection, run_id: int) -> list[CaseRow]:
    return [_case(r) for r in conn.execute(_CASES + " WHERE c.run_id = ? ORDER BY c.id", (run_id,)).fetchall()]


def cases_of_plans(conn: sqlite3.Connection, place: str, target: str, keys: Iterable[str],
                   before: str | None = None, sources: Iterable[str] | None = None) -> list[CaseRow]:
    """Every case of these plans at this place/target (in runs started before `before`), the newest first."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return []
    marks = _marks(sources, "r.")
    rows = conn.execute(
        _CASES + f" WHERE c.plan_key IN (SELECT value FROM json_each(?)) AND r.place = ? AND r.target = ?"
        f" AND (? IS NULL OR r.started < ?) {marks[0]} ORDER BY r.started DESC, c.id DESC",
        (json.dumps(keys), place, target, before, before, *marks[1])).fetchall()
    return [_case(r) for r in rows]


def recent_cases_of_plans(conn: sqlite3.Connection, place: str, target: str, keys: Iterable[str], before: str,
                          runs: int) -> list[CaseRow]:
    """Cases of these plans in the last `runs` runs of the place/target started before `before`, newest first."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return []
    rows = conn.execute(
        _CASES + " WHERE c.plan_key IN (SELECT value FROM json_each(?)) AND c.run_id IN (SELECT id FROM runs"
        " WHERE place = ? AND target = ? AND started < ? ORDER BY started DESC LIMIT ?)"
        " ORDER BY r.started DESC, c.id DESC", (json.dumps(keys), place, target, before, runs)).fetchall()
    return [_case(r) for r in rows]


def cases_of_runs(conn: sqlite3.Connection, run_ids: Iterable[int]) -> list[CaseRow]:
    ids = list(run_ids)
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = conn.execute(_CASES + f" WHERE c.run_id IN ({marks}) ORDER BY r.started, c.id", ids).fetchall()
    return [_case(r) for r in rows]


_CASES = ("SELECT c.run_id, r.started, r.source, c.name, c.plan_key, c.plan_kind, c.plan_at, c.phase, c.outcome,"
          " c.message, c.narrow_of, (SELECT json_group_array(rule) FROM case_rules WHERE case_id = c.id) AS rules"
          " FROM cases c JOIN runs r ON r.id = c.run_id")


def _marks(sources: Iterable[str] | None, prefix: str = "") -> tuple[str, tuple[str, ...]]:
    if sources is None:
        return "", ()
    sources = tuple(sources)
    return f"AND {prefix}source IN ({','.join('?' * len(sources))})", sources


def _run(row: sqlite3.Row) -> RunRow:
    return RunRow(row["id"], row["started"], row["ended"], row["place"], row["target"], row["suite"], row["source"],
                  bool(row["complete"]), row["stopped"], row["probe_uid"], row["rig_version"], row["report_dir"])


def _fill(conn: sqlite3.Connection, runs: list[RunRow]) -> None:
    """Images and outcome counts (overall and by phase) of these runs."""
    by_id = {r.id: r for r in runs}
    if not by_id:
        return
    marks = ",".join("?" * len(by_id))
    for row in conn.execute(f"SELECT run_id, role, version, sha256 FROM images WHERE run_id IN ({marks})", list(by_id)):
        by_id[row["run_id"]].images[row["role"]] = {"version": row["version"], "sha256": row["sha256"]}
    for row in conn.execute(f"SELECT run_id, phase, plan_kind, outcome, COUNT(*) AS n FROM cases WHERE run_id IN ({marks})"
                            " GROUP BY run_id, phase, plan_kind, outcome", list(by_id)):
        run = by_id[row["run_id"]]
        phase = row["phase"] or ("conformance" if row["plan_kind"] == "conformance" else "no cut")
        run.counts[row["outcome"]] = run.counts.get(row["outcome"], 0) + row["n"]
        cell = run.by_phase.setdefault(phase, {})
        cell[row["outcome"]] = cell.get(row["outcome"], 0) + row["n"]


def _case(row: sqlite3.Row) -> CaseRow:
    return CaseRow(row["run_id"], row["started"], row["source"], row["name"], row["plan_key"], row["plan_kind"],
                   row["plan_at"], row["phase"], row["outcome"], tuple(json.loads(row["rules"] or "[]")),
                   row["message"], row["narrow_of"])
