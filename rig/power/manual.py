"""Power switched by a person: the rig asks on the terminal and waits for Enter.

For a first bring-up before the relay is wired, or a board whose supply the rig
cannot reach. The prompt goes to the controlling terminal (/dev/tty) so it is
seen even when stdout is redirected to a report.
"""

from __future__ import annotations

from typing import TextIO

from rig.power.base import PowerBase, PowerError
from rig.timeline import Timeline


class ManualPower(PowerBase):
    backend = "manual"
    persistent = True  # the supply stays as the person left it
    asks_operator = True
    drives_supply = False

    def __init__(
        self,
        *,
        describe: str = "the board's supply",
        tty_in: TextIO | None = None,
        tty_out: TextIO | None = None,
        name: str = "",
        safe_state: str = "off",
        timeline: Timeline | None = None,
    ) -> None:
        self.describe = describe
        self._in, self._out, self._owned = tty_in, tty_out, None
        self._state: bool | None = None
        super().__init__(name=name, safe_state=safe_state, timeline=timeline)

    def _streams(self) -> tuple[TextIO, TextIO]:
        if self._in is None or self._out is None:
            try:
                self._owned = open("/dev/tty", "r+", encoding="utf-8")  # noqa: SIM115 - kept open across prompts
            except OSError as exc:
                raise PowerError(
                    f"place {self.name or '?'} uses manual power, which needs a terminal to ask the operator ({exc})"
                ) from exc
            self._in = self._in or self._owned
            self._out = self._out or self._owned
        return self._in, self._out

    def _switch(self, on: bool) -> None:
        tty_in, tty_out = self._streams()
        try:
            tty_out.write(f"[rig] place {self.name or '?'}: switch {self.describe} {'ON' if on else 'OFF'}, then press Enter: ")
            tty_out.flush()
            answer = tty_in.readline()
        except OSError:
            answer = ""
        if not answer:
            raise PowerError(f"place {self.name or '?'}: no answer from the operator (terminal closed)")
        self._state = on

    def _read(self) -> bool:
        return bool(self._state)

    def _release(self) -> None:
        if self._owned is not None:
            self._owned.close()
