"""rig relayd with GPIO outlets on gpiozero's MockFactory (the pin write replaced at the lowest level), reached
over real HTTP on loopback: labgrid's simplerest requests, power-good confirmation, minimum off time, leases,
the rig's relay backend, and the safe state when the service stops.
"""

from __future__ import annotations

import http.client
import threading
import time
import urllib.request

import pytest
from gpiozero.pins.mock import MockFactory, MockPin

from rig.power.gpio import GpioPower
from rig.power.relay import RelayPower
from rig.power.base import PowerError
from rig.relayd.outlet import Outlet
from rig.relayd.server import RelayServer

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

RELAY_PIN, GOOD_PIN = 17, 27


class SupplyPin(MockPin):
    """The relay input of a modelled bench: the board's power-good line follows it (unless back-powered)."""

    back_powered = False

    def _change_state(self, value):
        changed = super()._change_state(value)
        if changed and self.function == "output":
            good = self.factory.pin(GOOD_PIN)
            if value:
                good.drive_high()
            elif not SupplyPin.back_powered:
                good.drive_low()
        return changed


@pytest.fixture
def service():
    SupplyPin.back_powered = False
    factory = MockFactory(pin_class=SupplyPin)
    power = GpioPower(RELAY_PIN, pin_factory=factory, min_off=0.3, power_good_pin=GOOD_PIN, confirm_timeout=0.5,
                      name="k64f-1")
    server = RelayServer(("127.0.0.1", 0), [Outlet(0, "k64f-1", power, "off")])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server, factory
    server.shutdown()
    server.close_outlets()
    server.server_close()


def get(url: str) -> tuple[int, str, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode(), dict(answer.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def test_simplerest_switches_and_reads_with_power_good_confirmation(service):
    server, factory = service
    host = server.url + "/relay/{index}/{value}"  # labgrid's NetworkPowerPort host template
    status, body, headers = get(host.format(index=0, value=1))
    assert (status, body) == (200, "1") and headers["X-Rig-Confirmed"] == "power-good"
    assert factory.pin(RELAY_PIN).state is True and factory.pin(GOOD_PIN).state is True
    assert get(host.format(index=0, value="").rstrip("/"))[1] == "1"  # labgrid's power_get
    assert get(host.format(index=0, value=0))[:2] == (200, "0")
    assert get(server.url + "/relay/7/1")[0] == 404


def test_minimum_off_time_holds_the_next_on(service):
    server, _ = service
    get(server.url + "/relay/0/1")
    get(server.url + "/relay/0/0")
    start = time.monotonic()
    assert get(server.url + "/relay/0/1")[:2] == (200, "1")
    assert time.monotonic() - start >= 0.28  # min_off 0.3 s: the supply's capacitors drain first


def test_a_cut_the_board_does_not_follow_is_a_502(service):
    server, _ = service
    get(server.url + "/relay/0/1")
    SupplyPin.back_powered = True  # fed through the debugger: power-good stays high after the relay opens
    status, body, _ = get(server.url + "/relay/0/0")
    assert status == 502 and "power-good" in body and "still high" in body


def test_relay_backend_holds_a_lease_and_the_service_falls_back_when_it_stops_renewing(service, timeline):
    server, factory = service
    power = RelayPower(server.url + "/relay/0", lease=0.6, name="k64f-1", timeline=timeline)
    power.on()
    assert factory.pin(RELAY_PIN).state is True
    path = timeline.events("power-path")[0].data
    assert path["remote"] is True and path["lease"] == 0.6 and path["round_trip_ms"] > 0
    assert timeline.events("power-confirmed")[-1].data["by"] == "power-good"
    time.sleep(1.0)  # longer than the lease: the renewals (every lease/3) keep it
    assert power.is_on() and server.outlets[0].info()["lease_left"] > 0
    power._stop.set()  # the rig stops renewing, as a SIGKILLed one would
    power._renewer.join(timeout=5)
    deadline = time.monotonic() + 3
    while factory.pin(RELAY_PIN).state and time.monotonic() < deadline:
        time.sleep(0.02)
    assert factory.pin(RELAY_PIN).state is False
    assert server.outlets[0].info()["last_safe"].startswith("lease expired")


def test_relay_backend_close_applies_the_safe_state_and_drops_the_lease(service):
    server, factory = service
    with RelayPower(server.url + "/relay/0", lease=5, name="k64f-1") as power:
        power.on()
        assert server.outlets[0].info()["lease_left"] > 0
    assert factory.pin(RELAY_PIN).state is False and server.outlets[0].info()["lease_left"] is None


def test_relay_backend_names_an_unreachable_service():
    with pytest.raises(PowerError, match="unreachable"):
        RelayPower("http://127.0.0.1:9/relay/0", timeout=1, name="k64f-1")


def test_release_and_service_stop_apply_the_safe_state(service):
    server, factory = service
    get(server.url + "/relay/0/1")
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
    conn.request("POST", "/relay/0/release")
    answer = conn.getresponse()
    assert answer.status == 200 and b'"on": false' in answer.read()
    assert factory.pin(RELAY_PIN).state is False
    get(server.url + "/relay/0/1")
    server.close_outlets()  # what `rig relayd` does on SIGTERM / Ctrl-C
    assert factory.pin(RELAY_PIN).state is False
