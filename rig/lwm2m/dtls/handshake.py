"""Server side of one DTLS 1.2 PSK handshake, from a cookie-verified ClientHello to Finished.

Flights (RFC 6347 4.2.4): the ClientHello without cookie is answered statelessly
by the engine (`CookieJar`); this class starts at the ClientHello with a valid
cookie, sends ServerHello[, ServerKeyExchange], ServerHelloDone, retransmits
that flight on a doubling timer or when the client repeats its ClientHello,
and ends with ChangeCipherSpec + Finished. It never reads a clock or a socket:
the caller passes `now` and sends the datagrams returned, so it is tested with
bytes and a fake clock. Failures raise `HandshakeFailed` carrying the reason
the operator needs (unknown identity, wrong key, no common suite, timeout).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from typing import Callable

from rig.lwm2m.dtls import messages as m
from rig.lwm2m.dtls.records import (
    CT_ALERT,
    CT_CHANGE_CIPHER_SPEC,
    CT_HANDSHAKE,
    DTLS_1_2,
    ReadState,
    Record,
    WriteState,
)
from rig.lwm2m.dtls.suites import (
    DEFAULT_PREFERENCE,
    BadRecordMac,
    Suite,
    choose_suite,
    finished_verify_data,
    master_secret,
    psk_premaster,
)

MAX_DATAGRAM = 1400


@dataclass(frozen=True)
class HandshakeConfig:
    retransmit_initial: float = 1.0  # RFC 6347 4.2.4.1
    retransmit_max: float = 60.0
    handshake_timeout: float = 30.0  # a handshake not finished by then is dropped and logged
    identity_hint: bytes | None = None  # sent in ServerKeyExchange when set
    suites: tuple[int, ...] = DEFAULT_PREFERENCE
    max_fragment: int = 1024


class HandshakeFailed(Exception):
    def __init__(self, reason: str, alert: int | None = None, identity: bytes | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.alert = alert
        self.identity = identity


class CookieJar:
    """Stateless cookies (RFC 6347 4.2.1): an HMAC over the peer address and the ClientHello fields that must repeat."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or os.urandom(32)

    def make(self, peer: object, hello: m.ClientHello) -> bytes:
        suites = b"".join(s.to_bytes(2, "big") for s in hello.cipher_suites)
        data = repr(peer).encode() + hello.version.to_bytes(2, "big") + hello.random + hello.session_id + suites + hello.compressions
        return hmac.new(self._secret, data, hashlib.sha256).digest()[:32]

    def check(self, peer: object, hello: m.ClientHello) -> bool:
        return bool(hello.cookie) and hmac.compare_digest(hello.cookie, self.make(peer, hello))


FlightItem = tuple[int, int, bytes]  # content type, epoch, plaintext


@dataclass
class Established:
    """What a completed handshake hands to the session table."""

    suite: Suite
    identity: bytes
    read: ReadState  # epoch 1, client -> server
    write: WriteState  # epoch 1, server -> client
    write0: WriteState  # epoch 0, kept to re-send the final flight's ChangeCipherSpec
    final_flight: list[FlightItem] = field(default_factory=list)
    client_finished_seq: int = 0
    client_random: bytes = b""

    def seal_flight(self) -> list[bytes]:
        return seal_flight(self.final_flight, {0: self.write0, 1: self.write})


def seal_flight(flight: list[FlightItem], states: dict[int, WriteState]) -> list[bytes]:
    """Seal each item with fresh sequence numbers (retransmissions must not reuse them) and pack into datagrams."""
    datagrams: list[bytes] = []
    current = b""
    for ctype, epoch, plaintext in flight:
        rec = states[epoch].seal(ctype, plaintext, DTLS_1_2)
        if current and len(current) + len(rec) > MAX_DATAGRAM:
            datagrams.append(current)
            current = b""
        current += rec
    if current:
        datagrams.append(current)
    return datagrams


