"""Test support for the bench commands: `rig ...` as a subprocess, a `rig sim` board, base and update images."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import fields
from pathlib import Path

from probe_plugin_helpers import wait_board_json
from sim_board import ROOT, TARGET, Board, make_image
from rig.sim.launcher import start_virtual_board

HOST_SIM = ROOT / "targets" / "host_sim.toml"


def rig(*args: str, cwd: Path, timeout: float = 90.0, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`rig ARGS` as a user runs it (a new interpreter), output captured."""
    return subprocess.run([sys.executable, "-m", "rig.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def rig_background(*args: str, cwd: Path, env: dict[str, str] | None = None) -> "Running":
    """`rig ARGS` left running (console), SIGINT back to its default so Ctrl-C can be sent."""
    proc = subprocess.Popen([sys.executable, "-m", "rig.cli", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**(env or os.environ), "PYTHONUNBUFFERED": "1"},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    return Running(proc)


class Running:
    """A background rig command whose stdout lines arrive on a queue (waits are bounded, never sleeps)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("<eof>")

    def wait_line(self, needle: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"{needle!r} not printed within {timeout} s; saw {self.seen[-10:]}") from None
            if line == "<eof>":
                raise AssertionError(f"command ended before printing {needle!r}; saw {self.seen[-10:]}; "
                                     f"stderr {self.proc.stderr.read() if self.proc.stderr else ''}")
            self.seen.append(line)
            if needle in line:
                return line

    def finish(self, timeout: float = 20.0) -> tuple[int, str]:
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
            raise AssertionError(f"command did not end within {timeout} s") from None
        return self.proc.returncode, err

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def sim_board(directory: Path, image: Path, server_port: int | None = None, *extra: str) -> Board:
    """A `rig sim --dir DIR` board (the way the bench runs one), once its board.json is written."""
    args = [*extra]
    board = start_virtual_board(directory, TARGET, image=image, via_cli=True, extra=tuple(args),
                                server=f"coap://127.0.0.1:{server_port}" if server_port else None)
    board = Board(**{f.name: getattr(board, f.name) for f in fields(type(board))})
    wait_board_json(board)
    return board


def one_line_error(result: subprocess.CompletedProcess, *words: str) -> str:
    """The CLI's contract for bad input: exit 2, one line on stderr, no traceback."""
    err = result.stderr.strip()
    assert result.returncode == 2, (result.returncode, result.stdout, err)
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


__all__ = ["HOST_SIM", "TARGET", "make_image", "one_line_error", "rig", "rig_background", "sim_board"]
