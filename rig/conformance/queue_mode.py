"""770 and 771 on a device that registered in queue mode: the update starts while it sleeps.

The plain 770/771 run against a queue-mode device too, but a device that answers
at once keeps itself awake and nothing is ever held. Here the rig waits until the
device's awake time has run out (the server's "asleep"), then starts the update:
the first request must be held until the device's next wake-up (its Update), go
out then, and the update must still end with the new image running and Idle / 1.
The observation of State made before the sleep must still deliver (observations
survive sleep: the State change the held request caused is notified on it).
"""

from __future__ import annotations

from rig.place.session import PlaceSession
from rig.conformance.context import Checks, ConformanceContext
from rig.conformance.steps import fresh, oracle
from rig.conformance.updates import update_after_fresh
from rig.lwm2m import events as lwm2m
from rig.lwm2m.object5 import STATE_PATH
from rig.results import CaseResult
from rig.timeline import Event

SLEEP_MARGIN = 2.0  # s past the server's awake window within which its "asleep" must come


def _mine(session: PlaceSession, kind: str):
    return lambda e: e.kind == kind and e.data.get("endpoint") == session.endpoint


async def _until_asleep(session: PlaceSession, checks: Checks) -> int | None:
    """Timeline index of the server's "asleep" for the device (None, with a violation, when it never came)."""
    presence = session.server.presence
    assert presence is not None
    start = len(session.timeline)
    if not presence.is_awake(session.endpoint):
        return start
    within = presence.window(session.endpoint) + SLEEP_MARGIN
    event = await session.timeline.wait_for_async(_mine(session, "asleep"), within, start)
    if not checks.expect(event is not None, "sleeps",
                         f"the device kept the server's awake window open for {within:g} s without pause"):
        return None
    return len(session.timeline)


def _held_until_wakeup(events: list[Event], endpoint: str) -> tuple[bool, str]:
    """Was the first request after the sleep held, and sent only after the device woke (Register/Update)?"""
    mine = [e for e in events if e.data.get("endpoint") == endpoint]
    held = next((i for i, e in enumerate(mine) if e.kind == "request-held"), None)
    if held is None:
        return False, "no request was held although the device slept"
    op, path = mine[held].data.get("op"), mine[held].data.get("path")
    woke = next((i for i, e in enumerate(mine[held:], held) if e.kind in ("update", "register")), None)
    sent = next((i for i, e in enumerate(mine[held:], held) if e.kind == "request-sent"
                 and (e.data.get("op"), e.data.get("path")) == (op, path)), None)
    if sent is None:
        return False, f"the held {op} {path} was never sent"
    if woke is None or sent < woke:
        return False, f"the held {op} {path} was sent before the device woke"
    return True, f"{op} {path} held {mine[sent].data.get('held'):g} s, sent after the device's wake-up"


def _notified_across_sleep(events: list[Event], endpoint: str) -> bool:
    """A State notification on an observation made before the sleep (no new Observe of /5/0/3 in between)."""
    for e in events:
        if e.data.get("endpoint") != endpoint:
            continue
        if e.kind in ("request", "request-held") and e.data.get("op") == "observe" and e.data.get("path") == STATE_PATH:
            return False
        if e.kind == "notify" and not e.data.get("first") and lwm2m.STATE in lwm2m.values(e):
            return True
    return False


async def _queued_update(session: PlaceSession, ctx: ConformanceContext, case_id: str, mode: str) -> CaseResult:
    checks = Checks(case_id)
    first = len(session.timeline)
    driver = await fresh(session, ctx)
    asleep = await _until_asleep(session, checks)
    if asleep is not None:
        await update_after_fresh(session, ctx, checks, mode, driver)
        events = session.timeline.events(since=asleep)
        ok, words = _held_until_wakeup(events, session.endpoint)
        checks.expect(ok, "held-until-awake", words)
        checks.expect(_notified_across_sleep(events, session.endpoint), "observe-survives-sleep",
                      "no State notification arrived on the observation made before the device slept")
        checks.note(f"queue mode: {words}")
    checks.add(oracle(session, ctx, first))
    return checks.result()


async def case_770_queue(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    return await _queued_update(session, ctx, "770", "push")


async def case_771_queue(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    return await _queued_update(session, ctx, "771", "pull")