class ServerHandshake:
    """One handshake in progress with one peer."""

    def __init__(
        self,
        hello: m.ClientHello,
        hello_body: bytes,
        hello_seq: int,
        record_seq: int,
        config: HandshakeConfig,
        psk_lookup: Callable[[bytes], bytes | None],
        now: float,
    ) -> None:
        if hello.version > DTLS_1_2:  # DTLS versions count down: 0xFEFF (1.0) is older than 0xFEFD (1.2)
            raise HandshakeFailed(f"client offers only DTLS version {hello.version:#06x}, not 1.2", m.ALERT_PROTOCOL_VERSION)
        suite = choose_suite(hello.cipher_suites, config.suites)
        if suite is None:
            offered = ",".join(f"{s:#06x}" for s in hello.cipher_suites)
            raise HandshakeFailed(f"no common cipher suite (client offered {offered})", m.ALERT_HANDSHAKE_FAILURE)
        self.hello = hello
        self.suite = suite
        self._config = config
        self._psk_lookup = psk_lookup
        self._ems = m.EXT_EXTENDED_MASTER_SECRET in hello.extensions
        self._server_random = os.urandom(32)
        self._write0 = WriteState(epoch=0, next_seq=record_seq)  # mirror the ClientHello's record sequence, as mbedtls does
        self._reasm = m.Reassembler(hello_seq + 1)
        self._transcript = [m.whole_message(m.CLIENT_HELLO, hello_seq, hello_body)]  # as sent, not re-encoded
        self._flight: list[FlightItem] = []
        seq = hello_seq
        for msg_type, body in self._server_flight_bodies():
            whole = m.whole_message(msg_type, seq, body)
            self._transcript.append(whole)
            for frag in m.fragment_message(msg_type, seq, body, config.max_fragment):
                self._flight.append((CT_HANDSHAKE, 0, frag))
            seq += 1
        self._next_out_seq = seq
        self._state = "wait_cke"
        self._master = b""
        self._read1: ReadState | None = None
        self._write1: WriteState | None = None
        self.identity: bytes | None = None
        self.result: Established | None = None
        self._rto = config.retransmit_initial
        self._retransmit_at: float | None = now + self._rto
        self.deadline = now + config.handshake_timeout

    def _server_flight_bodies(self) -> list[tuple[int, bytes]]:
        extensions: dict[int, bytes] = {}
        if self._ems:
            extensions[m.EXT_EXTENDED_MASTER_SECRET] = b""
        if m.EXT_RENEGOTIATION_INFO in self.hello.extensions or m.SCSV_EMPTY_RENEGOTIATION_INFO in self.hello.cipher_suites:
            extensions[m.EXT_RENEGOTIATION_INFO] = b"\x00"
        bodies = [(m.SERVER_HELLO, m.server_hello(self._server_random, os.urandom(32), self.suite.code, extensions))]
        if self._config.identity_hint is not None:
            bodies.append((m.SERVER_KEY_EXCHANGE, m.psk_identity_vector(self._config.identity_hint)))
        bodies.append((m.SERVER_HELLO_DONE, b""))
        return bodies

    # -- outputs -----------------------------------------------------------------------------

    def flight_datagrams(self) -> list[bytes]:
        """The current server flight, sealed anew (first send and every retransmission)."""
        return seal_flight(self._flight, {0: self._write0})

    def next_deadline(self) -> float:
        return min(self.deadline, self._retransmit_at) if self._retransmit_at is not None else self.deadline

    def poll(self, now: float) -> list[bytes]:
        """Retransmit on the timer (doubling up to the cap); raise HandshakeFailed past the handshake deadline."""
        if now >= self.deadline:
            raise HandshakeFailed(f"timeout: no {'ClientKeyExchange' if self._state == 'wait_cke' else 'Finished'} "
                                  f"within {self._config.handshake_timeout:g} s", None, self.identity)
        if self._retransmit_at is not None and now >= self._retransmit_at:
            self._rto = min(self._rto * 2, self._config.retransmit_max)
            self._retransmit_at = now + self._rto
            return self.flight_datagrams()
        return []

    def repeat_hello(self, now: float) -> list[bytes]:
        """The client repeated its ClientHello: our flight was lost, send it again (RFC 6347 4.2.4)."""
        if self._state != "wait_cke":
            return []
        self._retransmit_at = now + self._rto
        return self.flight_datagrams()

    # -- inputs ------------------------------------------------------------------------------

    def handle(self, record: Record, now: float) -> list[bytes]:
        if record.epoch == 0:
            if record.content_type == CT_CHANGE_CIPHER_SPEC:
                return []  # epoch 1 records are opened with the pending keys anyway; CCS carries nothing else
            return self._handle_plain(record.content_type, record.body, epoch=0)
        if record.epoch == 1 and self._read1 is not None:
            try:
                plaintext = self._read1.open(record)
            except BadRecordMac:
                raise HandshakeFailed("wrong key: the client's Finished does not authenticate under this identity's PSK",
                                      m.ALERT_BAD_RECORD_MAC, self.identity) from None
            if plaintext is None:
                return []
            return self._handle_plain(record.content_type, plaintext, epoch=1)
        return []

    def _handle_plain(self, ctype: int, data: bytes, epoch: int) -> list[bytes]:
        if ctype == CT_ALERT:
            if len(data) >= 2 and data[0] == m.LEVEL_FATAL:
                raise HandshakeFailed(f"client sent fatal alert {data[1]}", None, self.identity)
            return []
        if ctype != CT_HANDSHAKE:
            return []
        try:
            for frag in m.parse_fragments(data):
                self._reasm.add(frag)
        except m.DecodeError as exc:
            raise HandshakeFailed(f"malformed handshake message: {exc}", m.ALERT_DECODE_ERROR, self.identity) from None
        out: list[bytes] = []
        while (ready := self._reasm.pop_ready()) is not None:
            out += self._process(*ready, epoch=epoch)
        return out

    def _process(self, msg_type: int, seq: int, body: bytes, epoch: int) -> list[bytes]:
        whole = m.whole_message(msg_type, seq, body)
        if self._state == "wait_cke" and msg_type == m.CLIENT_KEY_EXCHANGE and epoch == 0:
            try:
                identity = m.parse_psk_identity(body)
            except m.DecodeError as exc:
                raise HandshakeFailed(f"malformed ClientKeyExchange: {exc}", m.ALERT_DECODE_ERROR) from None
            self.identity = identity
            psk = self._psk_lookup(identity)
            if psk is None:
                raise HandshakeFailed(f"unknown PSK identity {identity!r}", m.ALERT_UNKNOWN_PSK_IDENTITY, identity)
            self._transcript.append(whole)
            session_hash = hashlib.sha256(b"".join(self._transcript)).digest() if self._ems else None
            self._master = master_secret(psk_premaster(psk), self.hello.random, self._server_random, session_hash)
            client_prot, server_prot = self.suite.key_block(self._master, self.hello.random, self._server_random)
            self._read1 = ReadState(epoch=1, protection=client_prot)
            self._write1 = WriteState(epoch=1, protection=server_prot)
            self._state = "wait_finished"
            self._retransmit_at = None  # the client has moved on; from here only its retransmissions drive ours
            return []
        if self._state == "wait_finished" and msg_type == m.FINISHED and epoch == 1:
            want = finished_verify_data(self._master, True, hashlib.sha256(b"".join(self._transcript)).digest())
            if not hmac.compare_digest(body, want):
                raise HandshakeFailed("bad Finished: client and server derived different keys (wrong PSK?)",
                                      m.ALERT_DECRYPT_ERROR, self.identity)
            self._transcript.append(whole)
            verify = finished_verify_data(self._master, False, hashlib.sha256(b"".join(self._transcript)).digest())
            assert self._read1 is not None and self._write1 is not None and self.identity is not None
            self.result = Established(
                suite=self.suite,
                identity=self.identity,
                read=self._read1,
                write=self._write1,
                write0=self._write0,
                final_flight=[(CT_CHANGE_CIPHER_SPEC, 0, b"\x01"),
                              (CT_HANDSHAKE, 1, m.whole_message(m.FINISHED, self._next_out_seq, verify))],
                client_finished_seq=seq,
                client_random=self.hello.random,
            )
            self._state = "done"
            return self.result.seal_flight()
        raise HandshakeFailed(f"unexpected handshake message type {msg_type} in state {self._state}",
                              m.ALERT_UNEXPECTED_MESSAGE, self.identity)
