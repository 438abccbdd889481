"""Power for targets that are Linux processes: on = start it, cut = SIGKILL of its whole process group.

The process's working directory plays the part of flash: it survives every cut,
so whatever the client had written before the kill is what it finds at the next start.
Listeners (the process console) are told about each new process to read its output.
The process dies with the rig (a parent-death signal), even when the rig is SIGKILLed.
Its stdin is /dev/null, or (stdin = "pipe") a pipe the rig keeps open and never closes
while the process lives: a client that reads commands from stdin and busy-loops on EOF
waits instead, and the console can type into it.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Callable, Sequence

from rig.power.base import PowerBase, PowerError
from rig.sim.parent_death import dies_with_this_process
from rig.timeline import Timeline

StartListener = Callable[[subprocess.Popen], None]


class ProcessPower(PowerBase):
    """Runs `argv` in `cwd` in a new session; `off` kills the group, so children die with the client."""

    backend = "process"
    switches_fast = True
    runs_device = True  # power on starts the device (the client process); its console lives while it runs
    powers_probe = False  # its "flash" is a file: the probe reads it with the process stopped

    def __init__(
        self,
        argv: Sequence[str],
        cwd: Path,
        *,
        env: dict[str, str] | None = None,
        stdin: str = "null",
        name: str = "",
        safe_state: str = "off",
        timeline: Timeline | None = None,
    ) -> None:
        if not argv:
            raise PowerError(f"process power of place {name or '?'}: command is empty")
        self.argv = [str(a) for a in argv]
        self.cwd = Path(cwd)
        self.env = env
        if stdin not in ("null", "pipe"):
            raise PowerError(f"process power of place {name or '?'}: stdin must be \"null\" or \"pipe\", got {stdin!r}")
        self.stdin = stdin
        self.proc: subprocess.Popen | None = None
        self._listeners: list[StartListener] = []
        super().__init__(name=name, safe_state=safe_state, timeline=timeline)

    def client_process(self) -> subprocess.Popen | None:
        return self.proc

    def add_start_listener(self, listener: StartListener) -> None:
        self._listeners.append(listener)

    def _switch(self, on: bool) -> None:
        if on:
            if self.proc is not None and self.proc.poll() is None:
                return
            self.cwd.mkdir(parents=True, exist_ok=True)
            env = {**os.environ, **self.env} if self.env else None
            # Without a reader a chatty client would block on a full pipe: no listener, no pipe.
            out = subprocess.PIPE if self._listeners else subprocess.DEVNULL
            try:
                self.proc = subprocess.Popen(
                    self.argv, cwd=self.cwd, env=env, start_new_session=True,
                    stdin=subprocess.PIPE if self.stdin == "pipe" else subprocess.DEVNULL, stdout=out, stderr=out,
                    preexec_fn=dies_with_this_process(),
                )
            except OSError as exc:
                raise PowerError(f"cannot start {self.argv[0]!r} for place {self.name or '?'}: {exc}") from exc
            for listener in self._listeners:
                listener(self.proc)
        else:
            self._kill()

    def _kill(self) -> None:
        proc = self.proc
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the session leader's pid is the group id
        except ProcessLookupError:
            pass
        proc.wait()  # the listeners' readers see EOF on the pipes and close them
        if proc.stdin is not None:
            proc.stdin.close()

    def _read(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _release(self) -> None:
        self._kill()
