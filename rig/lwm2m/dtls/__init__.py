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
  CBC-SHA256, which LwM2M 1.1.1/1.2 servers must also offer), one PRF, no
  certificates, no renegotiation, no resumption. Owning it also gives the rig
  what a test bench needs: a log line and a timeline event for a failed
  handshake, stating why (rate-limited and escaped: strangers cause them too).

The interface below is what the aiocoap transport (`transport.py`) uses and
all it uses, so a second engine (tinydtls, mbedtls) can be slotted in by
implementing `DtlsServerEngine` and passing it to `attach_coaps(engine=...)`.
Engines are free of asyncio: they get bytes and a clock, and answer through
`EngineHooks`, so they are unit-tested with byte strings and a fake clock.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Protocol

from rig.lwm2m.limits import EVENTS_PER_SECOND
from rig.lwm2m.log_bounds import EventBudget, clamp_line, printable, printable_bytes

Peer = Hashable  # a socket address tuple such as ("127.0.0.1", 40123)

log = logging.getLogger("rig.dtls")


@dataclass(frozen=True)
class DtlsEvent:
    """Something the transport and the operator care about.

    kind: "handshake-ok" (replaced=True when it superseded an older session
    of the same peer), "handshake-failed" (reason says why), "closed"
    (close_notify, idle purge, eviction or shutdown; reason says which),
    "handshake-flood" (half-open handshakes pushed out of a full table; reason
    gives the counts; peer is the latest one).
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

    def keep(self, peer: Peer, identity: bytes, seconds: float | None) -> bool:
        """Keep the peer's session (if it is `identity`'s) for at least `seconds` more whatever its idleness
        (a live registration); None releases it to the idle purge. False if there is no such session."""

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
    """A peer-chosen identity as log and event text: escaped and cut (see rig.lwm2m.log_bounds)."""
    return None if identity is None else printable_bytes(identity)


class DtlsReporter:
    """One log line per failed handshake (quieter lines otherwise), mirrored to the timeline as "dtls" events.

    Failures and floods are what a stranger can cause, so they are rate-limited
    (EVENTS_PER_SECOND; the next one recorded carries "suppressed": how many were
    left out) and their text is escaped and cut; the engine's hooks still see every event.
    """

    def __init__(self, timeline: Any = None, clock: Callable[[], float] = time.monotonic,
                 per_second: float = EVENTS_PER_SECOND) -> None:
        self._timeline = timeline
        self._budget = EventBudget(per_second, clock)

    def __call__(self, event: DtlsEvent) -> None:
        peer, ident = peer_text(event.peer), identity_text(event.identity)
        reason = printable(event.reason, 200)
        left_out = 0
        if event.kind in ("handshake-failed", "handshake-flood"):
            allowed, left_out = self._budget.take()
            if not allowed:
                return
        more = f" ({left_out} more failures not logged)" if left_out else ""
        if event.kind == "handshake-failed":
            log.warning("%s", clamp_line(f"DTLS handshake with {peer} failed: {reason} (identity {ident}){more}"))
        elif event.kind == "handshake-flood":
            log.warning("%s", clamp_line(f"DTLS half-open handshakes dropped: {reason}{more}"))
        elif event.kind == "handshake-ok":
            log.info("DTLS session with %s established (identity %s, %s%s)", peer, ident, event.suite,
                     ", replacing the previous session" if event.replaced else "")
        else:
            log.info("%s", clamp_line(f"DTLS session with {peer} closed: {reason}"))
        if self._timeline is not None:
            data: dict[str, Any] = {"event": event.kind, "peer": peer, "identity": ident}
            if reason:
                data["reason"] = reason
            if event.suite:
                data["suite"] = event.suite
            if event.kind == "handshake-ok":
                data["replaced"] = event.replaced
            if left_out:
                data["suppressed"] = left_out
            self._timeline.append("dtls", **data)
