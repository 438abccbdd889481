"""The phase a cut really landed in, from the timeline (it can differ from the plan's)."""

from __future__ import annotations

from rig.verdict.phase import phase_at
from rig.timeline import Timeline


def timeline() -> Timeline:
    clock = iter(range(100)).__next__
    tl = Timeline(clock=lambda: float(clock()))
    tl.append("notify", endpoint="ep", path="/5/0/3", values={"5/0/3": 1})          # 0
    tl.append("block2", num=0)                                                       # 1
    tl.append("transfer-done", direction="pull")                                     # 2
    tl.append("notify", endpoint="ep", path="/5/0/3", values={"5/0/3": 2})          # 3
    tl.append("request", endpoint="ep", op="execute", path="/5/0/2", code="2.04")   # 4
    tl.append("register", endpoint="ep")                                             # 5
    tl.append("notify", endpoint="ep", path="/5/0/3", values={"5/0/3": 0})          # 6
    return tl


def test_phases_along_one_update():
    events = timeline().events()
    assert [phase_at(events, "ep", t) for t in (0.5, 1.5, 3.5, 4.5, 5.5, 6.5)] == [
        "downloading", "downloading", "downloaded", "updating", "rebooted", "rebooted"]
