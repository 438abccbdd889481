"""Which peer may act for which endpoint: an endpoint that has a key is bound to it.

LwM2M's endpoint name is not authenticated; only the DTLS handshake is. So for an
endpoint the rig holds a PSK for, Register, Update, De-register and Send are
accepted only over coaps with that endpoint's own identity (Transport TS, "Endpoint
Client Name": the server compares the name with the identity of the handshake).
Plain CoAP for it would let anyone on the network replace its registration (and
receive its device-management requests) or remove it. `allow_nosec` names the
endpoints a bench deliberately lets in over plain CoAP as well (`rig serve
--allow-nosec`, `allow_nosec = true` in a place's lwm2m table). Endpoints without
a key are NoSec endpoints and anyone may act for them, as before; but a peer that
did authenticate may act only for its own endpoint.
"""

from __future__ import annotations

from typing import Any, Iterable, Protocol

from rig.errors import RigError
from rig.lwm2m.log_bounds import bytes_repr, printable


class KeyStore(Protocol):
    def endpoint_for_identity(self, identity: bytes) -> str | None: ...

    def entry_for_endpoint(self, endpoint: str) -> Any: ...


class EndpointBinding:
    def __init__(self, keys: KeyStore | None = None, allow_nosec: Iterable[str] = ()) -> None:
        self._keys = keys
        self.allow_nosec = frozenset(allow_nosec)
        unknown = sorted(e for e in self.allow_nosec if keys is None or keys.entry_for_endpoint(e) is None)
        if unknown:
            raise RigError(f"--allow-nosec {unknown[0]}: that endpoint has no PSK (--psk), so plain CoAP is "
                           "already all it can use; allow-nosec is for endpoints that have a key")

    def has_key(self, endpoint: str) -> bool:
        return self._keys is not None and self._keys.entry_for_endpoint(endpoint) is not None

    def problem(self, remote: Any, endpoint: str) -> str | None:
        """Why `remote` may not act for `endpoint` (None: it may). Over coaps `remote.psk_identity` is the
        identity of its DTLS session; over plain CoAP it has none."""
        identity = getattr(remote, "psk_identity", None)
        if identity is not None:
            allowed = self._keys.endpoint_for_identity(identity) if self._keys is not None else None
            if allowed != endpoint:
                return f"PSK identity {bytes_repr(identity)} may not act for endpoint {printable(endpoint)!r}"
            return None
        if self.has_key(endpoint) and endpoint not in self.allow_nosec:
            return (f"endpoint {printable(endpoint)!r} has a PSK: it must use coaps with its own identity "
                    f"(or be allowed NoSec: rig serve --allow-nosec ENDPOINT)")
        return None
