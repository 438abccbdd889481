"""GpioPower against gpiozero's MockFactory: the pin levels the relay sees, timing, power-good and safe states."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory, MockPin

from rig.power.gpio import GpioPower, make_pin_factory
from rig.power.base import PowerError
from rig.netutil import default_sigint

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset


class BoardSupplyPin(MockPin):
    """The relay input of a modelled bench: switching it moves the board's power-good line after `delay` s.

    `back_powered` models a board fed through the debugger: its 3V3 never drops.
    """

    def __init__(self, factory, info, good_pin=None, active_low=False, delay=0.03, back_powered=False):
        super().__init__(factory, info)
        self.good_pin, self.active_low, self.delay, self.back_powered = good_pin, active_low, delay, back_powered

    def _change_state(self, value):
        changed = super()._change_state(value)
        if changed and self.good_pin is not None:
            timer = threading.Timer(self.delay, self._settle)
            timer.daemon = True
            timer.start()
        return changed

    def _settle(self):
        """The rail follows the relay as it is *now*: two timers of quick switches may fire in either order
        on a loaded machine, and the later level must win, as on a real supply."""
        powered = bool(self.state) != self.active_low
        if powered:
            self.good_pin.drive_high()
        elif not self.back_powered:
            self.good_pin.drive_low()


def test_power_gpio_mock_levels_active_high(timeline):
    factory = MockFactory()
    with GpioPower(17, pin_factory=factory, min_off=0, name="p1", timeline=timeline) as power:
        pin = factory.pin(17)
        assert pin.function == "output" and pin.state is False and not power.is_on()
        power.on()
        assert pin.state is True and power.is_on()
        power.off()
        assert pin.state is False and not power.is_on()
    actions = [e.data["action"] for e in timeline.events("power")]
    assert actions == ["on", "off", "off"]  # the last one is the safe state applied on close
    assert timeline.events("power")[-1].data["reason"] == "safe-state"


def test_power_gpio_mock_active_low_inverts_levels():
    factory = MockFactory()
    power = GpioPower(22, pin_factory=factory, active_low=True, min_off=0)
    pin = factory.pin(22)
    assert pin.state is True  # off from the first instant: no glitch to "on" while the pin is set up
    power.on()
    assert pin.state is False and power.is_on()
    power.off()
    assert pin.state is True and not power.is_on()
    power.close()
    assert pin.function == "input"


def test_power_gpio_mock_min_off_time_is_enforced():
    factory = MockFactory()
    power = GpioPower(5, pin_factory=factory, min_off=0.15)
    pin = factory.pin(5)
    power.on()  # waits out the off time counted from construction
    power.off()
    power.on()
    power.close()
    # states: [initial, on, off, on, off]; timestamps are the time since the previous change
    levels = [s.state for s in pin.states]
    assert levels == [False, True, False, True, False]
    assert pin.states[1].timestamp >= 0.15
    assert pin.states[3].timestamp >= 0.15


def _bench(active_low=False, back_powered=False):
    factory = MockFactory()
    good = factory.pin(27)
    factory.pin(17, pin_class=BoardSupplyPin, good_pin=good, active_low=active_low, back_powered=back_powered)
    return factory, good


def test_power_gpio_mock_power_good_confirms_cut_and_restore():
    factory, good = _bench(active_low=True)
    power = GpioPower(17, pin_factory=factory, active_low=True, min_off=0, power_good_pin=27, confirm_timeout=2)
    power.on()
    assert power.power_good() is True
    power.off()
    assert power.power_good() is False
    power.close()


def test_power_gpio_mock_power_good_catches_back_powered_board():
    factory, good = _bench(back_powered=True)
    power = GpioPower(17, pin_factory=factory, min_off=0, power_good_pin=27, confirm_timeout=0.3, name="k64f-1")
    power.on()
    with pytest.raises(PowerError, match=r"k64f-1: relay GPIO17 off, but power-good GPIO27 still high.*back-powered"):
        power.off()
    assert factory.pin(17).state is False  # the relay did open; only the board stayed up
    with pytest.raises(PowerError):
        power.close()  # close still tries the safe state, still unconfirmed, and still releases the pins
    assert factory.pin(17).function == "input"


def test_power_gpio_mock_power_good_missing_supply_on_power_on():
    factory = MockFactory()
    factory.pin(27)  # power-good never rises: blown fuse
    power = GpioPower(17, pin_factory=factory, min_off=0, power_good_pin=27, confirm_timeout=0.1)
    with pytest.raises(PowerError, match="power-good GPIO27 stayed low"):
        power.on()


def test_power_gpio_mock_safe_state_after_exception():
    factory = MockFactory()
    with pytest.raises(RuntimeError):
        with GpioPower(17, pin_factory=factory, active_low=True, min_off=0) as power:
            power.on()
            assert factory.pin(17).state is False
            raise RuntimeError("test failed midway")
    # the undriven mock input starts low; driven, it goes straight to off (high), on (low), then safe off (high)
    assert [s.state for s in factory.pin(17).states] == [False, True, False, True]


def test_power_gpio_mock_safe_state_on_is_honoured():
    factory = MockFactory()
    power = GpioPower(17, pin_factory=factory, min_off=0, safe_state="on")
    assert factory.pin(17).state is True
    power.off()
    power.close()
    assert factory.pin(17).states[-1].state is True


CHILD = textwrap.dedent(
    """
    import atexit, json, sys, time
    from gpiozero.pins.mock import MockFactory
    from rig.power.gpio import GpioPower

    factory = MockFactory()
    pin = factory.pin(17)
    report = sys.argv[1]
    # registered first, so it runs last: after the power object's own exit handler
    atexit.register(lambda: open(report, "w").write(json.dumps(
        {"levels": [s.state for s in pin.states], "function": pin.function})))
    power = GpioPower(17, pin_factory=factory, active_low=True, min_off=0)
    if sys.argv[2] == "with":
        with power:
            power.on()
            print("on", flush=True)
            time.sleep(60)
    else:
        power.on()
        print("on", flush=True)
        time.sleep(60)
    """
)


@pytest.mark.parametrize("style", ["with", "atexit"])
def test_power_gpio_mock_safe_state_after_sigint_in_subprocess(tmp_path: Path, style: str):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    report = tmp_path / "report.json"
    child = subprocess.Popen([sys.executable, str(script), str(report), style], stdout=subprocess.PIPE, text=True,
                             preexec_fn=default_sigint)
    try:
        assert child.stdout.readline().strip() == "on"
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=10) != 0  # died of the KeyboardInterrupt
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    result = json.loads(report.read_text())
    # undriven input (low), driven off (high), on (low), back to safe off (high)
    assert result["levels"] == [False, True, False, True]
    assert result["function"] == "input"  # released: from now on the hardware pull holds it


def test_power_gpio_mock_unknown_factory_word():
    with pytest.raises(PowerError, match="pin factory must be one of auto, rpigpio, lgpio, mock"):
        make_pin_factory("wiringpi")


def test_power_gpio_rpigpio_factory_off_pi_is_a_clear_error():
    # On this (non-Pi) machine RPi.GPIO is absent or finds no GPIO: either way one line saying what to do.
    with pytest.raises(PowerError, match="rpigpio"):
        make_pin_factory("rpigpio")
