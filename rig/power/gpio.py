"""Power through a relay on a Raspberry Pi GPIO pin (gpiozero OutputDevice).

Pin factories: "rpigpio" (RPi.GPIO, Pi 1-4), "lgpio" (Pi 5, where RPi.GPIO cannot
reach the RP1 GPIO block), "mock" (gpiozero's MockFactory, for tests and dry runs),
"auto" (gpiozero's own choice). An optional power-good input (a divider from the
board's 3V3 rail) confirms that a cut really removed power: a board fed back
through the debugger or the UART keeps it high, and that is an error, not a cut.
"""

from __future__ import annotations

import time
from typing import Any

from rig.power.base import PowerBase, PowerError
from rig.timeline import Timeline

PIN_FACTORIES = ("auto", "rpigpio", "lgpio", "mock")
_FACTORY_HINTS = {
    "rpigpio": "install the `hw` extra (pip install 'rig[hw]', RPi.GPIO) on a Pi 1-4; on a Pi 5 use pin_factory = \"lgpio\"",
    "lgpio": "install the `pi5` extra (pip install 'rig[pi5]', rpi-lgpio) or python3-lgpio from apt",
}


def make_pin_factory(kind: str | Any) -> Any:
    """A gpiozero pin factory from a word, or the object itself if one is passed (tests share a MockFactory)."""
    if not isinstance(kind, str):
        return kind
    if kind == "auto":
        return None
    try:
        if kind == "mock":
            from gpiozero.pins.mock import MockFactory  # noqa: PLC0415 -- hardware extra: gpiozero and its pin factory exist only on a Pi

            return MockFactory()
        if kind == "rpigpio":
            from gpiozero.pins.rpigpio import RPiGPIOFactory  # noqa: PLC0415 -- hardware extra: gpiozero and its pin factory exist only on a Pi

            return RPiGPIOFactory()
        if kind == "lgpio":
            from gpiozero.pins.lgpio import LGPIOFactory  # noqa: PLC0415 -- hardware extra: gpiozero and its pin factory exist only on a Pi

            return LGPIOFactory()
    except ImportError as exc:
        raise PowerError(f"pin factory {kind!r} is not available ({exc}): {_FACTORY_HINTS[kind]}") from exc
    except Exception as exc:  # the factories raise their own errors when the GPIO chip is missing
        raise PowerError(f"pin factory {kind!r} failed to start: {exc} (is this a Raspberry Pi with GPIO access?)") from exc
    raise PowerError(f"pin factory must be one of {', '.join(PIN_FACTORIES)}, got {kind!r}")


class GpioPower(PowerBase):
    """A relay on BCM pin `pin`; `active_low` for the common opto-isolated boards that switch on a low input."""

    backend = "gpio"
    switches_fast = True

    def __init__(
        self,
        pin: int,
        *,
        pin_factory: str | Any = "auto",
        active_low: bool = False,
        min_off: float = 0.5,
        power_good_pin: int | None = None,
        power_good_active_low: bool = False,
        confirm_timeout: float = 2.0,
        name: str = "",
        safe_state: str = "off",
        timeline: Timeline | None = None,
    ) -> None:
        from gpiozero import DigitalInputDevice, OutputDevice  # noqa: PLC0415 -- hardware extra: gpiozero and its pin factory exist only on a Pi
        from gpiozero.exc import GPIOZeroError  # noqa: PLC0415 -- hardware extra: gpiozero and its pin factory exist only on a Pi

        self.pin = pin
        self.power_good_pin = power_good_pin
        self.min_off = min_off
        self.confirm_timeout = confirm_timeout
        factory = make_pin_factory(pin_factory)
        try:
            self._device = OutputDevice(
                pin, active_high=not active_low, initial_value=safe_state == "on", pin_factory=factory
            )
        except GPIOZeroError as exc:
            raise PowerError(f"cannot drive GPIO{pin} for place {name or '?'}: {exc}") from exc
        self._good = None
        if power_good_pin is not None:
            try:
                self._good = DigitalInputDevice(
                    power_good_pin, pull_up=None, active_state=not power_good_active_low, pin_factory=factory
                )
            except GPIOZeroError as exc:
                self._device.close()
                raise PowerError(f"cannot read power-good GPIO{power_good_pin} for place {name or '?'}: {exc}") from exc
        # The supply may have been on a moment ago (a previous run): count from now.
        self._off_since: float | None = time.monotonic() if safe_state == "off" else None
        super().__init__(name=name, safe_state=safe_state, timeline=timeline)

    @property
    def confirmed_by(self) -> str:
        return "power-good" if self.power_good_pin is not None else "readback"

    def power_good(self) -> bool | None:
        """The power-good input (True = board powered), or None without one."""
        return None if self._good is None else bool(self._good.value)

    def _switch(self, on: bool) -> None:
        if on:
            if self._off_since is not None:
                wait = self._off_since + self.min_off - time.monotonic()
                if wait > 0:
                    time.sleep(wait)  # the supply's capacitors must drain, or the "cut" is a brown-out
            self._device.on()
            self._off_since = None
            self._confirm(True)
        else:
            self._device.off()
            if self._off_since is None:
                self._off_since = time.monotonic()
            self._confirm(False)

    def _confirm(self, expect_on: bool) -> None:
        if self._good is None:
            return
        deadline = time.monotonic() + self.confirm_timeout
        while bool(self._good.value) != expect_on:
            if time.monotonic() >= deadline:
                if expect_on:
                    raise PowerError(
                        f"place {self.name or '?'}: relay GPIO{self.pin} on, but power-good GPIO{self.power_good_pin}"
                        f" stayed low for {self.confirm_timeout:g} s: check the relay, fuse and supply"
                    )
                raise PowerError(
                    f"place {self.name or '?'}: relay GPIO{self.pin} off, but power-good GPIO{self.power_good_pin}"
                    f" still high after {self.confirm_timeout:g} s: the board is powered from elsewhere"
                    " (back-powered through the SWD probe or UART? see hardware/README.md)"
                )
            time.sleep(0.002)

    def _read(self) -> bool:
        return bool(self._device.value)

    def _release(self) -> None:
        # Closing makes the pin an input: from here the pull resistor holds the relay in its safe state.
        if self._good is not None:
            self._good.close()
        self._device.close()
