"""labgrid's client as subprocesses: `labgrid-client` from labgrid's own venv (or pipx), never imported.

labgrid pins pyserial-labgrid, a fork that installs the same `serial` package as
the rig's pyserial, and its pytest plugin loads into every pytest of a venv that
has it; its client also cannot be built inside a running asyncio loop. So the rig
keeps labgrid in a venv of its own and talks to the coordinator through
`labgrid-client` commands: show, acquire, release, env, reserve, cancel-reservation.
Found at $RIG_LABGRID_BIN, on PATH, or in ./.venv-labgrid/bin, ~/.venv-labgrid/bin,
~/.local/bin (pipx).
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rig.errors import RigError

BIN_ENV = "RIG_LABGRID_BIN"
COORDINATOR_ENV = "LG_COORDINATOR"
INSTALL_HINT = ("install labgrid in a venv of its own: python3 -m venv ~/.venv-labgrid && "
                "~/.venv-labgrid/bin/pip install labgrid (or pipx install labgrid), then set "
                f"{BIN_ENV}=~/.venv-labgrid/bin")
TAG = re.compile(r"^[a-z][a-z0-9_]*=[a-z0-9_]+$", re.IGNORECASE)  # labgrid's TAG_KEY / TAG_VAL


def find_labgrid_bin(name: str = "labgrid-client") -> Path:
    """The labgrid program `name` (labgrid-client, labgrid-exporter, labgrid-coordinator)."""
    if os.environ.get(BIN_ENV):
        path = Path(os.environ[BIN_ENV]).expanduser() / name
        if path.is_file():
            return path
        raise RigError(f"${BIN_ENV}={os.environ[BIN_ENV]}: no {name} there; {INSTALL_HINT}")
    found = shutil.which(name)
    if found:
        return Path(found)
    for folder in (Path(".venv-labgrid/bin"), Path.home() / ".venv-labgrid/bin", Path.home() / ".local/bin"):
        if (folder / name).is_file():
            return (folder / name).resolve()
    raise RigError(f"{name} not found; {INSTALL_HINT}")


def me() -> str:
    """Who labgrid says holds a place this process acquires: HOST/USER."""
    host = os.environ.get("LG_HOSTNAME") or socket.gethostname()
    return f"{host}/{os.environ.get('LG_USERNAME') or getpass.getuser()}"


@dataclass(frozen=True)
class PlaceInfo:
    name: str
    tags: dict[str, str] = field(default_factory=dict)
    acquired: str | None = None
    reservation: str | None = None


def parse_show(text: str) -> PlaceInfo:
    """`labgrid-client -p P show` -> name, tags, who acquired it, its reservation."""
    name = re.search(r"^Place '([^']+)':", text, re.M)
    if not name:
        raise RigError(f"labgrid-client show: unexpected output: {text[:200]!r}")
    tags_line = re.search(r"^\s+tags: (.*)$", text, re.M)
    tags = dict(t.split("=", 1) for t in tags_line.group(1).split(", ") if "=" in t) if tags_line else {}
    acquired = re.search(r"^\s+acquired: (.*)$", text, re.M)
    reservation = re.search(r"^\s+reservation: (.*)$", text, re.M)
    who = acquired.group(1).strip() if acquired else "None"
    return PlaceInfo(name.group(1), tags, None if who == "None" else who,
                     reservation.group(1).strip() if reservation else None)


class LabgridClient:
    """One coordinator, reached with labgrid-client; every failure is a RigError with labgrid's own words."""

    def __init__(self, coordinator: str | None = None, timeout: float = 60.0) -> None:
        self.coordinator = coordinator or os.environ.get(COORDINATOR_ENV) or "127.0.0.1:20408"
        self.timeout = timeout
        self.program = find_labgrid_bin()

    def run(self, *args: str, place: str | None = None, token: str | None = None, timeout: float | None = None) -> str:
        argv = [str(self.program), "-x", self.coordinator, *(("-p", place) if place else ()), *args]
        env = {**os.environ, "LG_TOKEN": token} if token else {k: v for k, v in os.environ.items() if k != "LG_TOKEN"}
        env.pop("LG_PLACE", None)
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout or self.timeout, env=env,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise RigError(f"labgrid-client {' '.join(args)} (coordinator {self.coordinator}): no answer "
                           f"in {timeout or self.timeout:g} s") from None
        if proc.returncode != 0:
            lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
            said = next((ln for ln in lines if "error" in ln.lower()), lines[-1] if lines else "no output")
            raise RigError(f"labgrid place {place or '-'}: labgrid-client {args[0]} failed (coordinator "
                           f"{self.coordinator}): {said.strip()}")
        return proc.stdout

    def show(self, place: str, token: str | None = None) -> PlaceInfo:
        return parse_show(self.run("show", place=place, token=token))

    def acquire(self, place: str) -> None:
        self.run("acquire", place=place)

    def release(self, place: str, kick: bool = False) -> None:
        self.run("release", *(("--kick",) if kick else ()), place=place)

    def env(self, place: str) -> dict[str, Any]:
        """The place's resources as labgrid's environment file: {"targets": {PLACE: {"resources": [...]}}}."""
        text = self.run("env", place=place)
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise RigError(f"labgrid place {place}: labgrid-client env printed no YAML: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("targets"), dict):
            raise RigError(f"labgrid place {place}: labgrid-client env printed {text[:200]!r}")
        return data

    def reserve(self, tags: dict[str, str], wait: float) -> str:
        """Reserve a place matching all tags, waiting up to `wait` s for one; returns the token."""
        pairs = [f"{k}={v}" for k, v in tags.items()]
        for pair in pairs:
            if not TAG.match(pair):
                raise RigError(f"--lg-tags {pair}: must be KEY=VALUE of letters, digits and '_'")
        try:
            text = self.run("reserve", "--wait", "--shell", *pairs, timeout=wait)
        except RigError as exc:
            raise RigError(f"no labgrid place with tags {' '.join(pairs)} became free: {exc}") from None
        token = re.search(r"LG_TOKEN=(\S+)", text)
        if not token:
            raise RigError(f"labgrid-client reserve printed no token: {text[:200]!r}")
        return token.group(1)

    def cancel(self, token: str) -> None:
        self.run("cancel-reservation", token)
