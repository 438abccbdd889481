"""Tie a run to the history of nights: its row (place, target, probe, images and their SHA-256s), then its cases.

`rig run`, `--resume`, `--replay`, `rig narrow` and the pytest plugin all come
through here, each with its source word, so `rig history` can tell a night from
a replay of one case. report.json's run table names the file and the row
("history"), which lets `--resume` go on in the same row and report.html look
up each plan's earlier runs.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rig
from rig.errors import RigError
from rig.history.writer import ImageRecord, RunHistory, RunInfo
from rig.packages.base import CaseImages
from rig.place.session import PlaceSession
from rig.run.record import RunRecord


@dataclass(frozen=True)
class HistoryChoice:
    """Where a run's history goes (None: --no-history), what kind of run it is, and the row it continues."""

    path: Path | None
    source: str = "run"  # run | pytest | replay | narrow
    resume: dict[str, Any] | None = None  # the resumed run's report.json "history" table


def start_history(choice: HistoryChoice | None, record: RunRecord, place: str, images: CaseImages) -> None:
    """Open the run's row (or reopen the resumed run's) and name it in report.json; a warning if it cannot be."""
    record.params.pop("history", None)
    if choice is None or choice.path is None:
        return
    path = choice.path.expanduser().resolve()
    try:
        previous = choice.resume or {}
        if previous.get("run") is not None and previous.get("file") and Path(previous["file"]) == path:
            record.history = RunHistory.resume(path, int(previous["run"]))
        else:
            record.history = RunHistory.begin(path, RunInfo(
                place=place, target=record.target, suite=str(record.params.get("suite")), source=choice.source,
                report_dir=str(record.report_dir.resolve()), params=record.params, rig_version=rig.__version__,
                images=(ImageRecord.of("base", images.base_version, images.base),
                        ImageRecord.of("new", images.new_version, images.new))))
    except RigError as exc:
        print(f"rig: this run is not recorded in the history: {exc}", file=sys.stderr)
        record.params["history_problem"] = str(exc)
        return
    record.params["history"] = {"file": str(path), "run": record.history.run_id, "place": place,
                                "target": record.target}


def note_probe(record: RunRecord, session: PlaceSession) -> None:
    """The probe's unique id (the virtual board's debug-port id), once the place is open."""
    if record.history is None:
        return
    uid = session.probe_id
    if uid:
        record.to_history(lambda h: h.probe(str(uid)))
