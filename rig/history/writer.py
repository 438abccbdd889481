"""Append one run and its cases to the history: a row when the run starts, one transaction per case.

The run's row is written first, so a run killed half way is in the history with
the cases it finished ("complete" stays 0). A resumed run goes on in its own row
(report.json names it). Nothing here may end a run: a history that cannot be
written is one warning line, the reports are written as always.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rig.history import store
from rig.history.plans import plan_identity
from rig.results import CaseResult


@dataclass(frozen=True)
class ImageRecord:
    role: str  # base | new
    version: str | None
    sha256: str | None
    file: str | None = None

    @classmethod
    def of(cls, role: str, version: str | None, path: Path | None) -> "ImageRecord":
        return cls(role, version, sha256_of(path) if path is not None else None, str(path) if path else None)


@dataclass(frozen=True)
class RunInfo:
    """What a run is, for the history: where, on what, with which images and parameters."""

    place: str
    target: str
    suite: str
    source: str  # run | pytest | replay | narrow
    report_dir: str
    params: dict[str, Any]
    images: tuple[ImageRecord, ...] = ()
    probe_uid: str | None = None
    rig_version: str | None = None
    started: str = field(default_factory=lambda: utc_now())


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def sha256_of(path: Path) -> str | None:
    try:
        with Path(path).open("rb") as src:
            return hashlib.file_digest(src, "sha256").hexdigest()
    except OSError:
        return None


class RunHistory:
    """The history row of one run; `case()` adds a case, `end()` closes the run."""

    def __init__(self, path: Path, run_id: int) -> None:
        self.path, self.run_id = Path(path), run_id

    @classmethod
    def begin(cls, path: Path, info: RunInfo) -> "RunHistory":
        def work(conn) -> int:
            cur = conn.execute(
                "INSERT INTO runs (started, place, target, probe_uid, rig_version, suite, source, host, report_dir,"
                " params) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (info.started, info.place, info.target, info.probe_uid, info.rig_version, info.suite, info.source,
                 socket.gethostname(), info.report_dir, json.dumps(info.params, default=str, sort_keys=True)))
            run_id = int(cur.lastrowid)
            conn.executemany("INSERT INTO images (run_id, role, version, sha256, file) VALUES (?, ?, ?, ?, ?)",
                             [(run_id, i.role, i.version, i.sha256, i.file) for i in info.images])
            return run_id

        return cls(path, store.write(path, work))

    @classmethod
    def resume(cls, path: Path, run_id: int) -> "RunHistory":
        """Go on writing run `run_id` (a `rig run --resume` of it); it is open again until end()."""
        store.write(path, lambda conn: conn.execute("UPDATE runs SET ended = NULL, complete = 0, stopped = NULL "
                                                    "WHERE id = ?", (run_id,)))
        return cls(path, run_id)

    def probe(self, probe_uid: str | None) -> None:
        """The probe's unique id, known once the place is open."""
        if probe_uid:
            store.write(self.path, lambda conn: conn.execute("UPDATE runs SET probe_uid = ? WHERE id = ?",
                                                             (probe_uid, self.run_id)))

    def case(self, result: CaseResult) -> None:
        """One case, in one transaction (a probe of `rig narrow` names the case it narrows)."""
        identity = plan_identity(result.name, result.plan)
        rules = list(dict.fromkeys(v.rule for v in result.violations))

        def work(conn) -> None:
            cur = conn.execute(
                "INSERT INTO cases (run_id, name, plan_key, plan_kind, plan_at, plan, phase, outcome, rules, message,"
                " flash_verdict, duration, recover_time, recorded, narrow_of)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (self.run_id, result.name, identity.key, identity.kind, identity.at,
                 json.dumps(result.plan, default=str, sort_keys=True) if result.plan else None, result.phase,
                 result.outcome, json.dumps(rules), result.message, result.flash_verdict, result.duration,
                 result.recover_time, utc_now(), result.narrow_of))
            conn.executemany("INSERT INTO case_rules (case_id, rule) VALUES (?, ?)",
                             [(cur.lastrowid, rule) for rule in rules])

        store.write(self.path, work)

    def end(self, complete: bool, stopped: str | None, params: dict[str, Any] | None = None) -> None:
        """The run's last word: complete or where it stopped (and its final parameters, measurements included)."""
        def work(conn) -> None:
            conn.execute("UPDATE runs SET ended = ?, complete = ?, stopped = ? WHERE id = ?",
                         (utc_now(), int(complete), stopped, self.run_id))
            if params is not None:
                conn.execute("UPDATE runs SET params = ? WHERE id = ?",
                              (json.dumps(params, default=str, sort_keys=True), self.run_id))

        store.write(self.path, work)
