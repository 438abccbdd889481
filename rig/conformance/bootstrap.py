"""Bootstrap, then update: a device configured to bootstrap gets its server account from the rig and is updated.

At the known start the device boots; one that bootstraps asks the rig's bootstrap
server (Bootstrap-Request), accepts the Delete of /0 and /1 and the Writes of its
account (/0/1, /1/0), answers Bootstrap-Finish with 2.04 and registers with the
rig's LwM2M server. If it did not bootstrap at that boot (it keeps its account in
flash), the rig asks it to with the Bootstrap-Request Trigger (/1/0/9); a device
that has neither cannot be shown to bootstrap here, and the case is a skip. Then a
771/770-style update in the run's mode must end with the new image and Idle / 1.
"""

from __future__ import annotations

from rig.place.session import PlaceSession
from rig.conformance.context import Checks, ConformanceContext
from rig.conformance.steps import fresh, oracle
from rig.conformance.updates import update_after_fresh
from rig.results import CaseResult
from rig.timeline import Event
from rig.verdict.outcome import Observed, decide

EXPECTED = [("delete", "/0", "2.02"), ("delete", "/1", "2.02"), ("write", "/0/1", "2.04"), ("write", "/1/0", "2.04"),
            ("finish", "/bs", "2.04")]
TRIGGER = "/1/0/9"  # Bootstrap-Request Trigger (Server object, optional)


def _last_bootstrap(events: list[Event], endpoint: str) -> list[Event]:
    """The events of the last bootstrap of `endpoint` in `events` (from its Bootstrap-Request on), [] if none."""
    starts = [i for i, e in enumerate(events) if e.kind == "bootstrap-request" and e.data.get("endpoint") == endpoint]
    return [e for e in events[starts[-1]:] if e.data.get("endpoint") == endpoint] if starts else []


def check_bootstrap(events: list[Event], endpoint: str, checks: Checks) -> None:
    """Every step answered as LwM2M requires, then a registration."""
    steps = [(e.data.get("step"), e.data.get("path"), e.data.get("code"))
             for e in events if e.kind in ("bootstrap-step", "bootstrap-finish")]
    for want, got in zip(EXPECTED, steps + [None] * (len(EXPECTED) - len(steps))):
        if not checks.expect(got == want, f"bootstrap-{want[0]}",
                             f"{want[0]} {want[1]} should be answered {want[2]}; "
                             + (f"it was answered {got[2] or 'not at all'}" if got else "it was never sent")):
            return
    registered = any(e.kind == "register" for e in events)
    checks.expect(registered, "registers-after-bootstrap",
                  "after Bootstrap-Finish the device did not register with the account it was given")


async def case_bootstrap_update(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    checks = Checks("bootstrap")
    first = len(session.timeline)
    driver = await fresh(session, ctx)
    bootstrap = _last_bootstrap(session.timeline.events(since=first), session.endpoint)
    if not bootstrap:
        mark = len(session.timeline)
        answer = await session.server.execute(session.endpoint, TRIGGER)
        if not answer.ok:
            why = (f"the device did not bootstrap at its boot and answered the Bootstrap-Request Trigger ({TRIGGER}) "
                   f"{answer.code_text}: the rig cannot make it bootstrap")
            decision = decide(Observed(not_applicable=why))
            return CaseResult(name="conf-bootstrap", outcome=decision.outcome, message=decision.reason,
                              plan={"conformance": "bootstrap", "skipped": why})
        await driver.wait_registration(mark, session.boot_timeout + session.update_timeout)
        await driver.observe()
        bootstrap = _last_bootstrap(session.timeline.events(since=mark), session.endpoint)
    if checks.expect(bool(bootstrap), "bootstraps", "the device never sent a Bootstrap-Request to the rig"):
        check_bootstrap(bootstrap, session.endpoint, checks)
        request = bootstrap[0].data
        checks.note(f"bootstrapped ({request.get('security')}, writes in content format {request.get('format')}) "
                    f"to {request.get('server')}")
    if not checks.violations:
        mark = len(session.timeline)
        await update_after_fresh(session, ctx, checks, ctx.mode, driver)
        again = _last_bootstrap(session.timeline.events(since=mark), session.endpoint)
        checks.note("it bootstrapped again after the update's reboot" if again else
                    "it kept its account across the update's reboot")
    checks.add(oracle(session, ctx, first))
    return checks.result()
