"""The Power protocol and the behaviour every backend shares: timeline events and the safe state.

The rig's promise is that a board is never left in an unknown power state: the
safe state (named in the rig file, normally "off") is applied on close, when a
`with` block ends by an exception or Ctrl-C, and at interpreter exit. A SIGKILL
cannot be caught, so for that case the hardware itself must make the undriven
output safe (see hardware/README.md).
"""

from __future__ import annotations

import atexit
import signal
import subprocess
import threading
import time
from types import FrameType, TracebackType
from typing import Any, Protocol, runtime_checkable

from rig.errors import RigError
from rig.timeline import Timeline

SAFE_STATES = ("off", "on")


class PowerError(RigError):
    """Switching power failed or could not be confirmed."""


class FlashCut(Protocol):
    """A power that cuts at an exact flash operation of the device's next start (the virtual board's supervisor).

    Only a board that counts its own flash operations can do this; a relay cannot
    know where the MCU is. `Power.flash_cut()` returns this side of a backend, or None.
    """

    def arm_flash_cut(self, op: int, torn: bool = False, seed: int = 0) -> None: ...

    def disarm_flash_cut(self) -> None: ...

    def flash_cut_status(self) -> dict[str, Any]: ...


@runtime_checkable
class Power(Protocol):
    """What the place and the campaign need from a power backend: switching, and what it can do (its capabilities).

    The capabilities are class attributes of each backend (see PowerBase), read as
    plain attributes: code above the backends never asks which backend it holds.
    """

    name: str
    backend: str
    safe_state: str
    switches_fast: bool
    powers_on_halted: bool
    persistent: bool
    powers_probe: bool
    runs_device: bool
    asks_operator: bool

    def on(self) -> None: ...

    def off(self) -> None: ...

    def is_on(self) -> bool: ...

    def on_halted(self) -> None: ...

    def cycle(self, off_time: float = 0.0) -> None: ...

    def client_process(self) -> "subprocess.Popen | None": ...

    def flash_cut(self) -> FlashCut | None: ...

    def close(self) -> None: ...

    def detach(self) -> None: ...


class PowerBase:
    """Shared part of the backends: subclasses implement `_switch(on)`, `_read()` and `_release()`.

    Every switch lands in the timeline as a "power" event, so verdicts can line a
    cut up against blocks served and console lines.
    """

    backend = "base"
    # True when off() is a pin write or one local round trip (well under 1 ms): a timed cut then calls it
    # straight from the event loop's timer, without a thread hop's jitter. Slow switches (a hub's CLI, a person)
    # keep going through a thread so the server is never stalled.
    switches_fast = False
    # True when on_halted() powers the board with its core held at reset (the virtual board): a probe then reads
    # slots no bootloader is changing. Others power on normally and the probe halts the core as soon as it can.
    powers_on_halted = False
    # True when the power's state outlives the rig process (a hub port, the virtual board's supervisor, a person):
    # `rig power on` may leave it on. A GPIO pin, a relay lease or a child process ends with the command.
    persistent = False
    # True when the board's probe needs this power on to read or write its flash (the supply feeds the MCU);
    # False when the "flash" is a file next to a host process.
    powers_probe = True
    # True when on() starts the device itself (a host process): its console has output only while it runs.
    runs_device = False
    # True when switching asks a person at the terminal: the rig then switches only when it must.
    asks_operator = False
    # False when the supply is switched by someone else (a person, another rig's relay service): such a power
    # cannot serve as a relay service's outlet.
    drives_supply = True

    def __init__(self, *, name: str = "", safe_state: str = "off", timeline: Timeline | None = None) -> None:
        if safe_state not in SAFE_STATES:
            raise PowerError(f"power safe_state must be one of {', '.join(SAFE_STATES)}, got {safe_state!r}")
        self.name = name
        self.safe_state = safe_state
        self.timeline = timeline
        self._closed = False
        self._lock = threading.RLock()
        atexit.register(self._at_exit)

    # --- subclass hooks -------------------------------------------------
    def _switch(self, on: bool) -> None:
        raise NotImplementedError

    def _read(self) -> bool:
        raise NotImplementedError

    def _release(self) -> None:
        """Free the resource after the safe state was applied (pins, processes)."""

    # --- public API -----------------------------------------------------
    def on(self) -> None:
        self._set(True)

    def off(self) -> None:
        self._set(False)

    def client_process(self) -> "subprocess.Popen | None":
        """The device's own process when the device is a host process (its end is the device's end), else None."""
        return None

    @property
    def confirmed_by(self) -> str:
        """How a switch is confirmed: "readback" of the backend's own state (a power-good input where one is wired)."""
        return "readback"

    def flash_cut(self) -> FlashCut | None:
        """The backend's flash-op cut (a board that cuts itself at its Nth flash operation), None when it has none."""
        return None

    def on_halted(self) -> None:
        """Power on with the core held at reset where the backend can (see powers_on_halted), else on()."""
        self._set(True)

    def cycle(self, off_time: float = 0.0) -> None:
        """Off, wait `off_time` (backends may enforce a longer minimum), on."""
        self.off()
        if off_time > 0:
            time.sleep(off_time)
        self.on()

    def is_on(self) -> bool:
        with self._lock:
            self._check_open()
            return self._read()

    def apply_safe_state(self) -> None:
        """Drive the safe state now (used on close, on errors and at exit)."""
        with self._lock:
            if not self._closed:
                self._set(self.safe_state == "on", reason="safe-state")

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            try:
                self.apply_safe_state()
            finally:
                self._closed = True
                atexit.unregister(self._at_exit)
                self._release()

    def detach(self) -> None:
        """Let go without driving the safe state: for power that outlives the rig (`rig power on` on a hub port)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            atexit.unregister(self._at_exit)
            self._release()

    def __enter__(self) -> "PowerBase":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # --- internals ------------------------------------------------------
    def _set(self, on: bool, reason: str = "") -> None:
        with self._lock:
            self._check_open()
            called = self.timeline.now() if self.timeline is not None else 0.0
            self._switch(on)
            if self.timeline is not None:
                # called: when the rig commanded the switch; the event's own time is when the backend confirmed it
                data = {"place": self.name, "backend": self.backend, "action": "on" if on else "off", "called": called}
                if reason:
                    data["reason"] = reason
                self.timeline.append("power", **data)

    def _check_open(self) -> None:
        if self._closed:
            raise PowerError(f"power of place {self.name or '?'} ({self.backend}) is closed")

    def _at_exit(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - nothing left to report to at exit; the hardware pull keeps it safe
            pass


def raise_on_sigterm() -> None:
    """Turn SIGTERM (systemd stop, CI cancel) into SystemExit so `with` blocks and atexit apply safe states.

    Only the main thread may install signal handlers; the CLI calls this once at start.
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
