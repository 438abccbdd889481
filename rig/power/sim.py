"""Power of the virtual board: the supervisor's relay (on starts the MCU process, off SIGKILLs it)."""

from __future__ import annotations

from typing import Any

from rig.power.base import FlashCut, PowerBase, PowerError
from rig.sim.control import SupervisorClient, SupervisorError


class SimPower(PowerBase):
    backend = "sim"
    switches_fast = True
    powers_on_halted = True
    persistent = True  # the supervisor keeps the board's power as switched after the command ends

    def __init__(self, control_port: int, host: str = "127.0.0.1", **common: Any) -> None:
        super().__init__(**common)
        self._client = SupervisorClient(control_port, host)
        self._halted_next = False

    def on_halted(self) -> None:
        with self._lock:
            self._halted_next = True
            try:
                self._set(True, reason="halted")
            finally:
                self._halted_next = False

    def _switch(self, on: bool) -> None:
        try:
            if on:
                self._client.power_on(halted=self._halted_next)
            else:
                self._client.cut()
        except (SupervisorError, OSError) as exc:
            raise PowerError(f"virtual board power {'on' if on else 'off'} failed: {exc}") from exc

    def flash_cut(self) -> FlashCut:
        return self

    def arm_flash_cut(self, op: int, torn: bool = False, seed: int = 0) -> None:
        """Make the board's next MCU start (power-on or reboot) lose power at its flash operation `op`."""
        try:
            with self._lock:  # one control connection, shared with on/off from other threads
                self._client.arm_cut(op, torn=torn, seed=seed)
        except (SupervisorError, OSError) as exc:
            raise PowerError(f"virtual board: arming a cut at flash op {op} failed: {exc}") from exc
        if self.timeline is not None:
            self.timeline.append("flash-cut-armed", place=self.name, flash_op=op, torn=torn, seed=seed)

    def disarm_flash_cut(self) -> None:
        try:
            with self._lock:
                self._client.disarm_cut()
        except (SupervisorError, OSError) as exc:
            raise PowerError(f"virtual board: disarming the flash-op cut failed: {exc}") from exc

    def flash_cut_status(self) -> dict[str, Any]:
        """The board's power and the last flash-op cut it took ({"power", "armed", "last_cut", ...})."""
        try:
            with self._lock:
                return self._client.status()
        except (SupervisorError, OSError) as exc:
            raise PowerError(f"virtual board power state unknown: {exc}") from exc

    def _read(self) -> bool:
        try:
            return self._client.is_on()
        except (SupervisorError, OSError) as exc:
            raise PowerError(f"virtual board power state unknown: {exc}") from exc

    def _release(self) -> None:
        self._client.close()
