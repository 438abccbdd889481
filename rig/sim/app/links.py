"""The board's CoAP contexts by URI scheme: one for the LwM2M server, others made when a pull needs them.

The server's scheme decides the main context: plain UDP for coap://, the
device-side DTLS transport for coaps:// (one socket that registers, serves the
server's requests over the same session and downloads). A Package URI of the
other scheme gets its own socket on first use, as a device opens a download
connection; coaps needs the board's PSK ("identity:hexkey", `rig sim --psk`).
Every context goes through the board's radio (`radio.py`): in queue mode it sleeps.
"""

from __future__ import annotations

from typing import Any, Callable

import aiocoap

from rig.lwm2m.dtls import DtlsEvent, peer_text
from rig.lwm2m.dtls.client_transport import create_coaps_client_context
from rig.sim.app.radio import Radio

Console = Callable[[str], None]
BIND = ("127.0.0.1", 0)


class LinkError(Exception):
    """The board cannot reach a URI of this scheme (no PSK for coaps, unknown scheme)."""


def parse_psk(spec: str | None) -> tuple[bytes, bytes] | None:
    """(identity, key) from "identity:hexkey"; the key is the part after the last colon."""
    if not spec:
        return None
    identity, sep, hexkey = str(spec).rpartition(":")
    try:
        key = bytes.fromhex(hexkey)
    except ValueError:
        raise LinkError(f"PSK {spec!r}: the key after the last ':' is not hex") from None
    if not sep or not identity or not key:
        raise LinkError(f"PSK {spec!r} must be IDENTITY:HEXKEY")
    return identity.encode(), key


class Links:
    """aiocoap contexts per scheme; the first one asked for with a site is the one the server talks to."""

    def __init__(self, site: Any, psk: tuple[bytes, bytes] | None, console: Console, radio: Radio | None = None) -> None:
        self._site = site
        self._psk = psk
        self._console = console
        self._radio = radio
        self._contexts: dict[str, aiocoap.Context] = {}

    @property
    def schemes(self) -> frozenset[str]:
        """Schemes a Package URI may use on this board."""
        return frozenset({"coap", "coaps"} if self._psk is not None else {"coap"})

    async def context(self, scheme: str, serve: bool = False) -> aiocoap.Context:
        """The context for `scheme`, created on first use; `serve` puts the device's objects on it."""
        ctx = self._contexts.get(scheme)
        if ctx is not None:
            return ctx
        site = self._site if serve else None
        if scheme == "coap":
            ctx = await aiocoap.Context.create_server_context(site, bind=BIND, transports=["udp6"])
        elif scheme == "coaps":
            if self._psk is None:
                raise LinkError("coaps needs a PSK (rig sim --psk IDENTITY:HEXKEY)")
            identity, key = self._psk
            ctx, _interface = await create_coaps_client_context(site, identity, key, bind=BIND, on_event=self._on_event)
        else:
            raise LinkError(f"unsupported scheme {scheme!r}")
        if self._radio is not None:
            self._radio.attach(ctx)
        self._contexts[scheme] = ctx
        return ctx

    def _on_event(self, event: DtlsEvent) -> None:
        peer = peer_text(event.peer)
        if event.kind == "handshake-ok":
            self._console(f"[dtls] session with {peer} established ({event.suite})")
        elif event.kind == "handshake-failed":
            self._console(f"[dtls] handshake with {peer} failed: {event.reason}")
        else:
            self._console(f"[dtls] session with {peer} closed: {event.reason}")

    async def close(self) -> None:
        for ctx in self._contexts.values():
            await ctx.shutdown()
        self._contexts.clear()
