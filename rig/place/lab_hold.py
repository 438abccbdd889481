"""Hold a labgrid place for one command: acquire, read its resources into backends, release however it ends.

labgrid's acquisitions never expire, so a job SIGKILLed while it holds a place
would leave it taken for good. While the rig holds a place it keeps a flock and a
marker file in the lab state directory; the flock dies with the process, so
`rig lab release --stale` can tell a place left by a dead rig (marker, no lock
holder) from one a live job or a bench user holds (rig.place.lab_stale).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Iterator

from rig.config import BackendConfig, LabRef, Place, build_place, load_target
from rig.errors import RigError
from rig.lab.client import LabgridClient, me
from rig.lab.resources import LabBackends, map_resources, tag_port
from rig.place.lock import PlaceBusy, PlaceLock

LOG = logging.getLogger(__name__)
STATE_ENV = "RIG_LAB_STATE"
PROBE_SERVER_WAIT = 30.0  # pyocd's import and probe scan on a busy Pi


def lab_state_dir() -> Path:
    """$RIG_LAB_STATE, else $XDG_RUNTIME_DIR/rig-lab, else <tmp>/rig-lab-<uid>: markers and locks of held places."""
    if os.environ.get(STATE_ENV):
        path = Path(os.environ[STATE_ENV])
    elif os.environ.get("XDG_RUNTIME_DIR") and Path(os.environ["XDG_RUNTIME_DIR"]).is_dir():
        path = Path(os.environ["XDG_RUNTIME_DIR"]) / "rig-lab"
    else:
        path = Path(tempfile.gettempdir()) / f"rig-lab-{os.getuid()}"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def marker_path(state_dir: Path, place: str) -> Path:
    return state_dir / f"rig-place-lab-{place}.json"


class LabHold:
    """enter() acquires and returns the place with its labgrid backends; exit() gives everything back."""

    def __init__(self, place: Place, client: LabgridClient | None = None, state_dir: Path | None = None) -> None:
        if place.lab is None:
            raise RigError(f"place {place.name} is not a labgrid place")
        self.place, self.lab = place, place.lab
        self.client = client or LabgridClient(place.lab.coordinator)
        self.state_dir = state_dir or lab_state_dir()
        self.name = self.lab.place
        self._lock: PlaceLock | None = None
        self._acquired = False

    def enter(self) -> Place:
        try:
            self._lock = PlaceLock(f"lab-{self.name}", self.state_dir)
            self._lock.acquire()
        except PlaceBusy as exc:
            self._lock = None
            raise RigError(f"labgrid place {self.name}: another rig job on this machine holds it ({exc})") from None
        try:
            self._acquire()
            info = self.client.show(self.name)
            backends = map_resources(self.client.env(self.name), self.name, self._baudrate())
            place = self._resolved(backends, tag_port(info.tags, self.name))
            if backends.probe is not None:
                wait_for_probe_server(str(backends.probe.options["unique_id"]), self.name)
            return place
        except BaseException:
            self.exit()
            raise

    def _acquire(self) -> None:
        marker = marker_path(self.state_dir, self.name)
        try:
            self.client.acquire(self.name)
        except RigError as exc:
            if "already acquired" in str(exc) and marker.exists():
                raise RigError(f"{exc}; a rig job that was killed left it: `rig lab release --stale`") from None
            raise
        self._acquired = True
        marker.write_text(json.dumps({"place": self.name, "coordinator": self.client.coordinator, "pid": os.getpid(),
                                      "token": self.lab.token, "holder": me(), "since": time.time()}) + "\n")

    def _baudrate(self) -> int | None:
        return self.place.target.get("console", {}).get("baudrate")

    def _resolved(self, found: LabBackends, port: int | None) -> Place:
        """The rig file's own tables win; labgrid fills the rest. Checked and defaulted as a rig-file place is."""
        place = self.place
        tables: dict[str, dict] = {}
        for kind in ("power", "console", "probe"):
            mine: BackendConfig | None = getattr(place, kind)
            theirs: BackendConfig | None = getattr(found, kind)
            chosen = mine if mine is not None and not mine.from_lab else theirs
            if chosen is not None:
                tables[kind] = {"backend": chosen.backend, **chosen.options}
        if "power" not in tables:
            raise RigError(f"labgrid place {self.name}: no power resource (a NetworkPowerPort in front of rig relayd)")
        built = build_place(place.name, load_target(place.target_file), f"labgrid place {self.name}", tables,
                            place.target_file.parent, place.work_dir or Path("."), place.lock_dir, place.safe_state,
                            lab=self.lab)
        return replace(place, power=built.power, console=built.console, probe=built.probe,
                       lab=replace(self.lab, held=True), server_port=port or place.server_port)

    def exit(self) -> None:
        """Release the place, end the reservation, drop the marker and the lock; errors are logged, not raised."""
        if self._acquired:
            try:
                self.client.release(self.name)
            except RigError as exc:
                LOG.error("%s (release it by hand: labgrid-client -p %s release)", exc, self.name)
            self._acquired = False
        if self.lab.token:
            with contextlib.suppress(RigError):
                self.client.cancel(self.lab.token)
        marker_path(self.state_dir, self.name).unlink(missing_ok=True)
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def wait_for_probe_server(unique_id: str, place: str, timeout: float = PROBE_SERVER_WAIT) -> None:
    """The exporter starts `pyocd server` on acquire and does not wait for it: wait here until it listens."""
    _, host, port = unique_id.split(":")
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=1.0):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise RigError(f"labgrid place {place}: the exporter's pyocd server {host}:{port} did not answer "
                               f"within {timeout:g} s ({exc})") from None
        time.sleep(0.1)  # a poll of a port another process is opening: there is nothing to wait on but time


