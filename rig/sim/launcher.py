"""Start a virtual board (its supervisor as a subprocess) for `rig run` and the campaign tests.

The supervisor prints `console: socket://..`, `control: ..`, `debug-port: ..`
when it is ready; this waits for those lines (bounded) and hands back the ports.
It dies with the process that started it (SIGTERM from the kernel when that
process goes, SIGKILL included; it then stops its zygote and MCU), and a board
directory a killed run left behind is taken over: a supervisor still running
there is stopped first, so two never share one flash file.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from rig.errors import RigError
from rig.sim.parent_death import dies_with_this_process

STALE_STOP_TIMEOUT = 10.0  # s a supervisor left by a killed run gets to stop on SIGTERM before SIGKILL


@dataclass
class VirtualBoard:
    proc: subprocess.Popen
    console_url: str
    control_port: int
    unique_id: str
    directory: Path
    output: "queue.Queue[str]" = field(default_factory=queue.Queue)

    @property
    def console_port(self) -> int:
        return int(self.console_url.rsplit(":", 1)[1])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> "VirtualBoard":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_virtual_board(
    directory: Path,
    target: Path,
    *,
    server: str | None = None,
    endpoint: str | None = None,
    image: Path | None = None,
    defects: tuple[str, ...] = (),
    extra: tuple[str, ...] = (),
    timeout: float = 20.0,
    via_cli: bool = False,
) -> VirtualBoard:
    """`python -m rig.sim.board_cli` (or `rig sim` with `via_cli`) as a subprocess, once it printed its ports."""
    directory.mkdir(parents=True, exist_ok=True)
    took_over = take_over(directory)
    entry = ["-m", "rig.cli", "sim"] if via_cli else ["-m", "rig.sim.board_cli"]
    cmd = [sys.executable, *entry, "--dir", str(directory), "--target", str(target)]
    if endpoint:
        cmd += ["--endpoint", endpoint]
    if server:
        cmd += ["--server", server]
    if image is not None:
        cmd += ["--image", str(image)]
    for defect in defects:
        cmd += ["--defect", defect]
    cmd += list(extra)
    log = open(directory / "supervisor.log", "a", encoding="utf-8")
    if took_over:
        log.write(f"rig: {took_over}\n")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True,
                            preexec_fn=dies_with_this_process(signal.SIGTERM))
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            log.flush()
            lines.put(line.rstrip("\n"))
        lines.put("<eof>")
        log.close()

    threading.Thread(target=pump, name="virtual-board-output", daemon=True).start()
    found: dict[str, str] = {}
    seen: list[str] = []
    while "control" not in found or "console" not in found or "debug-port" not in found:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            proc.kill()
            raise RigError(f"virtual board did not get ready within {timeout:g} s; its output: {' | '.join(seen[-5:])}") from None
        if line == "<eof>":
            raise RigError(f"virtual board exited with {proc.wait()} before it was ready: {' | '.join(seen[-5:])}")
        seen.append(line)
        key, _, value = line.partition(": ")
        found[key.strip()] = value.strip()
    return VirtualBoard(
        proc=proc,
        console_url=found["console"],
        control_port=int(found["control"].rsplit(":", 1)[1]),
        unique_id=found["debug-port"].split()[0],
        directory=directory,
        output=lines,
    )


def take_over(directory: Path) -> str | None:
    """Make `directory` free for a new supervisor: stop one a killed run left there, drop its stale board.json.
    Returns what was done (for the supervisor log), None when the directory was clean."""
    board = directory / "board.json"
    try:
        pid = int(json.loads(board.read_text(encoding="utf-8"))["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    done = f"board.json of supervisor pid {pid} was left here (its run ended without stopping it)"
    if _supervises(pid, directory):
        os.kill(pid, signal.SIGTERM)
        if not _gone(pid, STALE_STOP_TIMEOUT):
            os.kill(pid, signal.SIGKILL)
            _gone(pid, STALE_STOP_TIMEOUT)
        done = f"stopped supervisor pid {pid} left running here by an earlier run"
    board.unlink(missing_ok=True)
    return done


def _supervises(pid: int, directory: Path) -> bool:
    """Is `pid` a virtual-board supervisor of `directory` (not a recycled pid of some other program)?"""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return False
    # rig.sim.supervisor: how an earlier rig started its boards (one may still be running)
    if not any(a in ("rig.sim.board_cli", "rig.sim.supervisor", "sim") for a in args) or "--dir" not in args[:-1]:
        return False
    given = Path(args[args.index("--dir") + 1])
    return (given if given.is_absolute() else cwd / given).resolve() == directory.resolve()


def _gone(pid: int, timeout: float) -> bool:
    """Wait (bounded) until `pid` has exited; polls /proc, as nothing signals the end of a non-child."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.05)
    return False
