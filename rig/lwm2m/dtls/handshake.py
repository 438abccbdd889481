"""Server side of one DTLS 1.2 PSK handshake, from a cookie-verified ClientHello to Finished.

Flights (RFC 6347 4.2.4): the ClientHello without cookie is answered statelessly
by the engine (`cookies.CookieJar`); this class starts at the ClientHello with a
valid cookie, sends ServerHello[, ServerKeyExchange], ServerHelloDone, retransmits
that flight on a doubling timer or when the client repeats its ClientHello,
and ends with ChangeCipherSpec + Finished. It never reads a clock or a socket:
the caller passes `now` and sends the datagrams returned, so it is tested with
bytes and a fake clock. Failures raise `HandshakeFailed` carrying the reason
the operator needs (unknown identity, wrong key, no common suite, timeout).

Nothing before the client's Finished is authenticated, and anyone who knows the
peer's address can put records in its name. So (RFC 6347 4.1.2.7) a malformed or
unexpected record is dropped and counted, never fatal; what would fail the
handshake if it were genuine (a Finished that does not authenticate: the wrong
key; an unknown identity; a plaintext fatal alert) only marks it failing: it
fails `failure_grace` seconds later unless an authentic Finished comes first.
The client's ClientKeyExchange is not authenticated either: a whole one at its
place in the sequence replaces the one before, so a spoofed one cannot shut out
the client's own (which comes again with its retransmitted final flight).
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
from rig.lwm2m.limits import HANDSHAKE_FAILURE_GRACE, HANDSHAKE_TIMEOUT, MAX_LISTED_SUITES, MAX_PSK_IDENTITY
from rig.lwm2m.log_bounds import bytes_repr

MAX_DATAGRAM = 1400


@dataclass(frozen=True)
class HandshakeConfig:
    retransmit_initial: float = 1.0  # RFC 6347 4.2.4.1
    retransmit_max: float = 60.0
    handshake_timeout: float = HANDSHAKE_TIMEOUT  # a handshake not finished by then is dropped and logged
    failure_grace: float = HANDSHAKE_FAILURE_GRACE  # how long a failing handshake waits for an authentic flight
    identity_hint: bytes | None = None  # sent in ServerKeyExchange when set
    suites: tuple[int, ...] = DEFAULT_PREFERENCE
    max_fragment: int = 1024


class HandshakeFailed(Exception):
    def __init__(self, reason: str, alert: int | None = None, identity: bytes | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.alert = alert
        self.identity = identity


FlightItem = tuple[int, int, bytes]  # content type, epoch, plaintext
MAX_KEY_CANDIDATES = 4  # ClientKeyExchanges whose keys a handshake tries a Finished under


@dataclass
class _KeyCandidate:
    """The keys one ClientKeyExchange leads to; which one is the client's shows when its Finished authenticates."""

    identity: bytes
    cke: bytes  # the whole message, as it goes into the transcript
    master: bytes
    read: ReadState
    write: WriteState


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


