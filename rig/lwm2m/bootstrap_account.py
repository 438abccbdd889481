"""What the rig's bootstrap server writes into a device: one LwM2M Server account (objects 0 and 1).

The account makes the device register with the rig's own LwM2M server: a Security
(0) instance with the server's URI and its security (NoSec, mode 3, over plain
CoAP; PSK, mode 0, with the endpoint's identity and key over coaps) and a Server
(1) instance with the same Short Server ID, the lifetime and the binding. Both are
encoded by the rig's codecs in the format the device asked for in its
Bootstrap-Request (`pct`): SenML CBOR (112) or TLV (11542, the default when it
did not say), as LwM2M 1.1 Core "Bootstrap-Request" allows.

A key goes out only over coaps (the session that carries it is authenticated with
that very key); a keyed endpoint a bench lets bootstrap over plain CoAP
(allow_nosec) gets a NoSec account instead, never its secret in clear.
"""

from __future__ import annotations

from dataclasses import dataclass

from rig.errors import RigError
from rig.lwm2m.codecs import CF_SENML_CBOR, CF_TLV, encode

SECURITY_OBJECT, SERVER_OBJECT = 0, 1
ACCOUNT_INSTANCE = 1  # Security instance 0 is conventionally the bootstrap server's own account
SERVER_INSTANCE = 0
MODE_PSK, MODE_NOSEC = 0, 3
FORMATS = {CF_TLV: "TLV", CF_SENML_CBOR: "SenML CBOR"}
DEFAULT_LIFETIME = 300  # s: a bench device that lost its server is back within minutes


@dataclass(frozen=True)
class ServerAccount:
    """One LwM2M server account for one endpoint."""

    server_uri: str  # coap://host:port or coaps://host:port
    identity: bytes | None = None  # PSK identity and key: only with a coaps URI
    key: bytes | None = None
    lifetime: int = DEFAULT_LIFETIME
    binding: str = "U"
    short_server_id: int = 1

    def __post_init__(self) -> None:
        secure = self.server_uri.startswith("coaps://")
        if not secure and not self.server_uri.startswith("coap://"):
            raise RigError(f"server account URI {self.server_uri!r} must be coap:// or coaps://")
        if secure != (self.key is not None and self.identity is not None):
            raise RigError(f"server account {self.server_uri}: a coaps URI needs a PSK identity and key, "
                           "a coap URI none")
        if not 1 <= self.short_server_id <= 65534:
            raise RigError(f"Short Server ID {self.short_server_id} is not 1..65534")
        if self.lifetime <= 0:
            raise RigError(f"server account lifetime {self.lifetime} must be > 0 s")

    @property
    def mode(self) -> int:
        return MODE_PSK if self.key is not None else MODE_NOSEC

    def security_values(self) -> dict[tuple[int, ...], object]:
        """Resources of the Security instance /0/1."""
        base = (SECURITY_OBJECT, ACCOUNT_INSTANCE)
        return {
            base + (0,): self.server_uri,
            base + (1,): False,  # not a bootstrap-server account
            base + (2,): self.mode,
            base + (3,): self.identity or b"",
            base + (4,): b"",
            base + (5,): self.key or b"",
            base + (10,): self.short_server_id,
        }

    def server_values(self) -> dict[tuple[int, ...], object]:
        """Resources of the Server instance /1/0."""
        base = (SERVER_OBJECT, SERVER_INSTANCE)
        return {
            base + (0,): self.short_server_id,
            base + (1,): self.lifetime,
            base + (6,): True,  # notification storing while offline: a queue-mode device's notifications wait
            base + (7,): self.binding,
        }

    def writes(self, content_format: int) -> list[tuple[str, bytes]]:
        """The two Bootstrap-Writes, (path, payload), in `content_format`."""
        if content_format not in FORMATS:
            raise RigError(f"bootstrap writes in content format {content_format}: the rig writes "
                           f"{' or '.join(f'{n} ({cf})' for cf, n in FORMATS.items())}")
        security = (SECURITY_OBJECT, ACCOUNT_INSTANCE)
        server = (SERVER_OBJECT, SERVER_INSTANCE)
        return [
            (f"/{security[0]}/{security[1]}", encode(content_format, self.security_values(), security)),
            (f"/{server[0]}/{server[1]}", encode(content_format, self.server_values(), server)),
        ]


def preferred_format(query_pct: str | None) -> int:
    """The content format to write in: the `pct` of the Bootstrap-Request if the rig writes it, else TLV."""
    if query_pct is None:
        return CF_TLV
    try:
        wanted = int(query_pct)
    except ValueError:
        raise RigError(f"Bootstrap-Request pct={query_pct!r} is not a content-format number") from None
    if wanted not in FORMATS:
        raise RigError(f"Bootstrap-Request pct={wanted}: the rig writes {' or '.join(map(str, FORMATS))}")
    return wanted
