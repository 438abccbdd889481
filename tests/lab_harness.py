"""A labgrid lab on loopback for the tests: a real coordinator and exporter, virtual boards, the relay service.

labgrid lives in its own venv (it would replace the rig's pyserial, and its pytest
plugin would load here). The rule for finding it: $RIG_LABGRID_BIN, else
<repo>/.venv-labgrid/bin (what .ci/run creates), else PATH. Not found: the lab
tests FAIL when $CI is set (CI must have installed it) and skip elsewhere, saying
how to install it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rig.netutil import free_port, free_udp_pair
from rig.sim.launcher import VirtualBoard, start_virtual_board

ROOT = Path(__file__).resolve().parents[1]
BOARD_ARGS = ("--erase-ms", "2", "--fetch-timeout", "3")


def labgrid_bin() -> Path:
    candidates = [Path(os.environ["RIG_LABGRID_BIN"])] if os.environ.get("RIG_LABGRID_BIN") else []
    candidates.append(ROOT / ".venv-labgrid" / "bin")
    found = shutil.which("labgrid-client")
    if found:
        candidates.append(Path(found).parent)
    for folder in candidates:
        if (folder / "labgrid-client").is_file() and (folder / "labgrid-coordinator").is_file():
            return folder
    hint = "python3 -m venv .venv-labgrid && .venv-labgrid/bin/pip install labgrid (what .ci/run does)"
    if os.environ.get("CI"):
        pytest.fail(f"labgrid is not installed, and CI must test the lab: {hint}")
    pytest.skip(f"labgrid not installed here: {hint}")


def wait_until(check, timeout: float, what: str, every: float = 0.1):
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Lab:
    root: Path
    bin: Path
    coordinator: str
    env: dict[str, str]
    boards: dict[str, VirtualBoard] = field(default_factory=dict)
    lwm2m_ports: dict[str, int] = field(default_factory=dict)
    relay_url: str = ""
    procs: list[subprocess.Popen] = field(default_factory=list)

    def client(self, *args: str, place: str | None = None, check: bool = True) -> str:
        argv = [str(self.bin / "labgrid-client"), "-x", self.coordinator, *(("-p", place) if place else ()), *args]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=self.env)
        if check and proc.returncode != 0:
            raise AssertionError(f"labgrid-client {' '.join(args)}: {proc.stderr or proc.stdout}")
        return proc.stdout + proc.stderr

    def rig(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "rig.cli", *args], capture_output=True, text=True,
                              timeout=timeout, env=self.env)

    def rig_background(self, *args: str, log: Path) -> subprocess.Popen:
        out = open(log, "w", encoding="utf-8")
        return subprocess.Popen([sys.executable, "-m", "rig.cli", *args], stdout=out, stderr=subprocess.STDOUT,
                                env=self.env)

    def outlet(self, index: int) -> dict:
        with urllib.request.urlopen(f"{self.relay_url}/relay/{index}/info", timeout=5) as answer:
            return json.loads(answer.read())

    def acquired_by(self, place: str) -> str:
        for line in self.client("show", place=place).splitlines():
            if line.strip().startswith("acquired:"):
                return line.split(":", 1)[1].strip()
        raise AssertionError(f"labgrid-client show {place}: no 'acquired:' line")

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for board in self.boards.values():
            board.stop()


def _start(lab: Lab, argv: list[str], name: str, cwd: Path | None = None) -> subprocess.Popen:
    log = open(lab.root / f"{name}.log", "w", encoding="utf-8")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=cwd or lab.root, env=lab.env)
    lab.procs.append(proc)
    return proc


def log_of(lab: Lab, name: str) -> str:
    return (lab.root / f"{name}.log").read_text(encoding="utf-8", errors="replace")


def start_lab(root: Path, places: tuple[str, ...] = ("vb-1", "vb-2")) -> Lab:
    """Coordinator, boards, relay service, exporter, places with tags; returns once every place has its resources."""
    folder = labgrid_bin()
    port = free_port(socket.SOCK_STREAM)
    env = {**os.environ, "RIG_LABGRID_BIN": str(folder), "LG_COORDINATOR": f"127.0.0.1:{port}",
           "RIG_LAB_STATE": str(root / "lab-state"), "PYTHONUNBUFFERED": "1"}
    lab = Lab(root, folder, f"127.0.0.1:{port}", env)
    try:
        (root / "coordinator").mkdir()
        _start(lab, [str(folder / "labgrid-coordinator"), "-l", lab.coordinator], "coordinator", root / "coordinator")
        for _i, name in enumerate(places):
            lab.lwm2m_ports[name] = free_udp_pair()
            lab.boards[name] = start_virtual_board(root / name, ROOT / "targets" / "virtual.toml",
                                                   server=f"coap://127.0.0.1:{lab.lwm2m_ports[name]}",
                                                   endpoint=f"rig-{name}", extra=BOARD_ARGS, via_cli=True)
        outlets = "".join(f'[outlets.{i}]\nname = "{n}"\npower = {{ backend = "sim", control_port = '
                          f'{lab.boards[n].control_port} }}\n' for i, n in enumerate(places))
        (root / "relayd.toml").write_text(f'[relayd]\nhost = "127.0.0.1"\nport = 0\n{outlets}')
        _start(lab, [sys.executable, "-m", "rig.cli", "relayd", str(root / "relayd.toml")], "relayd")
        lab.relay_url = wait_until(lambda: next((w for w in log_of(lab, "relayd").split() if w.startswith("http://")),
                                                None), 20, "rig relayd to listen")
        wait_until(lambda: _accepts(port), 20, "labgrid-coordinator to listen")
        exporter_yaml = "".join(_group(lab, i, n) for i, n in enumerate(places))
        (root / "exporter.yaml").write_text(exporter_yaml)
        _start(lab, [sys.executable, "-m", "rig.cli", "lab", "exporter", "-c", lab.coordinator, "--name", "lab-test",
                     "--hostname", "127.0.0.1", str(root / "exporter.yaml")], "exporter")
        for name in places:
            lab.client("create", place=name)
            lab.client("add-match", f"lab-test/{name}/*", place=name)
            lab.client("set-tags", "target=virtual_lab", f"endpoint=rig-{name}",
                       f"lwm2m_port={lab.lwm2m_ports[name]}", "board=vsim", place=name)
        wait_until(lambda: all(f"lab-test/{n}/NetworkPowerPort" in lab.client("resources") for n in places), 30,
                   "the exporter's resources at the coordinator")
    except BaseException:
        lab.stop()
        raise
    return lab


def _group(lab: Lab, index: int, name: str) -> str:
    board = lab.boards[name]
    return (f"## {name}: a virtual board (comments start with ## in this Jinja template)\n{name}:\n"
            f"  NetworkSerialPort:\n    host: 127.0.0.1\n    port: {board.console_port}\n    protocol: raw\n"
            f"  RigRelay:\n    url: {lab.relay_url}\n    index: {index}\n"
            f"  RigPyocdServer:\n    unique_id: {board.unique_id}\n")