@contextlib.contextmanager
def hold_lab_place(place: Place) -> Iterator[Place]:
    """A labgrid place acquired for the block (any other place passes through untouched)."""
    if place.lab is None or place.lab.held:
        yield place
        return
    hold = LabHold(place)
    held = hold.enter()
    try:
        yield held
    finally:
        hold.exit()


def place_from_lab(name: str, coordinator: str | None, work_dir: Path, targets_dir: Path,
                   token: str | None = None, client: LabgridClient | None = None, own_token: bool = False) -> Place:
    """A place known only to labgrid (`--lg-place`, `--lg-tags`): its tags name the target and the endpoint.
    With `token` the place is the one that reservation was given; own_token: the rig ends the reservation."""
    client = client or LabgridClient(coordinator)
    info = client.show(f"+{token}" if token else name)
    target_name = info.tags.get("target")
    if not target_name:
        raise RigError(f"labgrid place {info.name}: no tag target=NAME naming its file in {targets_dir} "
                       f"(labgrid-client -p {info.name} set-tags target=frdm_k64f)")
    path = targets_dir / f"{target_name}.toml"
    if not path.is_file():
        raise RigError(f"labgrid place {info.name}: tag target={target_name}: no target file {path}")
    raw = {"lwm2m": {"endpoint": info.tags.get("endpoint", f"rig-{info.name}")}}
    lab = LabRef(info.name, client.coordinator, token if own_token else None)
    place_dir = Path(work_dir)
    place_dir.mkdir(parents=True, exist_ok=True)
    return build_place(info.name, load_target(path), f"labgrid place {info.name}", raw, place_dir, place_dir,
                       lab_state_dir(), lab=lab)


@contextlib.contextmanager
def reserved_place(tags: dict[str, str], coordinator: str | None, work_dir: Path, targets_dir: Path,
                   wait: float) -> Iterator[Place]:
    """Reserve any place with these tags (waiting up to `wait` s), for the block; the reservation ends with it."""
    client = LabgridClient(coordinator)
    token = client.reserve(tags, wait)
    try:
        yield place_from_lab("", coordinator, work_dir, targets_dir, token=token, client=client, own_token=True)
    finally:
        with contextlib.suppress(RigError):
            client.cancel(token)
