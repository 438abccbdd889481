"""The default `DtlsServerEngine`: routes records between the stateless cookie exchange,
handshakes in progress and established sessions (see the package docstring for why it exists).

Routing rules that matter on a bench of boards that lose power:
- A ClientHello in epoch 0 from a peer with a session starts a fresh handshake
  (RFC 6347 4.2.8); the old session keeps working until the new one completes.
- While both exist, an epoch-1 record is tried against the old session first
  and goes to the new handshake if it is not the old session's.
- A repeated ClientHello (same random) re-sends our flight; a repeated client
  Finished after completion re-sends our final flight.
And against peers that hold no key (see `sessions` and `handshake` for the rest):
- One HelloVerifyRequest per datagram, however many ClientHellos it carries, and
  at most MAX_RECORDS_PER_DATAGRAM records looked at.
- Half-open handshakes have their own table; when it overflows the oldest goes,
  and the operator gets one warning with counts per FLOOD_WARNING_INTERVAL.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from rig.lwm2m.dtls import DtlsEvent, DtlsReporter, EngineHooks, Peer
from rig.lwm2m.dtls import messages as m
from rig.lwm2m.dtls.cookies import CookieJar
from rig.lwm2m.dtls.handshake import HandshakeConfig, HandshakeFailed, ServerHandshake
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
from rig.lwm2m.dtls.sessions import HandshakeTable, Session, SessionTable, SessionTableFull
from rig.lwm2m.dtls.suites import BadRecordMac
from rig.lwm2m.limits import (
    FLOOD_WARNING_INTERVAL,
    MAX_CLIENT_HELLO,
    MAX_HALF_OPEN_HANDSHAKES,
    MAX_RECORDS_PER_DATAGRAM,
    MAX_SESSIONS,
    SESSION_IDLE_TIMEOUT,
)

ALERT_NO_RENEGOTIATION = 100
ALERT_INTERNAL_ERROR = 80


class PyDtlsServerEngine:
    def __init__(
        self,
        psk_lookup: Callable[[bytes], bytes | None],
        hooks: EngineHooks,
        clock: Callable[[], float] = time.monotonic,
        config: HandshakeConfig | None = None,
        max_sessions: int = MAX_SESSIONS,
        idle_timeout: float = SESSION_IDLE_TIMEOUT,
        max_handshakes: int = MAX_HALF_OPEN_HANDSHAKES,
        cookie_secret: bytes | None = None,
        timeline: Any = None,
    ) -> None:
        self._lookup = psk_lookup
        self._hooks = hooks
        self._clock = clock
        self._config = config or HandshakeConfig()
        self._table = SessionTable(max_sessions, idle_timeout)
        self._handshakes = HandshakeTable(max_handshakes)
        self._cookies = CookieJar(cookie_secret, clock)
        self._report = DtlsReporter(timeline, clock)
        self._flood_dropped = 0  # half-open handshakes pushed out since the last warning
        self._flood_peer: Peer | None = None
        self._flood_warned_at = float("-inf")

    # -- DtlsServerEngine ----------------------------------------------------------------------

    def receive(self, peer: Peer, datagram: bytes) -> None:
        now = self._clock()
        answered_hello = False
        for record in parse_records(datagram, MAX_RECORDS_PER_DATAGRAM):
            if record.epoch == 0 and record.content_type == CT_HANDSHAKE and record.body[:1] == bytes([m.CLIENT_HELLO]):
                if record.version in EPOCH0_VERSIONS and not answered_hello:
                    answered_hello = self._client_hello(peer, record, now)
                continue
            self._record(peer, record, now)

    def send(self, peer: Peer, plaintext: bytes, identity: bytes | None = None) -> bool:
        session = self._table.get(peer)
        if session is None or (identity is not None and session.connection.identity != identity):
            return False
        self._hooks.send_datagram(peer, session.connection.write.seal(CT_APPLICATION_DATA, plaintext))
        return True

    def poll(self) -> None:
        now = self._clock()
        for peer, hs in self._handshakes.items():
            if now >= hs.next_deadline():
                try:
                    self._send_all(peer, hs.poll(now))
                except HandshakeFailed as exc:
                    self._fail(peer, hs, exc)
        for session in self._table.purge_idle(now):
            self._closed(session, f"idle for {self._table.idle_timeout:g} s")
        self._warn_flood(now)

    def next_deadline(self) -> float | None:
        deadlines = [d for d in (self._handshakes.next_deadline(), self._table.next_idle_deadline()) if d is not None]
        if self._flood_dropped:
            deadlines.append(self._flood_warned_at + FLOOD_WARNING_INTERVAL)
        return min(deadlines) if deadlines else None

    def identity(self, peer: Peer) -> bytes | None:
        session = self._table.get(peer)
        return session.connection.identity if session else None

    def peers(self) -> list[Peer]:
        return [s.peer for s in self._table]

    def keep(self, peer: Peer, identity: bytes, seconds: float | None) -> bool:
        until = float("-inf") if seconds is None else self._clock() + seconds
        return self._table.keep(peer, identity, until)

    def close(self, peer: Peer) -> None:
        self._handshakes.remove(peer)
        session = self._table.remove(peer)
        if session is not None:
            alert = m.alert(m.LEVEL_WARNING, m.ALERT_CLOSE_NOTIFY)
            self._hooks.send_datagram(peer, session.connection.write.seal(CT_ALERT, alert))
            self._closed(session, "closed by the server")

    def close_all(self) -> None:
        for peer, _hs in self._handshakes.items():
            self._handshakes.remove(peer)
        for session in self._table:
            self.close(session.peer)

    @property
    def table(self) -> SessionTable:
        return self._table

    @property
    def handshakes(self) -> HandshakeTable:
        return self._handshakes

    # -- routing -------------------------------------------------------------------------------

    def _record(self, peer: Peer, record: Record, now: float) -> None:
        if record.version not in (EPOCH0_VERSIONS if record.epoch == 0 else LATER_EPOCH_VERSIONS):
            return
        session, hs = self._table.get(peer), self._handshakes.get(peer)
        if session is not None and record.epoch == 1 and self._to_session(session, record, now, hs is not None):
            return
        if hs is not None:
            self._to_handshake(peer, hs, record, now)

    def _client_hello(self, peer: Peer, record: Record, now: float) -> bool:
        """Handle one ClientHello record; True if it was answered statelessly (a HelloVerifyRequest)."""
        try:
            frag = m.parse_fragments(record.body)[0]
            if not frag.is_whole or frag.length > MAX_CLIENT_HELLO:
                return False  # a fragmented first ClientHello cannot be answered statelessly; PSK hellos are small
            hello = m.ClientHello.parse(frag.body)
        except m.DecodeError:
            return False
        pending = self._handshakes.get(peer)
        if pending is not None and pending.hello.random == hello.random:
            self._send_all(peer, pending.repeat_hello(now))
            return False
        session = self._table.get(peer)
        if session is not None and session.connection.client_random == hello.random:
            return False  # a late copy of the hello that made the current session
        if not self._cookies.check(peer, hello):
            body = m.hello_verify_request(self._cookies.make(peer, hello))
            hvr = m.whole_message(m.HELLO_VERIFY_REQUEST, frag.message_seq, body)
            self._hooks.send_datagram(peer, encode_record(CT_HANDSHAKE, DTLS_1_0, 0, record.seq, hvr))
            return True
        try:
            hs = ServerHandshake(hello, frag.body, frag.message_seq, record.seq, self._config, self._lookup, now)
        except HandshakeFailed as exc:
            # the hello's own record number: above the one our HelloVerifyRequest echoed, so not a replay to the client
            self._send_alert(peer, exc.alert, record.seq)
            self._emit(DtlsEvent("handshake-failed", peer, None, exc.reason))
            return False
        superseded, evicted = self._handshakes.add(peer, hs)
        if superseded is not None:
            self._emit(DtlsEvent("handshake-failed", peer, superseded.identity, "superseded by a new ClientHello"))
        if evicted:
            self._flood_dropped += len(evicted)
            self._flood_peer = peer
            self._warn_flood(now)
        self._send_all(peer, hs.flight_datagrams())
        return False

    def _to_session(self, session: Session, record: Record, now: float, handshaking: bool) -> bool:
        """Handle an epoch-1 record on the established session; False if it is not that session's."""
        conn = session.connection
        if conn.read.window.is_replay(record.seq) and handshaking:
            return False  # the new handshake's Finished starts again at sequence 0
        try:
            plaintext = conn.read.open(record)
        except BadRecordMac:
            return not handshaking  # maybe the new handshake's; else forged or stale, dropped
        if plaintext is None:
            return True
        self._table.touch(session, now)
        if record.content_type == CT_APPLICATION_DATA:
            self._hooks.deliver(session.peer, conn.identity, plaintext)
        elif record.content_type == CT_ALERT and len(plaintext) >= 2:
            if plaintext[1] == m.ALERT_CLOSE_NOTIFY or plaintext[0] == m.LEVEL_FATAL:
                self._table.remove(session.peer)
                self._emit(DtlsEvent("closed", session.peer, conn.identity, f"client sent alert {plaintext[1]}"))
        elif record.content_type == CT_HANDSHAKE:
            try:
                frags = m.parse_fragments(plaintext)
            except m.DecodeError:
                return True
            if any(f.msg_type == m.FINISHED and f.message_seq == conn.client_finished_seq for f in frags):
                self._send_all(session.peer, conn.seal_flight())  # our final flight was lost
            elif any(f.msg_type == m.CLIENT_HELLO for f in frags):
                self._hooks.send_datagram(session.peer, conn.write.seal(CT_ALERT, m.alert(m.LEVEL_WARNING, ALERT_NO_RENEGOTIATION)))
        return True

    def _to_handshake(self, peer: Peer, hs: ServerHandshake, record: Record, now: float) -> None:
        try:
            out = hs.handle(record, now)
        except HandshakeFailed as exc:
            self._fail(peer, hs, exc)
            return
        if hs.result is None:
            self._send_all(peer, out)
            return
        self._handshakes.remove(peer)
        replaced = peer in self._table
        try:
            _session, evicted = self._table.admit(peer, hs.result, now)
        except SessionTableFull as exc:  # before our Finished goes out: the client must not think it is in
            self._hooks.send_datagram(peer, hs.alert_datagram(ALERT_INTERNAL_ERROR))
            self._emit(DtlsEvent("handshake-failed", peer, hs.result.identity, str(exc)))
            return
        self._send_all(peer, out)
        for old in evicted:
            self._closed(old, f"evicted: session table full ({self._table.max_sessions} sessions)")
        self._emit(DtlsEvent("handshake-ok", peer, hs.result.identity, suite=hs.suite.name, replaced=replaced))

    # -- helpers -------------------------------------------------------------------------------

    def _fail(self, peer: Peer, hs: ServerHandshake, exc: HandshakeFailed) -> None:
        if self._handshakes.get(peer) is hs:
            self._handshakes.remove(peer)
        if exc.alert is not None:
            self._hooks.send_datagram(peer, hs.alert_datagram(exc.alert))
        self._emit(DtlsEvent("handshake-failed", peer, exc.identity, exc.reason))

    def _send_alert(self, peer: Peer, description: int | None, seq: int) -> None:
        """A plaintext fatal alert with record number `seq`, for a hello refused before any handshake state exists."""
        if description is not None:
            self._hooks.send_datagram(peer, WriteState(next_seq=seq).seal(CT_ALERT, m.alert(m.LEVEL_FATAL, description)))

    def _warn_flood(self, now: float) -> None:
        if not self._flood_dropped or now < self._flood_warned_at + FLOOD_WARNING_INTERVAL:
            return
        since = "" if self._flood_warned_at == float("-inf") else f" in the last {now - self._flood_warned_at:.0f} s"
        reason = (f"{self._flood_dropped} half-open handshakes pushed out{since}: the table holds "
                  f"{self._handshakes.max_handshakes} (a flood of cookie-verified ClientHellos?); "
                  f"established sessions are not affected")
        self._flood_dropped, self._flood_warned_at = 0, now
        self._emit(DtlsEvent("handshake-flood", self._flood_peer, None, reason))

    def _closed(self, session: Session, reason: str) -> None:
        self._emit(DtlsEvent("closed", session.peer, session.connection.identity, reason))

    def _send_all(self, peer: Peer, datagrams: list[bytes]) -> None:
        for datagram in datagrams:
            self._hooks.send_datagram(peer, datagram)

    def _emit(self, event: DtlsEvent) -> None:
        self._report(event)
        self._hooks.event(event)
