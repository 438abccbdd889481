"""coaps for an existing aiocoap server context: one more message interface next to plain coap.

aiocoap routes outgoing messages by asking each of its request interfaces in
turn whether it recognises `message.remote`. `attach_coaps` appends one more
TokenManager -> MessageManager -> `CoapsMessageInterface` stack to the lead's
context, so the same site serves coap and coaps, and a request the server
sends to `request.remote` of an incoming coaps request is recognised here and
goes out over that client's DTLS session (Read/Write/Execute/Observe).

Remotes compare equal per (peer address, PSK identity), not per DTLS session,
so a board that reboots and handshakes again from the same port is the same
remote to the registration code; sending always uses the peer's current
session. Because of that, the message-ID duplicate cache of a remote is
cleared when its new session is established: a rebooted client may reuse a
message ID, and RFC 7252 9.1.2 scopes deduplication to one DTLS session.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from aiocoap import Context, Message, error, interfaces
from aiocoap.messagemanager import MessageManager
from aiocoap.numbers import constants
from aiocoap.tokenmanager import TokenManager
from aiocoap.util import hostportjoin, hostportsplit

from rig.lwm2m.dtls import DtlsEvent, DtlsServerEngine, EngineHooks, Peer, peer_text
from rig.lwm2m.dtls.deadline_timer import DeadlineTimer
from rig.lwm2m.dtls.psk import PskStore
from rig.lwm2m.dtls.pyengine import PyDtlsServerEngine
from rig.lwm2m.log_bounds import EventBudget
from rig.errors import RigError

log = logging.getLogger("rig.dtls")


class CoapsRemote(interfaces.EndpointAddress):
    """A coaps peer as aiocoap sees it; `psk_identity` is what the registration code checks against `ep`."""

    scheme = "coaps"
    is_multicast = False
    is_multicast_locally = False
    maximum_block_size_exp = constants.MAX_REGULAR_BLOCK_SIZE_EXP  # settable per instance, as aiocoap expects

    def __init__(self, interface: "CoapsMessageInterface", peer: Peer, identity: bytes) -> None:
        self._interface = interface
        self.peer = peer
        self.psk_identity = identity

    def _key(self) -> tuple[int, Peer, bytes]:
        return (id(self._interface), self.peer, self.psk_identity)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CoapsRemote) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"<CoapsRemote {self.hostinfo} identity={self.psk_identity!r}>"

    @property
    def hostinfo(self) -> str:
        return hostportjoin(self.peer[0], self.peer[1])

    @property
    def hostinfo_local(self) -> str:
        return self._interface.hostinfo_local

    @property
    def uri_base(self) -> str:
        return "coaps://" + self.hostinfo

    @property
    def uri_base_local(self) -> str:
        return "coaps://" + self.hostinfo_local

    @property
    def blockwise_key(self) -> tuple[Peer, bytes]:
        return (self.peer, self.psk_identity)

    @property
    def authenticated_claims(self) -> tuple[bytes, ...]:
        return (self.psk_identity,)


class _TolerantDict(dict):
    """aiocoap's duplicate cache pops each key on a timer; we may have cleared it first (new session)."""

    def pop(self, key: Any, *default: Any) -> Any:
        return super().pop(key, None)


