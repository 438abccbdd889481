"""Severity (/5/0/11) and Maximum Defer Period (/5/0/13), object 1.1: defaults, writes, bad values refused.

The XML: Severity is an Integer 0..2 (0 critical, 1 mandatory, 2 optional), "Default value
is 1"; Maximum Defer Period is an Unsigned Integer of seconds (no default given, so the
case only checks that the device's is one). A value out of range is a bad request:
4.00, and the resource keeps its value. What the case wrote is put back at the end.
"""

from __future__ import annotations

from rig.place.session import PlaceSession
from rig.conformance.context import Checks, ConformanceContext
from rig.conformance.steps import final, fresh, oracle
from rig.conformance.v11_steps import DEFAULT_SEVERITY, PERIOD, SEVERITY, read_instance, read_value, write
from rig.results import CaseResult

SEVERITY_VALUES = (0, 2, 1)
SEVERITY_BAD = (3, -1)
PERIOD_VALUES = (7, 0)
PERIOD_BAD = (-1,)
NAMES = {SEVERITY: "Severity", PERIOD: "Maximum Defer Period"}


async def _written(session: PlaceSession, checks: Checks, rid: int, value: int) -> None:
    code = await write(session, rid, value)
    back = await read_value(session, rid)
    checks.expect(code == "2.04" and back == value, f"{NAMES[rid].lower().replace(' ', '-')}-write",
                  f"Write {value} to {NAMES[rid]} (/5/0/{rid}) answered {code}; read back: {back!r}")


async def _refused(session: PlaceSession, checks: Checks, rid: int, value: int, why: str) -> None:
    before = await read_value(session, rid)
    code = await write(session, rid, value)
    after = await read_value(session, rid)
    checks.expect(code == "4.00" and after == before, f"{NAMES[rid].lower().replace(' ', '-')}-bad-value",
                  f"Write {value} to {NAMES[rid]} (/5/0/{rid}, {why}) answered {code}, not 4.00 Bad Request; "
                  f"it read {before!r} before and {after!r} after")


async def case_settings(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    checks = Checks("v11")
    first = len(session.timeline)
    driver = await fresh(session, ctx)
    start = await read_instance(session)
    checks.expect(start.severity == DEFAULT_SEVERITY, "severity-default",
                  f"Severity (/5/0/11) after a fresh start is {start.severity!r} (Read /5/0 answered {start.code}), "
                  f"not 1; the XML: \"Default value is 1\"")
    period = start.period
    checks.expect(isinstance(period, int) and not isinstance(period, bool) and period >= 0, "period-unsigned",
                  f"Maximum Defer Period (/5/0/13) after a fresh start is {period!r}, not an unsigned number of seconds")
    checks.note(f"defaults: Severity {start.severity!r}, Maximum Defer Period {period!r} s")
    try:
        for value in SEVERITY_VALUES:
            await _written(session, checks, SEVERITY, value)
        for value in SEVERITY_BAD:
            await _refused(session, checks, SEVERITY, value, "an Integer 0..2")
        for value in PERIOD_VALUES:
            await _written(session, checks, PERIOD, value)
        for value in PERIOD_BAD:
            await _refused(session, checks, PERIOD, value, "an Unsigned Integer")
    finally:
        await write(session, SEVERITY, DEFAULT_SEVERITY)
        if isinstance(period, int):
            await write(session, PERIOD, period)
    state, result = await driver.read_state()
    checks.expect((state, result) == (0, 0), "unchanged-idle",
                  f"writing Severity and Maximum Defer Period in Idle changed State / Update Result to {state} / {result}")
    final(checks, state, result)
    checks.add(oracle(session, ctx, first))
    return checks.result()
