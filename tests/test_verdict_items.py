"""Timeline -> oracle items: causes are dated when sent, so items come back in time order."""

from __future__ import annotations

from rig.verdict import oracle_items as oi
from rig.timeline import Timeline
from rig.verdict.items import timeline_to_items


def test_a_notification_logged_before_an_answered_execute_stays_after_its_sending():
    clock = iter([10.0, 12.0, 13.0]).__next__
    tl = Timeline(clock=clock)
    tl.append("notify", endpoint="ep", path="/5/0/3", values={"5/0/3": 2})            # t=10
    tl.append("notify", endpoint="ep", path="/5/0/3", values={"5/0/3": 3})            # t=12, during the Execute
    tl.append("request", endpoint="ep", op="execute", path="/5/0/2", code="2.04", sent=11.0)  # answered at 13
    items = timeline_to_items(tl.events(), "ep")
    assert [type(i) for i in items] == [oi.Observation, oi.ExecuteUpdate, oi.Observation]
    assert [i.t for i in items] == [10.0, 11.0, 12.0]
    assert items[1].t_done == 13.0
