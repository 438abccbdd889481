"""The console of a host-process target: its stdout and stderr, re-attached at every power-on.

The process power starts a new process at each "power on"; this console is
registered as its start listener, so every boot's output lands in the same
timeline and log. A process that exits is a power-off, not a vanished port:
`expect` keeps waiting (the rig may switch it back on) until its timeout.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path
from typing import IO

from rig.console.base import ConsoleBase, ConsoleError
from rig.timeline import Timeline


class ProcessConsole(ConsoleBase):
    backend = "process"
    follows_power = True

    def __init__(
        self,
        *,
        power: object | None = None,
        name: str = "",
        timeline: Timeline | None = None,
        log_path: Path | None = None,
        encoding: str = "utf-8",
    ) -> None:
        super().__init__(describe="process stdout/stderr", name=name, timeline=timeline, log_path=log_path, encoding=encoding)
        self._threads: list[threading.Thread] = []
        self._proc: subprocess.Popen | None = None
        add = getattr(power, "add_start_listener", None)
        if power is not None and add is None:
            raise TypeError("the process console needs the place's process power (power.backend = \"process\")")
        if add is not None:
            add(self.attach)

    def attach(self, proc: subprocess.Popen) -> None:
        """Read this process's output until it exits."""
        self._proc = proc
        for stream_name, stream in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            if stream is None:
                continue
            thread = threading.Thread(
                target=self._pump, args=(stream, stream_name), name=f"console-{self.name}-{stream_name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _pump(self, stream: IO[bytes], stream_name: str) -> None:
        try:
            for chunk in iter(lambda: stream.read1(4096), b""):
                self._feed(chunk, stream_name)
        except (OSError, ValueError):
            pass  # closed under us: the process is gone
        finally:
            self._flush_partial(stream_name)
            stream.close()

    def write(self, data: bytes | str) -> None:
        """Type into the process's stdin (a target with process.stdin = "pipe")."""
        proc = self._proc
        if proc is None or proc.stdin is None or proc.poll() is not None:
            super().write(data)  # "cannot be written to": no process, or its stdin is /dev/null
        raw = data.encode(self.encoding) if isinstance(data, str) else data
        try:
            proc.stdin.write(raw)
            proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError) as exc:
            raise ConsoleError(f"{self._who()}: stdin closed ({exc})") from None

    def close(self) -> None:
        for thread in self._threads:
            thread.join(timeout=2.0)
        super().close()