def suites_text(offered: list[int]) -> str:
    """The first few offered suites, and how many in all (a ClientHello may offer thousands)."""
    shown = ",".join(f"{s:#06x}" for s in offered[:MAX_LISTED_SUITES])
    return shown + (f",... ({len(offered)} in all)" if len(offered) > MAX_LISTED_SUITES else "")


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
            raise HandshakeFailed(f"no common cipher suite (client offered {suites_text(hello.cipher_suites)})",
                                  m.ALERT_HANDSHAKE_FAILURE)
        self.hello = hello
        self.suite = suite
        self._config = config
        self._psk_lookup = psk_lookup
        self._ems = m.EXT_EXTENDED_MASTER_SECRET in hello.extensions
        self._server_random = os.urandom(32)
        self._write0 = WriteState(epoch=0, next_seq=record_seq)  # mirror the ClientHello's record sequence, as mbedtls does
        self._cke_seq = hello_seq + 1
        self._reasm = m.Reassembler(self._cke_seq)
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
        # keys per ClientKeyExchange seen (whole message -> keys), most recent last: a spoofed one in between
        # must not stop the client's own Finished from being tried under the client's own keys
        self._candidates: dict[bytes, _KeyCandidate] = {}
        self.identity: bytes | None = None
        self.result: Established | None = None
        self.discarded = 0  # records dropped as malformed, unexpected or unauthentic
        self._failing: HandshakeFailed | None = None
        self._fail_at: float | None = None
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

    def alert_datagram(self, description: int) -> bytes:
        """A fatal alert the client will read: epoch 0 (it has not seen our ChangeCipherSpec), with the next
        sequence number after our flight; a record number it already saw would be dropped as a replay."""
        return self._write0.seal(CT_ALERT, m.alert(m.LEVEL_FATAL, description))

    def next_deadline(self) -> float:
        times = [t for t in (self.deadline, self._retransmit_at, self._fail_at) if t is not None]
        return min(times)

    def poll(self, now: float) -> list[bytes]:
        """Retransmit on the timer (doubling up to the cap); raise HandshakeFailed once a failing handshake's
        grace is over, or past the handshake deadline."""
        if self._fail_at is not None and now >= self._fail_at and self._failing is not None:
            raise self._failing
        if now >= self.deadline:
            waited = "ClientKeyExchange" if self._state == "wait_cke" else "Finished"
            dropped = f" ({self.discarded} records dropped as malformed, unexpected or forged)" if self.discarded else ""
            raise HandshakeFailed(f"timeout: no {waited} within {self._config.handshake_timeout:g} s{dropped}",
                                  None, self.identity)
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

    def _suspect(self, failure: HandshakeFailed, now: float) -> list[bytes]:
        """What would fail the handshake if it were genuine: fail after the grace unless a Finished authenticates."""
        self._failing = failure
        if self._fail_at is None:
            self._fail_at = now + self._config.failure_grace
        return []

    def _discard(self) -> list[bytes]:
        self.discarded += 1
        return []

    def handle(self, record: Record, now: float) -> list[bytes]:
        if self._state == "done":
            return []
        if record.epoch == 0:
            if record.content_type == CT_CHANGE_CIPHER_SPEC:
                return []  # epoch 1 records are opened with the pending keys anyway; CCS carries nothing else
            if record.content_type == CT_ALERT:
                if len(record.body) >= 2 and record.body[0] == m.LEVEL_FATAL:
                    return self._suspect(HandshakeFailed(f"client sent fatal alert {record.body[1]}", None, self.identity), now)
                return []
            if record.content_type == CT_HANDSHAKE:
                return self._handshake_plain(record.body, now)
            return self._discard()
        if record.epoch != 1 or not self._candidates:
            return self._discard()
        opened = self._open(record)
        if opened is None:
            return self._suspect(HandshakeFailed(
                f"wrong key: the client's Finished does not authenticate under this identity's PSK "
                f"(and no Finished that does within {self._config.failure_grace:g} s)",
                m.ALERT_BAD_RECORD_MAC, self.identity), now)
        candidate, plaintext = opened
        if plaintext is None:
            return []
        self.identity = candidate.identity
        # authenticated from here: whatever it says is the client's own
        if record.content_type == CT_ALERT:
            if len(plaintext) >= 2 and plaintext[0] == m.LEVEL_FATAL:
                raise HandshakeFailed(f"client sent fatal alert {plaintext[1]}", None, self.identity)
            return []
        if record.content_type != CT_HANDSHAKE:
            return self._discard()
        try:
            frags = m.parse_fragments(plaintext)
        except m.DecodeError as exc:
            raise HandshakeFailed(f"malformed Finished: {exc}", m.ALERT_DECODE_ERROR, self.identity) from None
        for frag in frags:
            if frag.msg_type == m.FINISHED and frag.message_seq == self._cke_seq + 1 and frag.is_whole:
                return self._finished(candidate, frag.body)
        return self._discard()

    def _open(self, record: Record) -> tuple[_KeyCandidate, bytes | None] | None:
        """The record opened under the most recent candidate keys it authenticates under; None if under none."""
        for candidate in reversed(list(self._candidates.values())):
            try:
                return candidate, candidate.read.open(record)
            except BadRecordMac:
                continue
        return None

    def _handshake_plain(self, data: bytes, now: float) -> list[bytes]:
        try:
            frags = m.parse_fragments(data)
        except m.DecodeError:
            return self._discard()
        for frag in frags:
            if frag.msg_type == m.CLIENT_KEY_EXCHANGE and frag.message_seq == self._cke_seq and frag.is_whole:
                self._key_exchange(frag.body, now)  # whole: not through the reassembler, so a later one can replace it
            elif not self._reasm.add(frag):
                self.discarded += 1
        while (ready := self._reasm.pop_ready()) is not None:
            msg_type, seq, body = ready
            if msg_type == m.CLIENT_KEY_EXCHANGE and seq == self._cke_seq:
                self._key_exchange(body, now)
            else:
                self.discarded += 1
        return []

    def _key_exchange(self, body: bytes, now: float) -> None:
        whole = m.whole_message(m.CLIENT_KEY_EXCHANGE, self._cke_seq, body)
        if whole in self._candidates:  # the client's retransmission: its keys become the current ones
            self._candidates[whole] = self._candidates.pop(whole)
            self.identity = self._candidates[whole].identity
            return
        try:
            identity = m.parse_psk_identity(body)
        except m.DecodeError:
            self.discarded += 1
            return
        psk = self._psk_lookup(identity) if len(identity) <= MAX_PSK_IDENTITY else None
        if psk is None:
            self._suspect(HandshakeFailed(f"unknown PSK identity {bytes_repr(identity)}",
                                          m.ALERT_UNKNOWN_PSK_IDENTITY, identity), now)
            return
        transcript = self._transcript + [whole]
        session_hash = hashlib.sha256(b"".join(transcript)).digest() if self._ems else None
        master = master_secret(psk_premaster(psk), self.hello.random, self._server_random, session_hash)
        client_prot, server_prot = self.suite.key_block(master, self.hello.random, self._server_random)
        while len(self._candidates) >= MAX_KEY_CANDIDATES:
            del self._candidates[next(iter(self._candidates))]
        self._candidates[whole] = _KeyCandidate(identity, whole, master, ReadState(epoch=1, protection=client_prot),
                                                WriteState(epoch=1, protection=server_prot))
        self.identity = identity
        self._state = "wait_finished"
        self._retransmit_at = None  # the client has moved on; from here only its retransmissions drive ours

    def _finished(self, candidate: _KeyCandidate, body: bytes) -> list[bytes]:
        transcript = self._transcript + [candidate.cke]
        want = finished_verify_data(candidate.master, True, hashlib.sha256(b"".join(transcript)).digest())
        if not hmac.compare_digest(body, want):  # it authenticated, so it is the client's: a real mismatch
            raise HandshakeFailed("bad Finished: client and server derived different keys (wrong PSK?)",
                                  m.ALERT_DECRYPT_ERROR, candidate.identity)
        transcript.append(m.whole_message(m.FINISHED, self._cke_seq + 1, body))
        verify = finished_verify_data(candidate.master, False, hashlib.sha256(b"".join(transcript)).digest())
        self.result = Established(
            suite=self.suite,
            identity=candidate.identity,
            read=candidate.read,
            write=candidate.write,
            write0=self._write0,
            final_flight=[(CT_CHANGE_CIPHER_SPEC, 0, b"\x01"),
                          (CT_HANDSHAKE, 1, m.whole_message(m.FINISHED, self._next_out_seq, verify))],
            client_finished_seq=self._cke_seq + 1,
            client_random=self.hello.random,
        )
        self._state = "done"
        self._failing = self._fail_at = None
        return self.result.seal_flight()