class Datagrams(asyncio.DatagramProtocol):
    """Hands a UDP socket's datagrams to the DTLS interface that owns it (server or client side)."""

    def __init__(self, owner: Any) -> None:
        self._owner = owner

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self._owner.datagram_received(data, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors cannot be tied to a session; the handshake and CoAP timers report what they cause
        log.debug("coaps socket error (ignored): %s", exc)


class CoapsMessageInterface(interfaces.MessageInterface):
    def __init__(self, mman: MessageManager, loop: asyncio.AbstractEventLoop, hostinfo_local: str) -> None:
        self._mman: MessageManager | None = mman
        self._loop = loop
        self.hostinfo_local = hostinfo_local
        self.engine: DtlsServerEngine | None = None
        self._transport: asyncio.DatagramTransport | None = None
        self._timer = DeadlineTimer(loop, self._on_timer)
        self._remotes: dict[tuple[Peer, bytes], CoapsRemote] = {}
        self._errors = EventBudget()

    # -- engine hooks -------------------------------------------------------------------------

    def _send_datagram(self, peer: Peer, data: bytes) -> None:
        if self._transport is not None:
            self._transport.sendto(data, peer)

    def _remote(self, peer: Peer, identity: bytes) -> CoapsRemote:
        remote = self._remotes.get((peer, identity))
        if remote is None:
            remote = self._remotes[(peer, identity)] = CoapsRemote(self, peer, identity)
        return remote

    def _deliver(self, peer: Peer, identity: bytes, plaintext: bytes) -> None:
        if self._mman is None:
            return
        remote = self._remote(peer, identity)
        try:
            message = Message.decode(plaintext, remote=remote)
        except (error.UnparsableMessage, ValueError):  # ValueError: e.g. a Uri-Path that is not UTF-8
            log.warning("Ignoring unparsable CoAP message over DTLS from %s", remote.hostinfo)
            return
        self._mman.dispatch_message(message)

    def _on_event(self, event: DtlsEvent) -> None:
        if event.kind == "handshake-ok" and event.identity is not None and self._mman is not None:
            remote = self._remote(event.peer, event.identity)
            recent = getattr(self._mman, "_recent_messages", None)
            if isinstance(recent, dict):
                for key in [k for k in recent if k[0] == remote]:
                    del recent[key]
        elif event.kind == "closed" and event.identity is not None:
            self._remotes.pop((event.peer, event.identity), None)

    # -- socket and timer ---------------------------------------------------------------------

    def datagram_received(self, data: bytes, addr: Peer) -> None:
        if self.engine is None:
            return
        try:
            self.engine.receive(addr, data)
        except Exception:  # an engine bug must cost one datagram, not the socket's handler or the timer
            self._engine_error("receiving a datagram from " + peer_text(addr))
        finally:
            self._reschedule()

    def _engine_error(self, doing: str) -> None:
        allowed, left_out = self._errors.take()
        if allowed:
            more = f" ({left_out} more errors not logged)" if left_out else ""
            log.exception("DTLS engine error while %s; dropped it and serving on%s", doing, more)

    def _reschedule(self) -> None:
        try:
            deadline = self.engine.next_deadline() if self.engine is not None else None
        except Exception:
            self._engine_error("computing its next deadline")
            deadline = self._loop.time() + 1.0  # poll again soon rather than never
        self._timer.set(deadline)

    def _on_timer(self) -> None:
        if self.engine is None:
            return
        try:
            self.engine.poll()
        except Exception:
            self._engine_error("running its timers")
        finally:
            self._reschedule()

    # -- MessageInterface ---------------------------------------------------------------------

    def send(self, message: Message) -> None:
        remote = message.remote
        if self._mman is None or self.engine is None:
            log.info("Not sending %r: coaps transport is shut down", message)
            return
        if not self.engine.send(remote.peer, message.encode(), remote.psk_identity):
            log.warning("No DTLS session with %s (identity %r) to send %s over", remote.hostinfo, remote.psk_identity, message.code)
            self._loop.call_soon(self._report_unreachable, remote)

    def _report_unreachable(self, remote: CoapsRemote) -> None:
        if self._mman is not None:
            self._mman.dispatch_error(error.NetworkError(f"no DTLS session with {remote.hostinfo}"), remote)

    async def recognize_remote(self, remote: Any) -> bool:
        return isinstance(remote, CoapsRemote) and remote._interface is self

    async def determine_remote(self, message: Message) -> CoapsRemote | None:
        """coaps://host:port URIs reach a peer only while it has a session: the server never initiates DTLS."""
        if message.requested_scheme != "coaps" or self.engine is None:
            return None
        try:
            host, port = hostportsplit(message.remote.hostinfo)
        except Exception:
            return None
        for peer in self.engine.peers():
            if peer[0] == host and peer[1] == port:
                identity = self.engine.identity(peer)
                if identity is not None:
                    return self._remote(peer, identity)
        return None

    async def shutdown(self) -> None:
        if self.engine is not None:
            self.engine.close_all()
        self.engine = None
        self._timer.cancel()
        self._mman = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None


class CoapsEndpoint:
    """The handle `attach_coaps` returns: the bound address, the engine, and `close()`."""

    def __init__(self, context: Context, tman: TokenManager, interface: CoapsMessageInterface, host: str, port: int) -> None:
        self.context = context
        self.host = host
        self.port = port
        self.interface = interface
        self._tman = tman

    @property
    def engine(self) -> DtlsServerEngine | None:
        return self.interface.engine

    def keep(self, remote: Any, seconds: float | None) -> bool:
        """Hold `remote`'s DTLS session for `seconds` whatever its idleness (its registration's lifetime);
        None releases it. False when `remote` is not a coaps peer of ours with a session."""
        engine = self.engine
        if engine is None or not isinstance(remote, CoapsRemote) or remote._interface is not self.interface:
            return False
        return engine.keep(remote.peer, remote.psk_identity, seconds)

    def drop_sessions(self, peer: str | None = None) -> int:
        """Forget DTLS sessions without a close_notify (all, or the one of `peer` "host:port"): a fault plan's
        "lose-dtls-session", what a device meets when the server lost its state. Returns how many were dropped.
        """
        engine = self.engine
        if engine is None:
            return 0
        dropped = 0
        for p in engine.peers():
            if peer is not None and peer not in (peer_text(p), f"{p[0]}:{p[1]}"):
                continue
            table = getattr(engine, "table", None)
            if table is not None:
                table.remove(p)  # silently: the device's next record meets a server that does not know it
            else:
                engine.close(p)
            for key in [k for k in self.interface._remotes if k[0] == p]:
                del self.interface._remotes[key]
            dropped += 1
        return dropped

    async def close(self) -> None:
        """Stop serving coaps (close_notify to every peer); safe after `context.shutdown()` and twice."""
        if self._tman in self.context.request_interfaces:
            self.context.request_interfaces.remove(self._tman)
        if getattr(self._tman, "outgoing_requests", None) is not None:  # not yet shut down (by us or the context)
            await self._tman.shutdown()


async def attach_coaps(
    context: Context,
    host: str,
    port: int,
    psk_store: PskStore,
    timeline: Any = None,
    engine_factory: Callable[..., DtlsServerEngine] = PyDtlsServerEngine,
    **engine_options: Any,
) -> CoapsEndpoint:
    """Serve coaps on (host, port) for the site of an existing server `context`.

    `engine_factory(psk_lookup, hooks, clock=..., timeline=..., **engine_options)`
    builds the DTLS engine; the default is the pure-Python `PyDtlsServerEngine` (options such as
    `config=HandshakeConfig(...)`, `max_sessions`, `max_handshakes`, `idle_timeout`). A second engine
    plugs in here.
    """
    loop = asyncio.get_running_loop()
    tman = TokenManager(context)
    mman = MessageManager(tman)
    if isinstance(getattr(mman, "_recent_messages", None), dict):
        mman._recent_messages = _TolerantDict()
    interface = CoapsMessageInterface(mman, loop, hostportjoin(host, port))
    hooks = EngineHooks(interface._send_datagram, interface._deliver, interface._on_event)
    interface.engine = engine_factory(psk_store.key_for_identity, hooks, clock=loop.time, timeline=timeline, **engine_options)
    try:
        transport, _ = await loop.create_datagram_endpoint(lambda: Datagrams(interface), local_addr=(host, port))
    except OSError as exc:
        raise RigError(f"cannot bind coaps to {hostportjoin(host, port)}: {exc.strerror or exc}") from exc
    interface._transport = transport  # type: ignore[assignment]
    mman.message_interface = interface
    tman.token_interface = mman
    context.request_interfaces.append(tman)
    return CoapsEndpoint(context, tman, interface, host, port)
