"""coaps for a device-side aiocoap context: one UDP socket that both sends requests and serves the server's.

A device has one socket: it registers and fetches firmware from it, and the
server's Read/Write/Execute/Observe arrive over the same DTLS session. aiocoap's
own DTLS client (tinydtls) cannot serve requests on its sessions, so this is one
more TokenManager -> MessageManager -> `CoapsClientInterface` stack on a context
whose site is the device's object tree; `create_coaps_client_context` builds it.

Sessions are made on demand, one `DtlsClientEngine` per server address (a
Package URI may name another host). A request sent without a session waits for
the handshake; a failed handshake fails the pending requests with its reason.
Losing the session is normal on a bench (the rig's server restarts and forgets
it, silently ignoring its records), so a CON request that aiocoap retransmits
with nothing authentic heard from the server since its first transmission
drops the session: the retransmission goes out over a new handshake.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import OrderedDict
from typing import Any, Callable

from aiocoap import CON, Context, Message, error, interfaces
from aiocoap.messagemanager import MessageManager
from aiocoap.tokenmanager import TokenManager
from aiocoap.util import hostportjoin, hostportsplit

from rig.lwm2m.dtls import DtlsEvent, Peer
from rig.lwm2m.dtls.client_engine import ClientHooks, DtlsClientEngine
from rig.lwm2m.dtls.client_handshake import ClientConfig
from rig.lwm2m.dtls.deadline_timer import DeadlineTimer
from rig.lwm2m.dtls.transport import CoapsRemote, Datagrams

log = logging.getLogger("rig.dtls")
COAPS_PORT = 5684
MAX_TRACKED_CONS = 256


class ServerRemote(CoapsRemote):
    """The server as the device's aiocoap sees it; the PSK identity is ours, so it claims nothing about the peer."""

    @property
    def authenticated_claims(self) -> tuple[bytes, ...]:
        return ()


