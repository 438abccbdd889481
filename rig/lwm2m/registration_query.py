"""Parse and validate the query of Register / Update requests.

Clients in the field send every variation (missing `lt`, unknown keys, repeated
keys); the rig must answer 4.00 with a reason it logs, never crash, so parsing
is separate from the resource and easy to fuzz.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_ENDPOINT_LEN = 255
DEFAULT_LIFETIME = 86400
# ASCII only and whole-string: `\d` takes any Unicode digit ("²" then breaks int()) and `$` takes a trailing newline.
_BINDINGS = re.compile(r"[UMHSTNQ]{1,8}")
_VERSION = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}")
_LIFETIME = re.compile(r"[0-9]{1,20}")


class RegistrationQueryError(ValueError):
    """The query is malformed; the message names the parameter and the problem (sent back with 4.00)."""


@dataclass(frozen=True)
class RegistrationParams:
    endpoint: str | None
    lifetime: int | None
    lwm2m_version: str | None
    binding: str | None
    sms: str | None = None
    queue_mode: bool = False


def parse_query(items: tuple[str, ...] | list[str], *, register: bool) -> RegistrationParams:
    """Register needs `ep`; Update accepts only `lt`, `b`, `sms` (an `ep` there is an error, per the spec)."""
    seen: dict[str, str | None] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not key:
            raise RegistrationQueryError(f"empty query parameter name in {item!r}")
        if key in seen:
            raise RegistrationQueryError(f"query parameter {key!r} given twice")
        seen[key] = value if sep else None

    def text(key: str) -> str | None:
        if key not in seen:
            return None
        value = seen[key]
        if value is None or value == "":
            raise RegistrationQueryError(f"query parameter {key!r} has no value")
        return value

    endpoint = text("ep")
    if register:
        if endpoint is None:
            raise RegistrationQueryError("Register without 'ep' (endpoint client name)")
        if len(endpoint) > MAX_ENDPOINT_LEN:
            raise RegistrationQueryError(f"endpoint name longer than {MAX_ENDPOINT_LEN} characters")
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in endpoint):
            raise RegistrationQueryError("endpoint name contains control characters")
    elif endpoint is not None:
        raise RegistrationQueryError("Update must not carry 'ep'")

    lifetime = None
    raw_lt = text("lt")
    if raw_lt is not None:
        if not _LIFETIME.fullmatch(raw_lt):
            raise RegistrationQueryError(f"lifetime 'lt' is not a non-negative integer: {raw_lt!r}")
        lifetime = int(raw_lt)
        if lifetime == 0 or lifetime > 2**32 - 1:
            raise RegistrationQueryError(f"lifetime 'lt' out of range 1..4294967295: {lifetime}")

    version = text("lwm2m")
    if version is not None and not _VERSION.fullmatch(version):
        raise RegistrationQueryError(f"'lwm2m' version is not MAJOR.MINOR: {version!r}")

    binding = text("b")
    if binding is not None and not _BINDINGS.fullmatch(binding):
        raise RegistrationQueryError(f"binding 'b' is not a valid binding mode: {binding!r}")

    # 1.1 says queue mode with a bare `Q` parameter; 1.0 with a Q in the binding (`b=UQ`).
    queue_mode = ("Q" in seen and seen["Q"] is None) or (binding is not None and "Q" in binding)
    return RegistrationParams(
        endpoint=endpoint,
        lifetime=lifetime,
        lwm2m_version=version,
        binding=binding,
        sms=seen.get("sms"),
        queue_mode=queue_mode,
    )
