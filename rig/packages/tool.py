"""Run one of the commands a target's [package] table names (a vendor's packaging tool), with its placeholders.

The tool is somebody else's program: it gets a bounded time, its output is kept
for the error message, and a failure is one line naming the target file, the key,
the exit status and the tool's last words; never a traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rig import placeholders
from rig.errors import RigError

LAST_WORDS = 300  # characters of the tool's output quoted in an error


class PackageTool:
    """The [package] commands of one target file; `run(key, **values)` returns the tool's stdout."""

    def __init__(self, commands: dict[str, tuple[str, ...]], target_file: Path, timeout: float) -> None:
        self.commands = commands
        self.target_file = Path(target_file).resolve()
        self.timeout = timeout

    def has(self, key: str) -> bool:
        return key in self.commands

    def run(self, key: str, **values: object) -> str:
        argv = self.argv(key, **values)
        where = f"{self.target_file}: package.{key}"
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout,
                                  cwd=self.target_file.parent, stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise RigError(f"{where}: no program {argv[0]!r} (is the tool installed and on PATH?)") from None
        except subprocess.TimeoutExpired:
            raise RigError(f"{where}: {argv[0]} did not finish within {self.timeout:g} s (package.timeout)") from None
        except OSError as exc:
            raise RigError(f"{where}: cannot run {argv[0]!r}: {exc.strerror}") from None
        if proc.returncode != 0:
            said = " ".join((proc.stderr or proc.stdout).split())[-LAST_WORDS:]
            raise RigError(f"{where}: {' '.join(argv[:3])} ... exited {proc.returncode}: {said or 'no output'}")
        return proc.stdout

    def argv(self, key: str, **values: object) -> list[str]:
        fixed = {"python": sys.executable, "target_file": str(self.target_file),
                 "target_dir": str(self.target_file.parent)}
        filled = {**fixed, **{k: str(v) for k, v in values.items()}}
        return [placeholders.fill_all(part, filled) for part in self.commands[key]]

    def version_of(self, package: Path) -> str:
        """The version the tool prints for a package: its output's first line, stripped."""
        out = self.run("version", package=Path(package).resolve()).strip()
        if not out:
            raise RigError(f"{self.target_file}: package.version printed nothing for {package}")
        return out.splitlines()[0].strip()
