"""DTLS 1.2 with pre-shared keys for the rig's coaps endpoint, behind one small engine interface.

Why an engine of our own, in Python over `cryptography` (measured, issue 3):
- aiocoap's tinydtls server (DTSLSocket) refuses server-initiated requests to
  DTLS peers, silently drops mbedtls ClientHellos whose record version is
  0xFE00 (Anjay's default) with logging compiled out, offers CCM suites only
  and never purges its peer table. Patching all that from outside is fragile.
- python-mbedtls works well, but ships x86_64 wheels only and builds only
  against Mbed TLS 2.28, which is end of life (gone from Debian 13); the rig
  must install on a Raspberry Pi (aarch64, bookworm, Python 3.11).
- pyOpenSSL has DTLS but no public PSK API.
- `cryptography` has aarch64 wheels and is in Debian bookworm, and a DTLS 1.2
  PSK server is small: four suites (CCM_8 that LwM2M mandates, CCM, GCM,
  CBC-SHA256), one PRF, no certificates, no renegotiation, no resumption.
  Owning it also gives the rig what a test bench needs: a log line and a
  timeline event for every failed handshake, stating why.

The interface below is what the aiocoap transport (`transport.py`) uses and
all it uses, so a second engine (tinydtls, mbedtls) can be slotted in by
implementing `DtlsServerEngine` and passing it to `attach_coaps(engine=...)`.
Engines are free of asyncio: they get bytes and a clock, and answer through
`EngineHooks`, so they are unit-tested with byte strings and a fake clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Protocol

Peer = Hashable  # a socket address tuple such as ("127.0.0.1", 40123)

log = logging.getLogger("rig.dtls")


@dataclass(frozen=True)
class DtlsEvent:
    """Something the transport and the operator care about.

    kind: "handshake-ok" (replaced=True when it superseded an older session
    of the same peer), "handshake-failed" (reason says why), "closed"
    (close_notify, idle purge, eviction or shutdown; reason says which).
    """

    kind: str
    peer: Peer
    identity: bytes | None = None
    reason: str = ""
    suite: str = ""
    replaced: bool = False


@dataclass
class EngineHooks:
    """How an engine talks back: datagrams to send, plaintext received, session events."""

    send_datagram: Callable[[Peer, bytes], None]
    deliver: Callable[[Peer, bytes, bytes], None]  # peer, psk identity, plaintext
    event: Callable[[DtlsEvent], None] = field(default=lambda _event: None)


class DtlsServerEngine(Protocol):
    """A DTLS server for many peers on one socket; the transport owns the socket and the timer."""

    def receive(self, peer: Peer, datagram: bytes) -> None:
        """Feed one datagram from `peer`; answers go out through the hooks."""

    def send(self, peer: Peer, plaintext: bytes, identity: bytes | None = None) -> bool:
        """Send application data over the peer's established session; False if there is none
        (or, when `identity` is given, if the session belongs to a different identity)."""

    def poll(self) -> None:
        """Run due timers: handshake retransmissions and timeouts, idle purge."""

    def next_deadline(self) -> float | None:
        """When `poll` next has work, in the engine's clock; None if never."""

    def identity(self, peer: Peer) -> bytes | None:
        """PSK identity of the peer's established session."""

    def peers(self) -> list[Peer]:
        """Peers with an established session."""

    def close(self, peer: Peer) -> None:
        """Send close_notify and forget the peer."""

    def close_all(self) -> None: ...


def peer_text(peer: Peer) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        host, port = peer[0], peer[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(peer)


def identity_text(identity: bytes | None) -> str | None:
    return None if identity is None else identity.decode("utf-8", "backslashreplace")


def report(event: DtlsEvent, timeline: Any = None) -> None:
    """Log one line per failed handshake (and quieter lines otherwise); mirror to the timeline as "dtls" events."""
    peer, ident = peer_text(event.peer), identity_text(event.identity)
    if event.kind == "handshake-failed":
        log.warning("DTLS handshake with %s failed: %s (identity %s)", peer, event.reason, ident)
    elif event.kind == "handshake-ok":
        log.info("DTLS session with %s established (identity %s, %s%s)", peer, ident, event.suite,
                 ", replacing the previous session" if event.replaced else "")
    else:
        log.info("DTLS session with %s closed: %s", peer, event.reason)
    if timeline is not None:
        data: dict[str, Any] = {"event": event.kind, "peer": peer, "identity": ident}
        if event.reason:
            data["reason"] = event.reason
        if event.suite:
            data["suite"] = event.suite
        if event.kind == "handshake-ok":
            data["replaced"] = event.replaced
        timeline.append("dtls", **data)


def create_engine(psk_lookup: Callable[[bytes], bytes | None], hooks: EngineHooks, **options: Any) -> DtlsServerEngine:
    """The default engine (pure Python over `cryptography`); options go to `PyDtlsServerEngine`."""
    from rig.lwm2m.dtls.pyengine import PyDtlsServerEngine

    return PyDtlsServerEngine(psk_lookup, hooks, **options)
