"""`rig ...` as a user runs it, in a new interpreter: the one helper every test that drives the CLI uses.

Output is captured as text; a background command's lines arrive on a queue so a test waits for a line with a
bounded timeout instead of sleeping. History goes where the test says (`history=`), else where conftest.py sent it.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path


def rig(*args: str, cwd: Path | None = None, timeout: float = 240.0, env: dict[str, str] | None = None,
        history: Path | None = None) -> subprocess.CompletedProcess:
    """`rig ARGS` as a user runs it (a new interpreter), output captured; `history`: its RIG_HISTORY file."""
    if history is not None:
        env = {**(env or os.environ), "RIG_HISTORY": str(history)}
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
