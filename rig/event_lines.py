"""One human line per interesting timeline event, for `rig serve` and the bench commands.

Refusals and failed handshakes carry text a stranger chose; every line goes
through `clamp_line` (control characters escaped, length bounded) before it
reaches a terminal.
"""

from __future__ import annotations

from rig.lwm2m import events as lwm2m
from rig.lwm2m.log_bounds import clamp_line
from rig.timeline import Event

REFUSALS = ("register-refused", "update-refused", "deregister-refused", "send-refused", "fw-refused",
            "update-unknown", "deregister-unknown", "bootstrap-refused")


def describe(event: Event) -> str | None:
    """The line a person at the bench wants for this event, or None when it is noise (single blocks)."""
    line = _line(event)
    return None if line is None else clamp_line(line)


def _suppressed(d: dict) -> str:
    return f" ({d['suppressed']} more like it not shown)" if d.get("suppressed") else ""


def _line(event: Event) -> str | None:
    d = event.data
    kind = event.kind
    if kind == "register":
        objects = " ".join(f"</{k}>" + (f";ver={v}" if v else "") for k, v in d.get("objects", {}).items())
        again = " (again)" if d.get("replaced") else ""
        return f"register{again} {d['endpoint']} from {d['peer']} lwm2m={d['lwm2m']} lt={d['lifetime']} at /rd/{d['location']}: {objects}"
    if kind == "update":
        return f"update {d['endpoint']} from {d['peer']}"
    if kind == "deregister":
        return f"deregister {d['endpoint']}" + (f" from {d['peer']}" if d.get("peer") else "")
    if kind == "expire":
        return f"expired {d['endpoint']} (lifetime ran out)"
    if kind in REFUSALS:
        what = d.get("endpoint") or d.get("path") or d.get("location")
        return f"{kind}{' ' + str(what) if what else ''} from {d.get('peer')}: {d.get('reason', 'no such registration')}{_suppressed(d)}"
    if kind == "bootstrap-request":
        return f"bootstrap {d['endpoint']} from {d['peer']}: account on {d.get('server')} ({d.get('security')})"
    if kind == "bootstrap-finish":
        return f"bootstrap of {d['endpoint']} finished: {d.get('code') or d.get('error')}"
    if kind == "bootstrap-failed":
        return f"bootstrap of {d['endpoint']} failed at {d.get('step')} {d.get('path')}: {d.get('reason')}"
    if kind in ("awake", "asleep"):
        return f"{d['endpoint']} {kind} ({d.get('why')})"
    if kind == "request-held":
        return f"holding {d.get('op')} {d.get('path')} for {d['endpoint']} until it wakes ({d.get('ahead')} ahead)"
    if kind == "request-expired":
        return f"dropped {d.get('op')} {d.get('path')} for {d['endpoint']}: its registration ended while held"
    if kind == "notify":
        values = ", ".join(f"/{k}={v}" for k, v in lwm2m.values(event).items())
        return f"notify {d['endpoint']} {d['path']} {values or d.get('code')}"
    if kind == "transfer-done":
        if d.get("direction") == "pull":
            return f"served {d['file']} ({d['size']} bytes, sha256 {d['sha256'][:16]}...) to {d['peer']}"
        return f"pushed {d['bytes']} bytes to {d['endpoint']} in {d['blocks']} blocks: {d['code']}"
    if kind == "push-ended":
        return f"push to {d['endpoint']} ended after {d['blocks']} blocks: {d.get('code') or d.get('error')}"
    if kind == "dtls" and d.get("event") == "handshake-failed":
        return f"DTLS handshake from {d.get('peer')} failed: {d.get('reason')} (identity {d.get('identity')}){_suppressed(d)}"
    if kind == "dtls" and d.get("event") == "handshake-flood":
        return f"DTLS flood: {d.get('reason')}{_suppressed(d)}"
    return None
