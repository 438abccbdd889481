"""Start a virtual board (its supervisor as a subprocess) for `rig run` and the campaign tests.

The supervisor prints `console: socket://..`, `control: ..`, `debug-port: ..`
when it is ready; this waits for those lines (bounded) and hands back the ports.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from rig.errors import RigError


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
    """`python -m rig.sim.supervisor` (or `rig sim` with `via_cli`) as a subprocess, once it printed its ports."""
    directory.mkdir(parents=True, exist_ok=True)
    entry = ["-m", "rig.cli", "sim"] if via_cli else ["-m", "rig.sim.supervisor"]
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
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
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
