"""Power through external commands: uhubctl for USB-powered boards, a PDU's CLI, a smart plug script.

Commands are argv templates (a string split with shlex, or a list); `{name}`
placeholders are filled from `vars` after splitting, so a value with spaces stays
one argument and nothing goes through a shell.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from typing import Sequence

from rig.power.base import PowerBase, PowerError
from rig.timeline import Timeline

Template = str | Sequence[str]


def render(template: Template, variables: dict[str, object], what: str) -> list[str]:
    """The argv for one command: split, then fill `{placeholders}`; a missing variable is a PowerError naming it."""
    parts = shlex.split(template) if isinstance(template, str) else list(template)
    try:
        return [part.format(**variables) for part in parts]
    except KeyError as exc:
        raise PowerError(f"power command {what} uses {{{exc.args[0]}}} but vars has no {exc.args[0]!r}") from exc
    except (IndexError, ValueError) as exc:
        raise PowerError(f"power command {what} is not a valid template: {exc}") from exc


class CommandPower(PowerBase):
    """`on`/`off` commands must exit 0; `status` (optional) is on when its output matches `on_pattern`.

    Without a status command, `is_on` reports the last state the rig commanded.
    """

    backend = "command"
    persistent = True  # a hub port or PDU outlet stays as switched after the command ends

    def __init__(
        self,
        on: Template,
        off: Template,
        *,
        status: Template | None = None,
        on_pattern: str = r"\bon\b",
        vars: dict[str, object] | None = None,  # noqa: A002 - the rig file's key name
        timeout: float = 10.0,
        name: str = "",
        safe_state: str = "off",
        timeline: Timeline | None = None,
    ) -> None:
        variables = {"place": name, **(vars or {})}
        self._on = render(on, variables, "on")
        self._off = render(off, variables, "off")
        self._status = render(status, variables, "status") if status is not None else None
        self._on_pattern = re.compile(on_pattern)
        self.timeout = timeout
        self._commanded: bool | None = None
        super().__init__(name=name, safe_state=safe_state, timeline=timeline)

    def _run(self, argv: list[str], what: str) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout, check=False)
        except FileNotFoundError as exc:
            raise PowerError(f"power {what} command not found: {argv[0]!r} (install it or fix the path)") from exc
        except subprocess.TimeoutExpired as exc:
            raise PowerError(f"power {what} command `{shlex.join(argv)}` did not finish within {self.timeout:g} s") from exc
        if done.returncode != 0:
            err = (done.stderr or done.stdout).strip().splitlines()
            detail = " | ".join(err[-3:]) if err else "no output"
            raise PowerError(f"power {what} command `{shlex.join(argv)}` failed with exit code {done.returncode}: {detail}")
        return done.stdout

    def _switch(self, on: bool) -> None:
        self._run(self._on if on else self._off, "on" if on else "off")
        self._commanded = on

    def _read(self) -> bool:
        if self._status is None:
            return bool(self._commanded)
        return bool(self._on_pattern.search(self._run(self._status, "status")))
