"""`rig lab release --stale`: give back the labgrid places that rig jobs killed on this machine left acquired.

A place is stale when its marker (rig.place.lab_hold) is here but nobody holds its
flock (the job is gone) and the coordinator still says this host/user acquired
it. Places a live job holds, and places a bench user acquired by hand (no
marker), are left alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rig.errors import RigError
from rig.lab.client import LabgridClient, me
from rig.place.lab_hold import lab_state_dir
from rig.place.lock import PlaceBusy, PlaceLock


@dataclass(frozen=True)
class StaleOutcome:
    place: str
    action: str  # "released", "in use", "not ours", "already free", "failed: ..."


def release_stale(state_dir: Path | None = None, coordinator: str | None = None) -> list[StaleOutcome]:
    folder = state_dir or lab_state_dir()
    outcomes = []
    for marker in sorted(folder.glob("rig-place-lab-*.json")):
        name = marker.name[len("rig-place-lab-"):-len(".json")]
        lock = PlaceLock(f"lab-{name}", folder)
        try:
            lock.acquire()
        except PlaceBusy:
            outcomes.append(StaleOutcome(name, "in use"))
            continue
        try:
            outcomes.append(_release_one(name, marker, coordinator))
        finally:
            lock.release()
    return outcomes


def _release_one(name: str, marker: Path, coordinator: str | None) -> StaleOutcome:
    try:
        record = json.loads(marker.read_text())
    except (OSError, ValueError):
        record = {}
    client = LabgridClient(coordinator or record.get("coordinator"))
    try:
        info = client.show(name)
        if info.acquired is None:
            marker.unlink(missing_ok=True)
            return StaleOutcome(name, "already free")
        if info.acquired != me():
            marker.unlink(missing_ok=True)
            return StaleOutcome(name, f"not ours: acquired by {info.acquired}")
        client.release(name)
        if record.get("token"):
            try:
                client.cancel(record["token"])
            except RigError:
                pass  # the reservation may have ended already
    except RigError as exc:
        return StaleOutcome(name, f"failed: {exc}")
    marker.unlink(missing_ok=True)
    return StaleOutcome(name, f"released (left by pid {record.get('pid', '?')})")
