"""labgrid-exporter with the rig's two export classes; runs under labgrid's own Python, never the rig's.

labgrid lives in a venv of its own (its pyserial fork would clash with the rig's
pyserial), so this file imports only the standard library and labgrid, and is
started as a script: `rig lab exporter ARGS` runs `<labgrid's python> this_file ARGS`,
which registers the classes below in labgrid's export table and hands over to
labgrid's own exporter main().

- RigPyocdServer: while the place is acquired, a `pyocd server` serves the
  board's probe on a free port; clients reach it as pyocd probe
  `remote:HOST:PORT`. It stops on release and with the exporter (a SIGKILLed
  exporter takes it along: PR_SET_PDEATHSIG). labgrid's client builds every
  resource of a place it touches (`labgrid-client power on` too), so the probe
  is offered as a class it knows: a NetworkService with username "pyocd".
- RigRelay (exported as NetworkPowerPort, model simplerest): one outlet of a
  `rig relayd` on this Pi. Releasing the place tells the relay service, which
  switches the outlet to its safe state.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import attr
from labgrid.remote import exporter as lg_exporter

PR_SET_PDEATHSIG = 1
PYOCD_USER = "pyocd"  # marks the NetworkService that is a `pyocd server` (rig.lab.resources reads it)
HEALTH_EVERY = 5.0  # seconds between availability checks of the relay service (poll runs every 0.25 s)
LOG = logging.getLogger("rig-exporter")
_children: list[subprocess.Popen] = []


# The child sets PR_SET_PDEATHSIG itself and then execs the program (the signal survives exec): no preexec_fn,
# whose Python code between fork and exec is unsafe in a process with gRPC's threads.
DIE_WITH_PARENT = ("import ctypes, os, signal, sys; ctypes.CDLL(None).prctl(%d, signal.SIGTERM, 0, 0, 0); "
                   "os.getppid() == int(sys.argv[1]) or sys.exit(1); os.execvp(sys.argv[2], sys.argv[2:])"
                   % PR_SET_PDEATHSIG)


def _die_with_exporter(cmd: list[str]) -> list[str]:
    return [sys.executable, "-c", DIE_WITH_PARENT, str(os.getpid()), *cmd]


def _stop_child(child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(3.0)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(2.0)
    if child in _children:
        _children.remove(child)


@atexit.register
def _stop_children() -> None:
    for child in list(_children):
        _stop_child(child)


class _Local:
    """The local side labgrid's ResourceExport polls: always there (a check would cost a probe scan)."""

    avail = True

    def poll(self) -> None:
        pass


@attr.s(eq=False)
class _RigExport(lg_exporter.ResourceExport):
    """A rig resource: always available locally, offered to clients as the labgrid class `exported_as`."""

    exported_as = ""

    def __attrs_post_init__(self):
        super().__attrs_post_init__()
        self.local = _Local()
        self.data["cls"] = self.exported_as
        self._setup()

    def _setup(self) -> None:
        pass


@attr.s(eq=False)
class RigPyocdServerExport(_RigExport):
    """`pyocd server` for one probe while the place is acquired."""

    exported_as = "NetworkService"

    def _setup(self) -> None:
        self.child: subprocess.Popen | None = None
        self.port: int | None = None

    def _get_start_params(self):
        return {"unique_id": self.local_params["unique_id"]}

    def _get_params(self):
        return {"address": self.host, "username": PYOCD_USER, "port": self.port or 0,
                "extra": {"probe_uid": self.local_params["unique_id"]}}

    def _start(self, start_params):
        pyocd = self.local_params.get("pyocd") or os.environ.get("RIG_PYOCD") or "pyocd"
        self.port = int(self.local_params.get("port") or _free_port())
        cmd = [pyocd, "server", "--port", str(self.port), "--uid", start_params["unique_id"], "--allow-remote"]
        self.logger.info("starting %s", " ".join(cmd))
        self.child = subprocess.Popen(_die_with_exporter(cmd), stdin=subprocess.DEVNULL)
        _children.append(self.child)
        try:
            self.child.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            return  # running; the client waits for the port to answer
        self.child = None
        raise lg_exporter.ExporterError(f"pyocd server for {start_params['unique_id']} exited at once")

    def _stop(self, start_params):
        child, self.child, self.port = self.child, None, None
        if child is not None:
            _stop_child(child)
            self.logger.info("stopped pyocd server for %s", start_params["unique_id"])


@attr.s(eq=False)
class RigRelayExport(_RigExport):
    """An outlet of `rig relayd`, offered as labgrid's NetworkPowerPort (simplerest); safe state on release."""

    exported_as = "NetworkPowerPort"

    def _setup(self) -> None:
        self.url = str(self.local_params["url"]).rstrip("/")
        self.index = int(self.local_params.get("index", 0))
        self._checked = 0.0

    def _get_params(self):
        now = time.monotonic()
        if now - self._checked > HEALTH_EVERY:
            self._checked = now
            self.local.avail = self._call("GET", "/health") is not None
        return {"model": "simplerest", "host": f"{self.url}/relay/{{index}}/{{value}}", "index": str(self.index)}

    def _start(self, start_params):
        self._call("POST", f"/relay/{self.index}/claim?holder={self.acquired}")

    def _stop(self, start_params):
        if self._call("POST", f"/relay/{self.index}/release") is None:
            self.logger.error("relay service %s did not take the release of outlet %d", self.url, self.index)

    def _call(self, method: str, path: str) -> dict | None:
        request = urllib.request.Request(self.url + path, method=method, data=b"" if method == "POST" else None)
        try:
            with urllib.request.urlopen(request, timeout=2.0) as answer:
                body = answer.read()
        except (urllib.error.URLError, OSError) as exc:
            self.logger.warning("relay service %s%s: %s", self.url, path, exc)
            return None
        try:
            return json.loads(body or b"{}")
        except ValueError:
            return {}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("", 0))
        return sock.getsockname()[1]


def main(argv: list[str]) -> None:
    lg_exporter.exports["RigPyocdServer"] = RigPyocdServerExport
    lg_exporter.exports["RigRelay"] = RigRelayExport
    sys.argv = ["labgrid-exporter", *argv]
    try:
        lg_exporter.main()
    finally:
        _stop_children()


if __name__ == "__main__":
    main(sys.argv[1:])
