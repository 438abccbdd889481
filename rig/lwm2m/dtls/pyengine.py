"""The default `DtlsServerEngine`: routes records between the stateless cookie exchange,
handshakes in progress and established sessions (see the package docstring for why it exists).

Routing rules that matter on a bench of boards that lose power:
- A ClientHello in epoch 0 from a peer with a session starts a fresh handshake
  (RFC 6347 4.2.8); the old session keeps working until the new one completes.
- While both exist, an epoch-1 record is tried against the old session first
  and goes to the new handshake if it is not the old session's.
- A repeated ClientHello (same random) re-sends our flight; a repeated client
  Finished after completion re-sends our final flight.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from rig.lwm2m.dtls import DtlsEvent, EngineHooks, Peer, report
from rig.lwm2m.dtls import messages as m
from rig.lwm2m.dtls.handshake import CookieJar, HandshakeConfig, HandshakeFailed, ServerHandshake
from rig.lwm2m.dtls.records import (
    CT_ALERT,
    CT_APPLICATION_DATA,
    CT_HANDSHAKE,
    DTLS_1_0,
    EPOCH0_VERSIONS,
    LATER_EPOCH_VERSIONS,
    Record,
    WriteState,
    encode_record,
    parse_records,
)
from rig.lwm2m.dtls.sessions import PeerState, SessionTable
from rig.lwm2m.dtls.suites import BadRecordMac

ALERT_NO_RENEGOTIATION = 100


class PyDtlsServerEngine:
    def __init__(
        self,
        psk_lookup: Callable[[bytes], bytes | None],
        hooks: EngineHooks,
        clock: Callable[[], float] = time.monotonic,
        config: HandshakeConfig | None = None,
        max_peers: int = 256,
        idle_timeout: float = 3600.0,
        cookie_secret: bytes | None = None,
        timeline: Any = None,
    ) -> None:
        self._lookup = psk_lookup
        self._hooks = hooks
        self._clock = clock
        self._config = config or HandshakeConfig()
        self._table = SessionTable(max_peers, idle_timeout)
        self._cookies = CookieJar(cookie_secret)
        self._timeline = timeline

    # -- DtlsServerEngine ----------------------------------------------------------------------

    def receive(self, peer: Peer, datagram: bytes) -> None:
        now = self._clock()
        for record in parse_records(datagram):
            self._record(peer, record, now)

    def send(self, peer: Peer, plaintext: bytes, identity: bytes | None = None) -> bool:
        state = self._table.get(peer)
        conn = state.connection if state else None
        if conn is None or (identity is not None and conn.identity != identity):
            return False
        self._hooks.send_datagram(peer, conn.write.seal(CT_APPLICATION_DATA, plaintext))
        return True

    def poll(self) -> None:
        now = self._clock()
        for state in self._table:
            hs = state.pending
            if hs is not None and now >= hs.next_deadline():
                try:
                    self._send_all(state.peer, hs.poll(now))
                except HandshakeFailed as exc:
                    self._fail(state, exc)
        for state in self._table.purge_idle(now):
            self._closed(state, f"idle for {self._table.idle_timeout:g} s")

    def next_deadline(self) -> float | None:
        deadlines = [s.pending.next_deadline() for s in self._table if s.pending is not None]
        idle = self._table.next_idle_deadline()
        if idle is not None:
            deadlines.append(idle)
        return min(deadlines) if deadlines else None

    def identity(self, peer: Peer) -> bytes | None:
        state = self._table.get(peer)
        return state.connection.identity if state and state.connection else None

    def peers(self) -> list[Peer]:
        return [s.peer for s in self._table if s.connection is not None]

    def close(self, peer: Peer) -> None:
        state = self._table.remove(peer)
        if state is not None:
            if state.connection is not None:
                self._hooks.send_datagram(peer, state.connection.write.seal(CT_ALERT, m.alert(m.LEVEL_WARNING, m.ALERT_CLOSE_NOTIFY)))
            self._closed(state, "closed by the server")

    def close_all(self) -> None:
        for state in self._table:
            self.close(state.peer)

    @property
    def table(self) -> SessionTable:
        return self._table

    # -- routing -------------------------------------------------------------------------------

    def _record(self, peer: Peer, record: Record, now: float) -> None:
        if record.epoch == 0:
            if record.version not in EPOCH0_VERSIONS:
                return
            if record.content_type == CT_HANDSHAKE and record.body[:1] == bytes([m.CLIENT_HELLO]):
                self._client_hello(peer, record, now)
                return
        elif record.version not in LATER_EPOCH_VERSIONS:
            return
        state = self._table.get(peer)
        if state is None:
            return
        if state.connection is not None and record.epoch == 1 and self._to_connection(state, record, now):
            return
        if state.pending is not None:
            self._to_handshake(state, record, now)

    def _client_hello(self, peer: Peer, record: Record, now: float) -> None:
        try:
            frag = m.parse_fragments(record.body)[0]
            if not frag.is_whole:
                return  # a fragmented first ClientHello cannot be answered statelessly; PSK hellos are small
            hello = m.ClientHello.parse(frag.body)
        except m.DecodeError:
            return
        state = self._table.get(peer)
        if state is not None and state.pending is not None and state.pending.hello.random == hello.random:
            self._table.touch(state, now)
            self._send_all(peer, state.pending.repeat_hello(now))
            return
        if state is not None and state.connection is not None and state.connection.client_random == hello.random:
            return  # a late copy of the hello that made the current session
        if not self._cookies.check(peer, hello):
            body = m.hello_verify_request(self._cookies.make(peer, hello))
            hvr = m.whole_message(m.HELLO_VERIFY_REQUEST, frag.message_seq, body)
            self._hooks.send_datagram(peer, encode_record(CT_HANDSHAKE, DTLS_1_0, 0, record.seq, hvr))
            return
        try:
            hs = ServerHandshake(hello, frag.body, frag.message_seq, record.seq, self._config, self._lookup, now)
        except HandshakeFailed as exc:
            self._send_alert(peer, exc.alert, record.seq)
            self._emit(DtlsEvent("handshake-failed", peer, None, exc.reason))
            return
        state, evicted = self._table.admit(peer, now)
        for old in evicted:
            self._closed(old, f"evicted: session table full ({self._table.max_peers} peers)")
        if state.pending is not None:
            self._emit(DtlsEvent("handshake-failed", peer, state.pending.identity, "superseded by a new ClientHello"))
        state.pending = hs
        self._send_all(peer, hs.flight_datagrams())

    def _to_connection(self, state: PeerState, record: Record, now: float) -> bool:
        """Handle an epoch-1 record on the established session; False if it is not that session's."""
        conn = state.connection
        assert conn is not None
        if conn.read.window.is_replay(record.seq) and state.pending is not None:
            return False
        try:
            plaintext = conn.read.open(record)
        except BadRecordMac:
            return state.pending is None  # not ours: maybe the new handshake's; else forged or stale, dropped
        if plaintext is None:
            return True
        self._table.touch(state, now)
        if record.content_type == CT_APPLICATION_DATA:
            self._hooks.deliver(state.peer, conn.identity, plaintext)
        elif record.content_type == CT_ALERT and len(plaintext) >= 2:
            if plaintext[1] == m.ALERT_CLOSE_NOTIFY or plaintext[0] == m.LEVEL_FATAL:
                state.connection = None
                if state.pending is None:
                    self._table.remove(state.peer)
                self._emit(DtlsEvent("closed", state.peer, conn.identity, f"client sent alert {plaintext[1]}"))
        elif record.content_type == CT_HANDSHAKE:
            try:
                frags = m.parse_fragments(plaintext)
            except m.DecodeError:
                return True
            if any(f.msg_type == m.FINISHED and f.message_seq == conn.client_finished_seq for f in frags):
                self._send_all(state.peer, conn.seal_flight())  # our final flight was lost
            elif any(f.msg_type == m.CLIENT_HELLO for f in frags):
                self._hooks.send_datagram(state.peer, conn.write.seal(CT_ALERT, m.alert(m.LEVEL_WARNING, ALERT_NO_RENEGOTIATION)))
        return True

    def _to_handshake(self, state: PeerState, record: Record, now: float) -> None:
        hs = state.pending
        assert hs is not None
        try:
            out = hs.handle(record, now)
        except HandshakeFailed as exc:
            self._fail(state, exc)
            return
        self._table.touch(state, now)
        self._send_all(state.peer, out)
        if hs.result is not None:
            replaced = state.connection is not None
            state.connection, state.pending = hs.result, None
            self._emit(DtlsEvent("handshake-ok", state.peer, hs.result.identity, suite=hs.suite.name, replaced=replaced))

    # -- helpers -------------------------------------------------------------------------------

    def _fail(self, state: PeerState, exc: HandshakeFailed) -> None:
        state.pending = None
        if state.connection is None:
            self._table.remove(state.peer)
        self._send_alert(state.peer, exc.alert, 0)
        self._emit(DtlsEvent("handshake-failed", state.peer, exc.identity, exc.reason))

    def _send_alert(self, peer: Peer, description: int | None, seq: int) -> None:
        """A plaintext fatal alert: during a handshake the client still reads epoch 0."""
        if description is not None:
            self._hooks.send_datagram(peer, WriteState(next_seq=seq).seal(CT_ALERT, m.alert(m.LEVEL_FATAL, description)))

    def _closed(self, state: PeerState, reason: str) -> None:
        if state.connection is not None:
            self._emit(DtlsEvent("closed", state.peer, state.connection.identity, reason))

    def _send_all(self, peer: Peer, datagrams: list[bytes]) -> None:
        for datagram in datagrams:
            self._hooks.send_datagram(peer, datagram)

    def _emit(self, event: DtlsEvent) -> None:
        report(event, self._timeline)
        self._hooks.event(event)
