"""Starting an MCU process: through the pre-imported zygote (a fork), or as a fresh interpreter.

Both give the supervisor a pid that leads its own process group and the read end of
a pipe carrying the MCU's stdout and stderr; EOF on that pipe means the MCU ended.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from rig.sim.parent_death import dies_with_this_process


@dataclass(frozen=True)
class McuProcess:
    pid: int  # also the process group id: the child called setsid
    console_fd: int  # read end of its stdout/stderr pipe


class FreshSpawner:
    """`python -m rig.sim.mcu CONFIG`: slower (imports on every power-on), needs no helper process."""

    def start(self, config: dict[str, Any]) -> McuProcess:
        read_fd, write_fd = os.pipe()
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "rig.sim.mcu", json.dumps(config)],
                stdin=subprocess.DEVNULL, stdout=write_fd, stderr=write_fd, start_new_session=True,
                preexec_fn=dies_with_this_process(),
            )
        finally:
            os.close(write_fd)
        # The kernel does not reap it for us here: a thread-free way is to let Popen's
        # __del__ machinery collect it; we keep a reference until the next start.
        self._last = proc
        return McuProcess(proc.pid, read_fd)

    def close(self) -> None:
        pass


class ZygoteSpawner:
    """Asks a long-lived `rig.sim.zygote` process to fork a child; falls back to fresh starts if it dies."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock = ours
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "rig.sim.zygote", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=dies_with_this_process(),
        )
        theirs.close()
        self._buffer = b""
        self._fallback = FreshSpawner()

    def start(self, config: dict[str, Any]) -> McuProcess:
        if self._proc.poll() is not None:
            return self._fallback.start(config)
        read_fd, write_fd = os.pipe()
        try:
            socket.send_fds(self._sock, [(json.dumps({"config": config}) + "\n").encode()], [write_fd])
        except OSError:
            os.close(read_fd)
            return self._fallback.start(config)
        finally:
            os.close(write_fd)
        while b"\n" not in self._buffer:
            chunk = self._sock.recv(4096)
            if not chunk:
                os.close(read_fd)
                return self._fallback.start(config)
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        answer = json.loads(line)
        if "pid" not in answer:
            os.close(read_fd)
            return self._fallback.start(config)
        return McuProcess(int(answer["pid"]), read_fd)

    def close(self) -> None:
        self._sock.close()
        try:
            self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
