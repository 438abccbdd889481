"""The Last State Change Time rule (rig.verdict.lsct) on hand-made timelines: each of its rules can fail,
and what a correct device shows passes, on targets with and without real time."""

from __future__ import annotations

from dataclasses import replace

from rig.lwm2m.profile import Profile
from rig.timeline import Event
from rig.verdict.lsct import WALL_CLOCK, check_lsct

EP = "dev"
PROFILE = Profile()  # keeps_real_time = false
REAL_TIME = replace(PROFILE, keeps_real_time=True)


def read(t: float, state: int, result: int, lsct: int) -> Event:
    return Event(t, "request", {"endpoint": EP, "op": "read", "path": "/5/0", "code": "2.05", "sent": t - 0.01,
                                "values": {"5/0/3": state, "5/0/5": result, "5/0/12": lsct}})


def request(t: float, op: str, path: str, code: str = "2.04", value=None) -> Event:
    return Event(t, "request", {"endpoint": EP, "op": op, "path": path, "code": code, "sent": t - 0.01, "value": value})


def uri(t: float) -> Event:
    return request(t, "write", "/5/0/1", value="coap://h/fw.bin")


def rules(events, profile=PROFILE) -> list[str]:
    return [v.rule for v in check_lsct(events, EP, profile)]


def update(lsct_at) -> list[Event]:
    """Idle, Package URI written, Downloading for 2 s (two reads), Downloaded: times from lsct_at(state)."""
    return [read(10.0, 0, 0, 0), uri(10.2), read(10.5, 1, 0, lsct_at(1)), read(12.5, 1, 0, lsct_at(1)),
            read(12.7, 2, 0, lsct_at(2))]


def test_a_correct_device_passes():
    assert rules(update({1: 1000, 2: 1002}.get)) == []


def test_a_time_that_stays_while_state_changes_is_caught():
    found = check_lsct(update({1: 1000, 2: 1000}.get), EP, PROFILE)
    assert [v.rule for v in found] == ["lsct-not-moved-with-state"]
    assert "Downloading / 0" in found[0].detail and "Downloaded / 0" in found[0].detail


def test_within_a_second_a_same_value_is_legal():
    # Downloading seen only once, 0.2 s before Downloaded: both changes may fall in one second.
    events = [read(10.0, 0, 0, 0), uri(10.2), read(10.5, 1, 0, 1000), read(10.7, 2, 0, 1000)]
    assert rules(events) == []


def test_the_first_value_of_a_boot_is_not_trusted_without_real_time():
    # Idle read twice 2 s apart, then Downloading with the same time: the Idle value may come from an
    # earlier boot's clock, so without real time this is not judged; with real time it is.
    events = [read(10.0, 0, 0, 1000), read(12.0, 0, 0, 1000), uri(12.2), read(12.5, 1, 0, 1000)]
    assert rules(events) == []
    assert rules(events, REAL_TIME) == ["lsct-not-moved-with-state"]


def test_a_time_that_moves_without_a_state_change_is_caught():
    events = [read(10.0, 2, 0, 1000), request(10.2, "execute", "/5/0/2"), read(10.5, 2, 11, 1003)]
    assert rules(events) == ["lsct-moved-without-state-change"]
    assert rules(events[:2] + [read(10.5, 2, 11, 1000)]) == []  # deferred: State stayed Downloaded


def test_a_cut_while_downloaded_keeps_the_time():
    cut = [Event(11.0, "power", {"action": "off"}), Event(12.0, "power", {"action": "on"}),
           Event(12.5, "register", {"endpoint": EP})]
    assert rules([read(10.0, 2, 11, 1000), *cut, read(13.0, 2, 11, 1000)]) == []
    assert rules([read(10.0, 2, 11, 1000), *cut, read(13.0, 2, 11, 1012)]) == ["lsct-moved-without-state-change"]


def test_an_update_across_a_reboot_is_not_judged_without_real_time():
    events = [read(10.0, 2, 0, 1000), request(10.2, "execute", "/5/0/2"), Event(11.0, "register", {"endpoint": EP}),
              read(11.5, 0, 1, 5)]  # a clock that restarted at boot: legal without real time
    assert rules(events) == []


def test_a_decrease_within_a_boot_is_caught():
    events = [read(10.0, 0, 0, 0), uri(10.2), read(10.5, 1, 0, 1000), read(10.7, 2, 0, 990)]
    assert rules(events) == ["lsct-decreased"]


def test_an_overlapping_request_leaves_the_pair_unjudged():
    # The Execute went out before the first read was answered: which came first is unknown.
    events = [read(10.0, 2, 0, 1000), Event(10.3, "request", {"endpoint": EP, "op": "execute", "path": "/5/0/2",
                                                                "code": "2.04", "sent": 9.9}), read(10.5, 2, 11, 1003)]
    assert rules(events) == []


def test_real_time_plausibility_against_the_rigs_clock():
    wall = Event(9.0, WALL_CLOCK, {"wall": 1_000_000.0})  # timeline t -> wall = t + 999_991
    good = [wall, read(10.0, 0, 0, 0), uri(10.2), read(10.5, 1, 0, 1_000_001)]
    assert rules(good, REAL_TIME) == []
    assert rules([wall, read(10.0, 0, 0, 0), uri(10.2), read(10.5, 1, 0, 1_000_100)], REAL_TIME) == [
        "lsct-implausible", "lsct-implausible"]  # later than the change could be, and in the future
    assert rules([wall, read(10.0, 0, 0, 0), uri(10.2), read(10.5, 1, 0, 999_900)], REAL_TIME) == ["lsct-implausible"]
    assert rules([wall, read(10.0, 0, 0, 0), uri(10.2), read(10.5, 1, 0, 999_900)]) == []  # no real time: not judged


def test_other_endpoints_and_failed_reads_are_ignored():
    other = Event(12.6, "request", {"endpoint": "x", "op": "read", "path": "/5/0", "code": "2.05", "sent": 12.59,
                                    "values": {"5/0/3": 2, "5/0/5": 0, "5/0/12": 1}})
    failed = Event(12.6, "request", {"endpoint": EP, "op": "read", "path": "/5/0", "code": "4.04", "sent": 12.59})
    events = update({1: 1000, 2: 1002}.get)
    assert rules(events[:4] + [other, failed] + events[4:]) == []
