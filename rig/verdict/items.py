"""Turn a case's timeline into the oracle's item list.

Only the timeline is read: observations come from notifications and reads of
/5/0/3 and /5/0/5 (with /5/0/12 when the sample carries it); causes from the rig's own requests (writes, executes, cancels),
pushes, power events and registrations (with the version the rig read after them:
a "version" event from wherever the target reports it, or a read of /3/0/3 in an
older timeline). Nothing else keeps a private history.
"""

from __future__ import annotations

from typing import Any

from rig.lwm2m import events as lwm2m
from rig.lwm2m.object5 import CANCEL_PATH, PACKAGE_PATH, PACKAGE_URI_PATH, RESULT_PATH, STATE_PATH, UPDATE_PATH
from rig.verdict import oracle_items as oi
from rig.timeline import Event
from rig.version_rule import VersionRule


def _observation(event: Event, source: str) -> oi.Observation | None:
    values: dict[str, Any] = lwm2m.values(event)
    state, result, lsct = values.get(lwm2m.STATE), values.get(lwm2m.RESULT), values.get(lwm2m.LSCT)
    if not isinstance(state, int) and not isinstance(result, int):
        return None
    return oi.Observation(
        event.t,
        state if isinstance(state, int) else None,
        result if isinstance(result, int) else None,
        last_state_change_time=lsct if isinstance(lsct, int) and not isinstance(lsct, bool) else None,
        source=source,
    )


def _version_after(events: list[Event], index: int, endpoint: str) -> str | None:
    """The version the rig read after the registration at `index`, before the next registration: its
    "version" event, else (a timeline without one) a read of /3/0/3."""
    fallback = None
    for event in events[index + 1 :]:
        if event.data.get("endpoint") != endpoint:
            continue
        if event.kind == "register":
            break
        if event.kind == "version" and event.data.get("version") is not None:
            return str(event.data["version"])
        if fallback is None and event.kind == "request" and event.data.get("path") in (lwm2m.FIRMWARE_VERSION_PATH, "/3/0") \
                and lwm2m.answered_ok(event.data.get("code")):
            version = lwm2m.values(event).get(lwm2m.FIRMWARE_VERSION)
            fallback = None if version is None else str(version)
    return fallback


def timeline_to_items(events: list[Event], endpoint: str, image_versions: dict[str, str] | None = None,
                      version_rule: VersionRule | None = None) -> list[Any]:
    """Oracle items for `endpoint`, in timeline order. `image_versions` maps firmware file names to versions;
    versions are compared in the target's way (`version_rule`: "1.0" is "1.0.0" unless it says exact)."""
    version_base = (version_rule or VersionRule()).canonical
    versions = {name: version_base(v) for name, v in (image_versions or {}).items()}
    items: list[Any] = []
    for index, event in enumerate(events):
        d = event.data
        if d.get("endpoint") not in (None, endpoint) and event.kind != "power":
            continue
        if event.kind == "notify" and d.get("path", "").startswith("/5/0"):
            obs = _observation(event, "notify")
            if obs:
                items.append(obs)
        elif event.kind == "request":
            items.extend(_request_items(event, versions))
        elif event.kind == "push-start":
            items.append(oi.PushStarted(event.t, version=d.get("version")))
        elif event.kind in ("transfer-done", "push-ended") and d.get("direction") == "push":
            items.append(oi.PushCompleted(event.t, code=d.get("code")))
        elif event.kind == "power":
            items.append(oi.PowerOn(event.t) if d.get("action") == "on" else oi.PowerCut(event.t))
        elif lwm2m.is_registration(event, endpoint):
            items.append(oi.Registration(event.t, version=version_base(_version_after(events, index, endpoint))))
    # A cause is dated when the rig sent it but logged when it was answered: an observation that
    # arrived in between is logged first, so put the items back in time order (stable for ties).
    items.sort(key=lambda item: item.t)
    return items


def _request_items(event: Event, versions: dict[str, str]) -> list[Any]:
    d = event.data
    path, op, code = d.get("path"), d.get("op"), d.get("code")
    sent = d.get("sent", event.t)
    if op == "read" and path in ("/5/0", STATE_PATH, RESULT_PATH) and lwm2m.answered_ok(code):
        obs = _observation(event, "read")
        return [obs] if obs else []
    if op == "write" and path == PACKAGE_URI_PATH:
        uri = str(d.get("value") or "")
        name = uri.rsplit("/", 1)[-1]
        kind = "valid" if name in versions else "unknown"
        return [oi.WriteUri(sent, uri, code=code, kind=kind, version=versions.get(name), t_done=event.t)]
    if op == "write" and path == PACKAGE_PATH and d.get("value") in ("00", b"\x00"):
        return [oi.WritePackageReset(sent, code=code, t_done=event.t)]
    if op == "execute" and path == UPDATE_PATH:
        return [oi.ExecuteUpdate(sent, code=code, t_done=event.t)]
    if op == "execute" and path == CANCEL_PATH:
        return [oi.Cancel(sent, code=code, t_done=event.t)]
    return []
