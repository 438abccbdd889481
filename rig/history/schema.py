"""The history's schema, as the list of steps that build it: version N is what the first N steps make.

The file says its version (PRAGMA user_version). Opening a file written by an
older rig upgrades it in place, all pending steps in one transaction (a
concurrent opener waits, then finds nothing left to do); a file written by a
newer rig is refused with one line, never half-read. A step may move data, not
only add tables: version 2 splits the rules a case broke out of a JSON column
into a table of their own (so "since when does rule R fail" is one indexed
query) and moves image versions and SHA-256s into one.

Never edit a step that has shipped; add the next one.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Callable

from rig.history.errors import HistoryError

_V1 = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    started TEXT NOT NULL,            -- UTC, ISO 8601
    ended TEXT,
    place TEXT NOT NULL,              -- the place's name ("virtual": the self-started virtual board)
    target TEXT NOT NULL,             -- the target's name
    probe_uid TEXT,                   -- the probe's unique id (the virtual board's debug-port id)
    rig_version TEXT,
    suite TEXT,
    source TEXT NOT NULL,             -- run | pytest | replay | narrow
    host TEXT,
    report_dir TEXT,
    params TEXT,                      -- JSON: the run's parameters, as report.json's "run" table
    complete INTEGER NOT NULL DEFAULT 0,
    stopped TEXT
);
CREATE INDEX runs_by_place ON runs (place, target, started);
CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (id),
    name TEXT NOT NULL,
    plan_key TEXT NOT NULL,           -- what identifies the case across nights (rig.history.plans)
    plan_kind TEXT NOT NULL,
    plan_at REAL,                     -- its position: block, flash op, fraction or ms of the swap window
    plan TEXT,                        -- JSON: the plan as report.json has it
    phase TEXT,                       -- the phase the device had reached when the power went
    outcome TEXT NOT NULL,            -- pass | fail | error | skip
    rules TEXT NOT NULL DEFAULT '[]', -- JSON list of the rules the case broke
    message TEXT,
    flash_verdict TEXT,
    duration REAL,
    recover_time REAL,
    recorded TEXT NOT NULL
);
CREATE INDEX cases_by_run ON cases (run_id);
CREATE INDEX cases_by_plan ON cases (plan_key);
"""

_V2 = """
CREATE TABLE images (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    role TEXT NOT NULL,               -- base | new
    version TEXT,
    sha256 TEXT,
    file TEXT,
    PRIMARY KEY (run_id, role)
);
CREATE TABLE case_rules (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    rule TEXT NOT NULL
);
CREATE INDEX case_rules_by_rule ON case_rules (rule);
CREATE INDEX case_rules_by_case ON case_rules (case_id);
ALTER TABLE cases ADD COLUMN narrow_of TEXT;  -- a probe of `rig narrow`: the case it narrows
"""


def _v1(conn: sqlite3.Connection) -> None:
    for statement in _statements(_V1):
        conn.execute(statement)


def _v2(conn: sqlite3.Connection) -> None:
    for statement in _statements(_V2):
        conn.execute(statement)
    for case_id, rules in conn.execute("SELECT id, rules FROM cases").fetchall():
        conn.executemany("INSERT INTO case_rules (case_id, rule) VALUES (?, ?)",
                         [(case_id, rule) for rule in dict.fromkeys(_json_list(rules))])
    for run_id, params in conn.execute("SELECT id, params FROM runs").fetchall():
        images = _json_dict(params).get("images")
        for role, version in (images.items() if isinstance(images, dict) else ()):
            conn.execute("INSERT INTO images (run_id, role, version) VALUES (?, ?, ?)", (run_id, role, str(version)))


STEPS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2]
VERSION = len(STEPS)


def version_of(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, upto: int = VERSION) -> None:
    """Bring the file to version `upto` (the current one unless a test builds an old file)."""
    found = version_of(conn)
    if found > VERSION:
        raise HistoryError(f"history schema version {found} was written by a newer rig (this one reads up to "
                           f"{VERSION}); upgrade the rig or give --history another file")
    if found >= upto:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = version_of(conn)  # another process may have migrated while this one waited for the lock
        for step in STEPS[found:upto]:
            step(conn)
        conn.execute(f"PRAGMA user_version = {max(found, upto)}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _json_list(text: str | None) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def _json_dict(text: str | None) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
