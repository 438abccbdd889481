"""What the target can exercise, asked from the device itself (and its profile), not assumed.

A case whose needs are not met is reported as skipped with the reason, so a report
says "pull: the device's Delivery Method is push only" rather than failing it.
"""

from __future__ import annotations

from rig.place.session import PlaceSession
from rig.conformance.context import ConformanceCase, ConformanceContext
from rig.lwm2m.codecs.errors import CodecError
from rig.lwm2m import object5
from rig.lwm2m.codecs.linkformat import parse_links

SCHEME_PROTOCOL = {"coap": 0, "coaps": 1}
LINK_FORMAT = 40
# Optional 1.1 resources a case may need: ability name -> resource id (found by Discover /5/0)
OPTIONAL_V11 = {"severity": 11, "lsct": 12, "defer-period": 13}
LABELS = {11: "Severity", 12: "Last State Change Time", 13: "Maximum Defer Period"}


async def _listed_resources(session: PlaceSession) -> set[int] | None:
    """Resource ids of /5/0 from a Discover (None: the device did not answer one the rig can read)."""
    response = await session.server.discover(session.endpoint, "/5/0")
    if not response.ok or response.content_format != LINK_FORMAT:
        return None
    try:
        links = parse_links(response.payload)
    except CodecError:
        return None
    parts = (link.target.strip("/").split("/") for link in links)
    return {int(p[2]) for p in parts if len(p) == 3 and p[:2] == ["5", "0"] and p[2].isdigit()}


async def _v11_abilities(session: PlaceSession, have: set[str], why: dict[str, str]) -> None:
    """Which optional 1.1 resources exist, and whether the rig can make the device defer."""
    listed = await _listed_resources(session)
    for name, rid in OPTIONAL_V11.items():
        if listed is None or rid in listed:  # no readable Discover: assume it is there, the case will tell
            have.add(name)
        else:
            why[name] = f"Discover /5/0 does not list {LABELS[rid]} (/5/0/{rid}, optional in 1.1)"
    deferral = session.profile.deferral
    if not deferral.supported:
        why["deferral"] = "the target file says the rig cannot make this device defer (lwm2m.deferral.how = \"none\")"
    elif "defer-period" not in have:
        why["deferral"] = why["defer-period"]
    else:
        have.add("deferral")


async def find_abilities(session: PlaceSession, ctx: ConformanceContext) -> tuple[set[str], dict[str, str]]:
    """(abilities, why each missing one is missing)."""
    have = set(ctx.abilities)
    why: dict[str, str] = {}
    server, ep = session.server, session.endpoint
    method = await server.read(ep, object5.DELIVERY_METHOD_PATH)
    delivery = method.value if method.ok else None
    protocols = await server.read(ep, object5.PROTOCOL_SUPPORT_PATH)
    supported = set(protocols.values.values()) if protocols.ok else {0}
    if delivery in (1, 2):
        have.add("push")
    else:
        why["push"] = f"the device's Delivery Method (/5/0/9) is {delivery!r}, not push or both"
    wanted = SCHEME_PROTOCOL.get(session.pull_scheme)
    if delivery in (0, 2) and wanted in supported:
        have.add("pull")
    else:
        why["pull"] = (f"the device's Delivery Method is {delivery!r} and Protocol Support {sorted(supported)}: "
                       f"no pull over {session.pull_scheme}")
    reg = server.registry.table.by_name(ep) if server.registry else None
    version = reg.object_version(5) if reg else session.profile.object5_version
    if version == "1.1":
        have.add("object5-1.1")
        await _v11_abilities(session, have, why)
    else:
        why["object5-1.1"] = (f"the device registers Object 5 version {version} (Cancel, Severity, Last State Change "
                              f"Time, Maximum Defer Period and deferral are 1.1)")
        why.update({name: why["object5-1.1"] for name in (*OPTIONAL_V11, "deferral")})
    if reg is not None and reg.queue_mode:
        have.add("queue-mode")
    else:
        why["queue-mode"] = ("the device did not register in queue mode (no Q, no b=UQ): nothing is held for it"
                             + ("; its target file says lwm2m.queue_mode = true" if session.modes.queue_mode else ""))
    if session.bootstrap is not None:
        have.add("bootstrap")
    else:
        why["bootstrap"] = ("the device does not bootstrap through the rig (its target has no lwm2m.bootstrap = true; "
                            "the virtual board: rig run --sim-bootstrap)")
    if session.profile.persists_state:
        have.add("persists_state")
    else:
        why["persists_state"] = "the target's profile says persists_state = false: nothing survives a power cut"
    if session.profile.resumes_download:
        have.add("resumes_download")
    else:
        why["resumes_download"] = "the target's profile says resumes_download = false"
    have.update(f"negative:{name}" for name in ctx.negative)
    why.update({f"negative:{name}": reason for name, reason in ctx.negative_missing.items()})
    if "signature-check" not in have:
        why["signature-check"] = ("the rig does not hold the key this target's bootloader trusts, so a wrong-key or "
                                  "downgrade package proves nothing")
    if ctx.mode in have:
        have.add("mode")
    else:
        why["mode"] = why.get(ctx.mode, f"mode {ctx.mode!r}")
    return have, why


def missing(case: ConformanceCase, have: set[str], why: dict[str, str]) -> str | None:
    """Why `case` cannot run here (None: it can)."""
    for need in sorted(case.needs - have):
        if need.startswith("negative:"):
            return why.get(need) or f"no {need.split(':', 1)[1]!r} package was made for this target"
        return why.get(need, f"the target lacks {need!r}")
    return None

