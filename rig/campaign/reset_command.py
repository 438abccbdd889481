"""A process target's reset of client state kept outside its flash file ([process] reset_command), at a known start.

A Linux client keeps its registration, its stored package and its Object 5 state
in files of its own; reprogramming the "flash" does not touch them, so a case would
inherit the previous one's. The target names a command that puts them back (it may
copy the base package in: {base_package}); it runs in the working directory with the
process stopped, bounded in time, and a failure is the known start's error.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from rig import placeholders
from rig.place.session import PlaceSession
from rig.errors import RigError

TIMEOUT = 60.0  # s: a reset that takes longer is stuck


def run_reset_command(session: PlaceSession, base_package: Path) -> None:
    argv = [placeholders.fill_all(part, {"base_package": str(Path(base_package).resolve())})
            for part in session.reset_command]
    cwd = session.work_dir or Path(".")
    cwd.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RigError(f"process.reset_command {argv[0]!r} could not run: {exc}") from None
    session.timeline.append("reset-command", argv=argv, code=proc.returncode)
    if proc.returncode != 0:
        said = " ".join((proc.stderr or proc.stdout).split())[-300:]
        raise RigError(f"process.reset_command {' '.join(argv[:3])} exited {proc.returncode}: {said or 'no output'}")
