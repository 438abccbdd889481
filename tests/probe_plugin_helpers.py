"""Test support for the pyocd probe plugin: the pyocd CLI as a subprocess and a console watcher."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from sim_board import Board

PYOCD = str(Path(sys.executable).parent / "pyocd")


def board_env(board: Board, registry: Path) -> dict[str, str]:
    """An environment that finds exactly this board: by its directory, with an empty private registry."""
    registry.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "RIG_SIM_BOARDS": str(board.directory), "RIG_SIM_REGISTRY": str(registry)}


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
