"""Test support for the pyocd probe plugin: the pyocd CLI as a subprocess and a console watcher."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from rig.sim import probe_registry
from sim_board import Board

PYOCD = str(Path(sys.executable).parent / "pyocd")


def board_env(board: Board, registry: Path) -> dict[str, str]:
    """An environment whose private registry holds exactly this board, as its supervisor would register it.

    (Registered here from the ports the board printed, because the supervisor writes
    its board.json only after printing them, so RIG_SIM_BOARDS could race the test.)
    """
    env = {k: v for k, v in os.environ.items() if k != probe_registry.BOARDS_ENV}
    env[probe_registry.REGISTRY_ENV] = str(registry)
    probe_registry.register_board(board.unique_id, board.control_port, target="virtual", pid=board.proc.pid,
                                  registry=registry)
    return env


def wait_board_json(board: Board, timeout: float = 5.0) -> None:
    """The supervisor writes board.json just after it prints its ports: wait for it (bounded)."""
    path = board.directory / "board.json"
    deadline = time.monotonic() + timeout
    while True:
        try:
            if json.loads(path.read_text()).get("unique_id") == board.unique_id:
                return
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} not written within {timeout} s")
        time.sleep(0.01)


def run_pyocd(env: dict[str, str], *args: str, cwd: Path, timeout: float = 30.0) -> subprocess.CompletedProcess:
    """`pyocd ARGS` as the bench runs it (console script, not in this process)."""
    return subprocess.run([PYOCD, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


class Console:
    """The board's console TCP port, opened before an action so no line of it is missed."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=0.2)
        self.seen = b""

    def wait_for(self, needle: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while needle.encode() not in self.seen:
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} not on the console within {timeout} s; saw {self.seen[-400:]!r}")
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                continue
            if not chunk:
                raise AssertionError(f"console closed before {needle!r}; saw {self.seen[-400:]!r}")
            self.seen += chunk
        return self.seen.decode("utf-8", "replace")

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "Console":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
