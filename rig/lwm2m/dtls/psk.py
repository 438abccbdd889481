"""Pre-shared keys: one identity and key per LwM2M endpoint.

The server needs two lookups: identity -> key during the handshake, and
identity -> endpoint afterwards, so the registration interface can answer 4.03
when a client registers under another endpoint's name.

Spec format (CLI `--psk` and place files): "ENDPOINT:IDENTITY:HEXKEY". LwM2M
endpoint names often contain colons ("urn:imei:..."), so the key is the last
field, and of what precedes it: if it reads "X:X" the endpoint and identity
are both X (the usual setup); otherwise the identity is the last field and
the endpoint is everything before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from rig.errors import RigError

MAX_IDENTITY = 128  # RFC 4279 section 5.3: implementations must support identities up to 128 octets
MAX_KEY = 64  # RFC 4279 section 5.3: and keys up to 64 octets


@dataclass(frozen=True)
class PskEntry:
    endpoint: str
    identity: bytes
    key: bytes


def parse_psk_spec(spec: str) -> PskEntry:
    """One "ENDPOINT:IDENTITY:HEXKEY" spec; RigError names the part that is wrong."""
    where = f"PSK spec {spec!r}"
    if spec.count(":") < 2:
        raise RigError(f"{where}: expected ENDPOINT:IDENTITY:HEXKEY (three parts separated by ':')")
    head, hexkey = spec.rsplit(":", 1)
    fields = head.split(":")
    half = len(fields) // 2
    if len(fields) % 2 == 0 and fields[:half] == fields[half:]:
        endpoint = identity = ":".join(fields[:half])
    else:
        endpoint, identity = head.rsplit(":", 1)
    if not endpoint:
        raise RigError(f"{where}: the ENDPOINT part is empty")
    if not identity:
        raise RigError(f"{where}: the IDENTITY part is empty")
    hexkey = hexkey.strip()
    if hexkey.lower().startswith("0x"):
        hexkey = hexkey[2:]
    if not hexkey:
        raise RigError(f"{where}: the HEXKEY part is empty")
    try:
        key = bytes.fromhex(hexkey)
    except ValueError:
        raise RigError(f"{where}: the HEXKEY part {hexkey!r} is not hexadecimal (two hex digits per key byte)") from None
    if len(key) > MAX_KEY:
        raise RigError(f"{where}: the HEXKEY part is {len(key)} bytes; at most {MAX_KEY} are allowed")
    ident = identity.encode("utf-8")
    if len(ident) > MAX_IDENTITY:
        raise RigError(f"{where}: the IDENTITY part is {len(ident)} bytes; at most {MAX_IDENTITY} are allowed")
    return PskEntry(endpoint, ident, key)


class PskStore:
    """Identities and keys of the endpoints the rig serves over coaps."""

    def __init__(self, entries: Iterable[PskEntry] = ()) -> None:
        self._by_identity: dict[bytes, PskEntry] = {}
        self._by_endpoint: dict[str, PskEntry] = {}
        for entry in entries:
            self.add(entry)

    @classmethod
    def parse(cls, specs: Iterable[str]) -> "PskStore":
        return cls(parse_psk_spec(spec) for spec in specs)

    def add(self, entry: PskEntry) -> None:
        """Add an entry; an identity or endpoint given twice with different values is a RigError."""
        old = self._by_identity.get(entry.identity)
        if old is not None and old != entry:
            raise RigError(f"PSK identity {entry.identity.decode('utf-8', 'replace')!r} is given twice "
                           f"(for endpoint {old.endpoint!r} and {entry.endpoint!r}); each identity needs one key and one endpoint")
        old = self._by_endpoint.get(entry.endpoint)
        if old is not None and old != entry:
            raise RigError(f"endpoint {entry.endpoint!r} has two PSK entries; give each endpoint one identity and key")
        self._by_identity[entry.identity] = entry
        self._by_endpoint[entry.endpoint] = entry

    def key_for_identity(self, identity: bytes) -> bytes | None:
        entry = self._by_identity.get(identity)
        return entry.key if entry else None

    def endpoint_for_identity(self, identity: bytes) -> str | None:
        entry = self._by_identity.get(identity)
        return entry.endpoint if entry else None

    def entry_for_endpoint(self, endpoint: str) -> PskEntry | None:
        return self._by_endpoint.get(endpoint)

    def __len__(self) -> int:
        return len(self._by_identity)

    def __iter__(self) -> Iterator[PskEntry]:
        return iter(list(self._by_identity.values()))
