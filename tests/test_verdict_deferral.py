"""The deferral rule (rig.verdict.deferral) on hand-made timelines: a deferral past its period, or with a
period of 0, is caught; one that ends in time, one the rig cannot date, or one a reset ends is not."""

from __future__ import annotations

from dataclasses import replace

from rig.lwm2m.deferral_profile import DeferralProfile
from rig.lwm2m.profile import Profile
from rig.timeline import Event
from rig.verdict.deferral import check_deferral

EP = "dev"
PROFILE = replace(Profile(), deferral=DeferralProfile("resource-write", "/5/0/11", 2, margin=2.0))


def request(t: float, op: str, path: str, code: str = "2.04", value=None, values=None) -> Event:
    return Event(t, "request", {"endpoint": EP, "op": op, "path": path, "code": code, "sent": t - 0.01,
                                "value": value, "values": values or {}})


def state(t: float, s: int, r: int) -> Event:
    return request(t, "read", "/5/0", "2.05", values={"5/0/3": s, "5/0/5": r})


def deferred(period: str = "5") -> list[Event]:
    """Period written, Execute answered at t=10, then Downloaded / 11 read."""
    return [request(9.0, "write", "/5/0/13", value=period), request(10.0, "execute", "/5/0/2"), state(10.2, 2, 11)]


def rules(events) -> list[str]:
    return [v.rule for v in check_deferral(events, EP, PROFILE)]


def test_a_deferral_that_ends_in_time_passes():
    assert rules(deferred() + [state(14.0, 2, 11), Event(15.5, "register", {"endpoint": EP}), state(16.0, 0, 1)]) == []


def test_a_deferral_still_there_after_period_and_margin_is_caught():
    assert rules(deferred() + [state(16.9, 2, 11)]) == []  # 5 s + 2 s margin after t=10 not yet over
    found = check_deferral(deferred() + [state(17.2, 2, 11), state(18.0, 2, 11)], EP, PROFILE)
    assert [v.rule for v in found] == ["deferral-overdue"]  # once per deferral
    assert "Maximum Defer Period of 5 s" in found[0].detail


def test_a_period_of_zero_allows_no_deferral():
    found = check_deferral(deferred("0"), EP, PROFILE)
    assert [v.rule for v in found] == ["deferred-without-period"]
    assert "If the value is 0" in found[0].detail


def test_an_unknown_period_is_not_judged():
    assert rules(deferred()[1:] + [state(100.0, 2, 11)]) == []
    # a read of the period counts as knowing it; a known start forgets it (the settings were erased)
    assert rules([request(9.0, "read", "/5/0/13", "2.05", values={"5/0/13": 5})] + deferred()[1:] + [state(30.0, 2, 11)]) \
        == ["deferral-overdue"]
    assert rules(deferred()[:1] + [Event(9.5, "known-start", {})] + deferred()[1:] + [state(30.0, 2, 11)]) == []


def test_a_reset_or_cancel_ends_the_deferral():
    for end in (request(11.0, "write", "/5/0/1", value=""), request(11.0, "execute", "/5/0/10")):
        assert rules(deferred() + [end, state(30.0, 2, 11)]) == []


def test_a_device_that_was_off_at_its_deadline_gets_its_boot():
    cut = [Event(11.0, "power", {"action": "off"}), Event(20.0, "power", {"action": "on"}),
           Event(21.0, "register", {"endpoint": EP})]
    assert rules(deferred() + cut + [state(22.0, 2, 11)]) == []  # booted at 21: 2 s margin from there
    assert rules(deferred() + cut + [state(23.5, 2, 11)]) == ["deferral-overdue"]
    # powered on, not registered yet: nothing to judge
    assert rules(deferred() + cut[:2] + [state(40.0, 2, 11)]) == []


def test_a_longer_period_written_during_the_deferral_counts():
    assert rules(deferred() + [request(11.0, "write", "/5/0/13", value="60"), state(20.0, 2, 11)]) == []


def test_without_an_execute_nothing_is_judged():
    assert rules([request(9.0, "write", "/5/0/13", value="0"), state(10.2, 2, 11), state(50.0, 2, 11)]) == []
