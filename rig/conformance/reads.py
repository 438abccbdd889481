"""751: read the readable resources of /5/0 and check each value's type and range.

Types come from rig.lwm2m.resource_types (generated from the OMA XML); ranges and
Mandatory flags below are the XML's (5-1_0.xml / 5-1_1.xml), since the package does
not ship the XML. After a known start the device is Idle with result 0.
"""

from __future__ import annotations

from typing import Any

from rig.place.session import PlaceSession
from rig.conformance.context import Checks, ConformanceContext
from rig.conformance.steps import final, fresh, oracle
from rig.lwm2m import object5
from rig.lwm2m.resource_types import FIRMWARE_UPDATE_RESOURCES, ResourceType
from rig.results import CaseResult

# resource id -> (low, high) for integers, max length for strings; None: no range in the XML
RANGES: dict[int, tuple[int, int] | int | None] = {
    1: 255, 3: (0, 3), 6: 255, 7: 255, 8: (0, 5), 9: (0, 2), 11: (0, 2), 12: None, 13: None,
}
MANDATORY_READABLE = (1, 3, 5, 9)


def _range_problem(rid: int, value: Any, version: str) -> str | None:
    kind = FIRMWARE_UPDATE_RESOURCES[rid].type
    if rid == 5:
        allowed = {int(r) for r in object5.update_results(version)}
        return None if isinstance(value, int) and value in allowed else f"{value!r} is not an Update Result of {version}"
    if kind is ResourceType.STRING:
        if not isinstance(value, str):
            return f"{value!r} is not a string"
        limit = RANGES.get(rid)
        return f"{len(value)} characters, more than {limit}" if isinstance(limit, int) and len(value) > limit else None
    if kind in (ResourceType.INTEGER, ResourceType.UNSIGNED, ResourceType.TIME):
        if not isinstance(value, int) or isinstance(value, bool):
            return f"{value!r} is not an integer"
        bounds = RANGES.get(rid)
        if isinstance(bounds, tuple) and not bounds[0] <= value <= bounds[1]:
            return f"{value} is outside {bounds[0]}..{bounds[1]}"
        if kind is not ResourceType.INTEGER and value < 0:
            return f"{value} is negative"
    return None


async def case_751(session: PlaceSession, ctx: ConformanceContext) -> CaseResult:
    checks = Checks("751")
    first = len(session.timeline)
    driver = await fresh(session, ctx)
    server, ep = session.server, session.endpoint
    reg = server.registry.table.by_name(ep)
    version = reg.object_version(5) if reg else session.profile.object5_version
    whole = await server.read(ep, "/5/0")
    checks.expect(whole.ok, "read-instance", f"Read /5/0 answered {whole.code_text} {whole.error or ''}".strip())
    readable = [r for r in object5.resources(version) if "R" in FIRMWARE_UPDATE_RESOURCES[int(r)].operations]
    for res in readable:
        rid = int(res)
        one = await server.read(ep, object5.path(rid))
        if not one.ok:
            checks.expect(rid not in MANDATORY_READABLE, "mandatory-readable",
                          f"Read {object5.path(rid)} ({res.label}, Mandatory) answered {one.code_text}")
            continue
        values = [v for p, v in one.values.items() if p[2] == rid]
        if not values and not one.payload and FIRMWARE_UPDATE_RESOURCES[rid].type is ResourceType.STRING:
            values = [""]  # an empty string has an empty text/plain payload
        checks.expect(bool(values), "value-present", f"Read {object5.path(rid)} answered {one.code_text} without a value")
        if FIRMWARE_UPDATE_RESOURCES[rid].multiple:
            checks.expect(all(len(p) == 4 for p in one.values), "multiple-instance",
                          f"{res.label} is a multiple resource; got paths {sorted(one.values)}")
        for value in values:
            problem = _range_problem(rid, value, version)
            checks.expect(problem is None, "type-range", f"{object5.path(rid)} ({res.label}): {problem}")
        if whole.ok and rid != 8:
            in_whole = whole.values.get((5, 0, rid))
            checks.expect(in_whole == values[0] if values else True, "instance-consistent",
                          f"{res.label} is {in_whole!r} in Read /5/0 but {values[0] if values else None!r} alone")
    package = await server.read(ep, object5.PACKAGE_PATH)
    checks.expect(package.code_text == "4.05", "write-only-package",
                  f"Read of the write-only Package /5/0/0 answered {package.code_text}, not 4.05")
    state, result = await driver.read_state()
    checks.expect((state, result) == (0, 0), "initial-values",
                  f"after a fresh start State/Update Result are {object5.describe(state, result)}, not Idle / 0")
    final(checks, state, result)
    checks.add(oracle(session, ctx, first))
    return checks.result()
