"""The timeline's LwM2M events read through names, not hand-spelled keys.

The server writes what it saw as timeline events (rig.lwm2m.device_management,
rig.lwm2m.registration): a "notify" or a "request" (read, write, execute,
observe) carries the endpoint, the operation and path, the CoAP code as text
("2.04", None when no answer came) and the decoded values keyed by path without
the leading "/" ("5/0/3"). Everything that judges, drives or draws an update
asks here: "was Execute Update answered 2.xx", "which State did this event
report", so a key or a code rule is written once.
"""

from __future__ import annotations

from typing import Any

from rig.lwm2m.object5 import (
    LSCT_PATH,
    PERIOD_PATH,
    RESULT_PATH,
    STATE_PATH,
    UPDATE_PATH,
)
from rig.timeline import Event


def key(path: str) -> str:
    """The key of a resource in an event's values: "/5/0/3" -> "5/0/3"."""
    return path.lstrip("/")


STATE, RESULT, LSCT, PERIOD = key(STATE_PATH), key(RESULT_PATH), key(LSCT_PATH), key(PERIOD_PATH)
FIRMWARE_VERSION_PATH = "/3/0/3"  # the Device object's Firmware Version
FIRMWARE_VERSION = key(FIRMWARE_VERSION_PATH)
#: Events whose values are what the device answered the rig: its notifications and the answers to reads.
REPORTS = ("notify", "request")


def answered_ok(code: Any) -> bool:
    """A CoAP answer of class 2 (success): "2.04" yes, "4.05" or None (no answer) no."""
    return str(code or "").startswith("2.")


def of(event: Event, endpoint: str | None) -> bool:
    """The event is about `endpoint` (None: any endpoint)."""
    return endpoint is None or event.data.get("endpoint") == endpoint


def values(event: Event) -> dict[str, Any]:
    """The decoded values an event carries ({} when none), whatever its kind (a Send carries them too)."""
    return event.data.get("values") or {}


def reported(event: Event, endpoint: str | None = None) -> dict[str, Any]:
    """The values of a notification or an answered request of `endpoint`; {} for any other event."""
    if event.kind not in REPORTS or not of(event, endpoint):
        return {}
    return values(event)


def state(event: Event, endpoint: str | None = None) -> Any:
    """State (/5/0/3) as the event reported it; None when it did not."""
    return reported(event, endpoint).get(STATE)


def result(event: Event, endpoint: str | None = None) -> Any:
    """Update Result (/5/0/5) as the event reported it; None when it did not."""
    return reported(event, endpoint).get(RESULT)


def is_request(event: Event, op: str, path: str, endpoint: str | None = None) -> bool:
    """A request of the rig (`op` on `path`), answered or not."""
    d = event.data
    return event.kind == "request" and d.get("op") == op and d.get("path") == path and of(event, endpoint)


def is_execute_update(event: Event, endpoint: str | None = None) -> bool:
    """An Execute of Update (/5/0/2), whatever its answer."""
    return is_request(event, "execute", UPDATE_PATH, endpoint)


def executed_update(event: Event, endpoint: str | None = None) -> bool:
    """An Execute of Update the device answered 2.xx: from here on the device may install."""
    return is_execute_update(event, endpoint) and answered_ok(event.data.get("code"))


def is_registration(event: Event, endpoint: str | None = None) -> bool:
    """A Register of `endpoint` (a first one or after a reboot; a registration Update is "update")."""
    return event.kind == "register" and of(event, endpoint)