class CoapsClientInterface(interfaces.MessageInterface):
    def __init__(self, mman: MessageManager, loop: asyncio.AbstractEventLoop, identity: bytes, psk: bytes,
                 config: ClientConfig | None = None, on_event: Callable[[DtlsEvent], None] | None = None,
                 timeline: Any = None) -> None:
        self._mman: MessageManager | None = mman
        self._loop = loop
        self.identity = identity
        self._psk = psk
        self._config = config or ClientConfig()
        self._on_event = on_event
        self._timeline = timeline
        self.hostinfo_local = ""
        self.engines: dict[Peer, DtlsClientEngine] = {}
        self._remotes: dict[Peer, ServerRemote] = {}
        self._transport: asyncio.DatagramTransport | None = None
        self._timer = DeadlineTimer(loop, self._on_timer)
        self._con_first_sent: OrderedDict[tuple[Peer, int], float] = OrderedDict()

    # -- engines ------------------------------------------------------------------------------

    def engine(self, peer: Peer) -> DtlsClientEngine:
        engine = self.engines.get(peer)
        if engine is None:
            hooks = ClientHooks(lambda data: self._send_datagram(peer, data), lambda data: self._deliver(peer, data),
                                self._event)
            engine = self.engines[peer] = DtlsClientEngine(peer, self.identity, self._psk, hooks, clock=self._loop.time,
                                                           config=self._config, timeline=self._timeline)
        return engine

    def remote(self, peer: Peer) -> ServerRemote:
        remote = self._remotes.get(peer)
        if remote is None:
            remote = self._remotes[peer] = ServerRemote(self, peer, self.identity)
        return remote

    def _send_datagram(self, peer: Peer, data: bytes) -> None:
        if self._transport is not None:
            self._transport.sendto(data, peer)

    def _deliver(self, peer: Peer, plaintext: bytes) -> None:
        if self._mman is None:
            return
        try:
            message = Message.decode(plaintext, remote=self.remote(peer))
        except error.UnparsableMessage:
            log.warning("Ignoring unparsable CoAP message over DTLS from %s", hostportjoin(*peer[:2]))
            return
        self._mman.dispatch_message(message)

    def _event(self, event: DtlsEvent) -> None:
        if event.kind == "handshake-failed":
            remote = self.remote(event.peer)
            self._loop.call_soon(self._fail_requests, remote, f"DTLS handshake with {remote.hostinfo} failed: {event.reason}")
        if self._on_event is not None:
            self._on_event(event)

    def _fail_requests(self, remote: ServerRemote, reason: str) -> None:
        if self._mman is not None:
            self._mman.dispatch_error(error.NetworkError(reason), remote)

    # -- socket and timer ---------------------------------------------------------------------

    def datagram_received(self, data: bytes, addr: Peer) -> None:
        engine = self.engines.get(addr[:2])
        if engine is not None:
            engine.receive(data)
            self._reschedule()

    def _reschedule(self) -> None:
        deadlines = [d for e in self.engines.values() if (d := e.next_deadline()) is not None]
        self._timer.set(min(deadlines) if deadlines else None)

    def _on_timer(self) -> None:
        for engine in list(self.engines.values()):
            engine.poll()
        self._reschedule()

    # -- MessageInterface ---------------------------------------------------------------------

    def send(self, message: Message) -> None:
        if self._mman is None:
            log.info("Not sending %r: coaps client transport is shut down", message)
            return
        peer = message.remote.peer
        engine = self.engine(peer)
        if message.mtype == CON and message.mid is not None:
            self._check_retransmission(engine, (peer, message.mid))
        engine.send(message.encode())
        self._reschedule()

    def _check_retransmission(self, engine: DtlsClientEngine, key: tuple[Peer, int]) -> None:
        """A CON sent again with nothing heard since its first send: the server has lost our session."""
        first = self._con_first_sent.get(key)
        if first is None:
            self._con_first_sent[key] = self._loop.time()
            while len(self._con_first_sent) > MAX_TRACKED_CONS:
                self._con_first_sent.popitem(last=False)
        elif engine.state == "established" and engine.last_receive < first:
            engine.drop("a retransmitted request got no answer over the session: the server lost it (restarted?)")

    async def recognize_remote(self, remote: Any) -> bool:
        return isinstance(remote, ServerRemote) and remote._interface is self

    async def determine_remote(self, message: Message) -> ServerRemote | None:
        if message.requested_scheme != "coaps" or self._transport is None:
            return None
        host, port = hostportsplit(message.remote.hostinfo)
        infos = await self._loop.getaddrinfo(host, port or COAPS_PORT, family=socket.AF_INET, type=socket.SOCK_DGRAM)
        if not infos:
            return None
        return self.remote(infos[0][4][:2])

    async def shutdown(self) -> None:
        for engine in self.engines.values():
            engine.close()
        self.engines.clear()
        self._timer.cancel()
        self._mman = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None


async def create_coaps_client_context(
    site: Any,
    identity: bytes,
    psk: bytes,
    bind: tuple[str, int] = ("127.0.0.1", 0),
    config: ClientConfig | None = None,
    on_event: Callable[[DtlsEvent], None] | None = None,
    timeline: Any = None,
) -> tuple[Context, CoapsClientInterface]:
    """An aiocoap context serving `site` whose only transport is coaps over one UDP socket bound to `bind` (IPv4).

    Requests to coaps:// URIs go over sessions keyed with (identity, psk);
    `on_event` sees every DtlsEvent (handshake-ok / handshake-failed / closed).
    """
    loop = asyncio.get_running_loop()
    context = Context(loop=loop, serversite=site, loggername="coaps-client")
    tman = TokenManager(context)
    mman = MessageManager(tman)
    interface = CoapsClientInterface(mman, loop, identity, psk, config, on_event, timeline)
    transport, _ = await loop.create_datagram_endpoint(lambda: Datagrams(interface), local_addr=bind,
                                                       family=socket.AF_INET)
    interface._transport = transport  # type: ignore[assignment]
    interface.hostinfo_local = hostportjoin(*transport.get_extra_info("sockname")[:2])
    mman.message_interface = interface
    tman.token_interface = mman
    context.request_interfaces.append(tman)
    return context, interface
