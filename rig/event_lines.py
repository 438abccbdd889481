"""One human line per interesting timeline event, for `rig serve` and the bench commands."""

from __future__ import annotations

from rig.timeline import Event


def describe(event: Event) -> str | None:
    """The line a person at the bench wants for this event, or None when it is noise (single blocks)."""
    d = event.data
    kind = event.kind
    if kind == "register":
        objects = " ".join(f"</{k}>" + (f";ver={v}" if v else "") for k, v in d.get("objects", {}).items())
        again = " (again)" if d.get("replaced") else ""
        return f"register{again} {d['endpoint']} from {d['peer']} lwm2m={d['lwm2m']} lt={d['lifetime']} at /rd/{d['location']}: {objects}"
    if kind == "update":
        return f"update {d['endpoint']} from {d['peer']}"
    if kind == "deregister":
        return f"deregister {d['endpoint']}"
    if kind == "expire":
        return f"expired {d['endpoint']} (lifetime ran out)"
    if kind in ("register-refused", "update-refused", "fw-refused"):
        return f"{kind} {d.get('endpoint') or d.get('path', '')} from {d.get('peer')}: {d.get('reason')}"
    if kind == "notify":
        values = ", ".join(f"/{k}={v}" for k, v in d.get("values", {}).items())
        return f"notify {d['endpoint']} {d['path']} {values or d.get('code')}"
    if kind == "transfer-done":
        if d.get("direction") == "pull":
            return f"served {d['file']} ({d['size']} bytes, sha256 {d['sha256'][:16]}...) to {d['peer']}"
        return f"pushed {d['bytes']} bytes to {d['endpoint']} in {d['blocks']} blocks: {d['code']}"
    if kind == "push-ended":
        return f"push to {d['endpoint']} ended after {d['blocks']} blocks: {d.get('code') or d.get('error')}"
    if kind == "dtls" and d.get("result") == "handshake-failed":
        return f"DTLS handshake from {d.get('peer')} failed: {d.get('reason')}"
    return None
