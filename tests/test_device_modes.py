"""Queue mode and bootstrap as data: the target's [lwm2m] keys, cut plans during bootstrap, the phase they hit,
and the bad input of the new options (one line, exit 2)."""

from __future__ import annotations

import pytest

from cmd_helpers import HOST_SIM, one_line_error, rig
from rig.verdict.phase import phase_at
from rig.errors import RigError
from rig.faults import Cut, FaultPlan, bootstrap_cuts
from rig.lwm2m.device_modes import DeviceModes
from rig.lwm2m.profile import Profile
from rig.lwm2m.transmission import CoapTiming
from rig.timeline import Event

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset


def test_target_keys_say_queue_mode_awake_time_and_bootstrap():
    data = {"lwm2m": {"queue_mode": True, "awake_time": 20, "bootstrap": True, "failure_returns_to": "idle"}}
    modes = DeviceModes.from_target(data, "t.toml")
    assert modes == DeviceModes(True, 20.0, True)
    Profile.from_target(data, "t.toml")  # the Object 5 profile leaves these keys to DeviceModes
    assert DeviceModes.from_target({"lwm2m": {"queue_mode": True}}, "t").awake(CoapTiming()) == 93.0  # MAX_TRANSMIT_WAIT


@pytest.mark.parametrize("table, words", [
    ({"queue_mode": "yes"}, "lwm2m.queue_mode must be true or false"),
    ({"queue_mode": True, "awake_time": 0}, "lwm2m.awake_time must be a number of seconds > 0"),
    ({"awake_time": 5}, "set lwm2m.queue_mode = true"),
    ({"bootstrap": 1}, "lwm2m.bootstrap must be true or false"),
])
def test_bad_target_keys_name_the_file_and_the_key(table, words):
    with pytest.raises(RigError, match="t.toml") as err:
        DeviceModes.from_target({"lwm2m": table}, "t.toml")
    assert words in str(err.value)


def test_bootstrap_cut_plans_round_trip_and_a_bad_step_is_refused():
    plans = bootstrap_cuts(seed=3)
    assert [p.name for p in plans] == ["bootstrap-before-write", "bootstrap-before-finish"]
    assert all(FaultPlan.from_dict(p.to_dict()) == p for p in plans)
    assert plans[1].describe() == "cut during the bootstrap after Execute, before its finish"
    with pytest.raises(RigError, match="step is one of delete, write, finish"):
        FaultPlan("x", Cut("bootstrap", step="discover")).validate()


def test_a_cut_between_bootstrap_request_and_finish_is_in_phase_bootstrapping():
    ep = "d"
    events = [Event(1, "request", {"endpoint": ep, "op": "execute", "path": "/5/0/2", "code": "2.04"}),
              Event(2, "bootstrap-request", {"endpoint": ep}), Event(3, "bootstrap-step", {"endpoint": ep}),
              Event(4, "bootstrap-finish", {"endpoint": ep, "code": "2.04"}), Event(5, "register", {"endpoint": ep})]
    assert phase_at(events, ep, 1.5) == "updating"
    assert phase_at(events, ep, 3.5) == "bootstrapping"
    assert phase_at(events, ep, 4.5) == "updating"  # finished, not yet registered: still the update's reboot
    assert phase_at(events, ep, 5.5) == "rebooted"


@pytest.mark.parametrize("args, words", [
    (["--awake", "2s"], "give --queue-mode too"),
    (["--bootstrap-server", "http://x"], "must be a coap:// or coaps:// URI"),
    (["--bootstrap-server", "coaps://127.0.0.1:5784"], "coaps needs --psk"),
    (["--bootstrap-server", "coap://127.0.0.1:5783", "--server", "coap://127.0.0.1:5683"], "not both"),
])
def test_rig_sim_bad_queue_and_bootstrap_options_are_one_line(tmp_path, args, words):
    one_line_error(rig("sim", "--dir", str(tmp_path / "b"), *args, cwd=tmp_path), words)


def test_rig_run_sim_switches_are_for_the_virtual_board_only(tmp_path):
    one_line_error(rig("run", "--target", str(HOST_SIM), "--sim-queue-mode", "--report-dir", str(tmp_path / "r"),
                       cwd=tmp_path), "for the virtual board")


def test_a_process_target_gets_the_bootstrap_uri_and_is_told_why_when_it_has_none(tmp_path):
    from dataclasses import replace
    from types import SimpleNamespace

    from rig.config import BackendConfig, place_from_target
    from rig.place.server_values import fill_server

    place = place_from_target(HOST_SIM, tmp_path)
    argv = ["client", "--bootstrap-server", "{bootstrap_uri}"]
    place = replace(place, power=BackendConfig("process", {**place.power.options, "argv": argv}))
    filled = fill_server(place, "127.0.0.1", 6000, "coap", SimpleNamespace(port=6100))
    assert filled.power.options["argv"][-1] == "coap://127.0.0.1:6100"
    with pytest.raises(RigError, match="does not set lwm2m.bootstrap = true"):
        fill_server(place, "127.0.0.1", 6000, "coap", None)
