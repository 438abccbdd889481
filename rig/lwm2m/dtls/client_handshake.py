"""Client side of one DTLS 1.2 PSK handshake: ClientHello to the server's Finished.

The mirror of `handshake.ServerHandshake`, built on the same records, suites and
message formats, so the virtual board's coaps and the rig's coaps share the
wire code but not the flow. Flights (RFC 6347 4.2.4):

  ClientHello (no cookie)         -> HelloVerifyRequest (or straight to ServerHello)
  ClientHello (cookie)            -> ServerHello [ServerKeyExchange] ServerHelloDone
  ClientKeyExchange, CCS, Finished -> CCS, Finished

Each flight is retransmitted on a doubling timer (initial 1 s, capped) with
fresh record numbers, and again when the server repeats its previous flight
(its sign that ours was lost). Like the server side it never reads a clock or a
socket: the caller passes `now` and sends what is returned, so it is tested with
byte strings and a fake clock. A failure raises `HandshakeFailed` whose reason
names the likely cause (wrong key, unknown identity, no answer).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from rig.lwm2m.dtls import messages as m
from rig.lwm2m.dtls.handshake import FlightItem, HandshakeFailed, seal_flight
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
    SUITES,
    BadRecordMac,
    Suite,
    TLS_PSK_WITH_AES_128_CBC_SHA256,
    TLS_PSK_WITH_AES_128_CCM,
    TLS_PSK_WITH_AES_128_CCM_8,
    TLS_PSK_WITH_AES_128_GCM_SHA256,
    finished_verify_data,
    master_secret,
    psk_premaster,
)

# The LwM2M-mandated suite first (RFC 7925 / LwM2M 1.1 TS 7.1), then the other suites the rig speaks.
CLIENT_SUITES: tuple[int, ...] = (
    TLS_PSK_WITH_AES_128_CCM_8,
    TLS_PSK_WITH_AES_128_CCM,
    TLS_PSK_WITH_AES_128_GCM_SHA256,
    TLS_PSK_WITH_AES_128_CBC_SHA256,
)

ALERT_NAMES = {
    m.ALERT_CLOSE_NOTIFY: "close_notify",
    m.ALERT_UNEXPECTED_MESSAGE: "unexpected_message",
    m.ALERT_BAD_RECORD_MAC: "bad_record_mac",
    m.ALERT_HANDSHAKE_FAILURE: "handshake_failure",
    m.ALERT_DECODE_ERROR: "decode_error",
    m.ALERT_DECRYPT_ERROR: "decrypt_error",
    m.ALERT_PROTOCOL_VERSION: "protocol_version",
    m.ALERT_UNKNOWN_PSK_IDENTITY: "unknown_psk_identity",
}
_ALERT_HINTS = {
    m.ALERT_BAD_RECORD_MAC: "the server could not authenticate our Finished: wrong PSK for this identity?",
    m.ALERT_DECRYPT_ERROR: "our Finished did not verify: wrong PSK for this identity?",
    m.ALERT_UNKNOWN_PSK_IDENTITY: "the server does not know this PSK identity",
    m.ALERT_HANDSHAKE_FAILURE: "no cipher suite in common",
}


def alert_text(description: int) -> str:
    name = ALERT_NAMES.get(description, str(description))
    hint = _ALERT_HINTS.get(description)
    return f"{name} ({hint})" if hint else name


@dataclass(frozen=True)
class ClientConfig:
    retransmit_initial: float = 1.0  # RFC 6347 4.2.4.1
    retransmit_max: float = 60.0
    handshake_timeout: float = 20.0  # give up (and say why) when the server has not finished by then
    suites: tuple[int, ...] = CLIENT_SUITES
    extended_master_secret: bool = True
    max_fragment: int = 1024


@dataclass
class ClientSession:
    """What a completed handshake hands to the engine: the epoch-1 keys of both directions."""

    suite: Suite
    identity: bytes
    read: ReadState  # server -> client
    write: WriteState  # client -> server


class ClientHandshake:
    """One client handshake with one server."""

    def __init__(self, identity: bytes, psk: bytes, config: ClientConfig, now: float) -> None:
        self.identity = identity
        self._psk = psk
        self._config = config
        self._random = os.urandom(32)
        self._write0 = WriteState(epoch=0)
        self._write1: WriteState | None = None
        self._read1: ReadState | None = None
        self._extensions = {m.EXT_EXTENDED_MASTER_SECRET: b""} if config.extended_master_secret else {}
        self._state = "wait_hello"  # -> wait_server_hello (after a cookie) -> wait_finished -> done
        self._reasm: m.Reassembler | None = None
        self._transcript: list[bytes] = []
        self._out_seq = 0
        self._flight: list[FlightItem] = []
        self._suite: Suite | None = None
        self._server_hello: m.ServerHello | None = None
        self._master = b""
        self.result: ClientSession | None = None
        self.retransmissions = 0
        self._rto = config.retransmit_initial
        self._retransmit_at = now + self._rto
        self.deadline = now + config.handshake_timeout
        self._hello_body = self._client_hello(b"")
        self._set_flight([(m.CLIENT_HELLO, self._hello_body)])

    # -- outputs -----------------------------------------------------------------------------

    def _client_hello(self, cookie: bytes) -> bytes:
        return m.ClientHello(DTLS_1_2, self._random, b"", cookie, list(self._config.suites), b"\x00",
                             dict(self._extensions)).encode()

    def _set_flight(self, messages: list[tuple[int, bytes]], tail: list[FlightItem] = ()) -> None:
        """Number the messages, note them for the transcript, and make them the flight to (re)send."""
        self._flight = []
        for msg_type, body in messages:
            for frag in m.fragment_message(msg_type, self._out_seq, body, self._config.max_fragment):
                self._flight.append((CT_HANDSHAKE, 0, frag))
            self._out_seq += 1
        self._flight += list(tail)

    def flight_datagrams(self) -> list[bytes]:
        """The current flight, sealed anew (first send and every retransmission)."""
        states = {0: self._write0}
        if self._write1 is not None:
            states[1] = self._write1
        return seal_flight(self._flight, states)

    def next_deadline(self) -> float:
        return min(self.deadline, self._retransmit_at)

    def poll(self, now: float) -> list[bytes]:
        """Retransmit on the timer (doubling up to the cap); raise HandshakeFailed past the handshake deadline."""
        if now >= self.deadline:
            waiting = {"wait_hello": "HelloVerifyRequest or ServerHello", "wait_server_hello": "ServerHello",
                       "wait_finished": "server Finished"}.get(self._state, self._state)
            hint = " (a server that drops records it cannot authenticate does this on a wrong PSK)" \
                if self._state == "wait_finished" else " (server down or not speaking DTLS on this port?)"
            raise HandshakeFailed(f"timeout: no {waiting} within {self._config.handshake_timeout:g} s "
                                  f"after {self.retransmissions} retransmissions{hint}", None, self.identity)
        if now >= self._retransmit_at:
            return self._retransmit(now, backoff=True)
        return []

    def _retransmit(self, now: float, backoff: bool, count: bool = True) -> list[bytes]:
        """(Re)send the current flight and re-arm the timer; `count=False` for a flight's first send."""
        if backoff:
            self._rto = min(self._rto * 2, self._config.retransmit_max)
        self._retransmit_at = now + self._rto
        self.retransmissions += count
        return self.flight_datagrams()

    # -- inputs ------------------------------------------------------------------------------

    def handle(self, record: Record, now: float) -> list[bytes]:
        if record.epoch == 0:
            if record.content_type == CT_ALERT:
                self._alert(record.body)
                return []
            if record.content_type == CT_HANDSHAKE:
                return self._handshake(record.body, now)
            return []  # the server's ChangeCipherSpec: epoch 1 records are opened with the pending keys anyway
        if record.epoch == 1 and self._read1 is not None:
            try:
                plaintext = self._read1.open(record)
            except BadRecordMac:
                raise HandshakeFailed(f"wrong key: the server's Finished does not authenticate under the PSK of "
                                      f"identity {self.identity!r} (the server holds a different key)",
                                      m.ALERT_BAD_RECORD_MAC, self.identity) from None
            if plaintext is None:
                return []
            if record.content_type == CT_ALERT:
                self._alert(plaintext)
                return []
            if record.content_type == CT_HANDSHAKE:
                return self._handshake(plaintext, now, epoch=1)
        return []

    def _alert(self, body: bytes) -> None:
        if len(body) >= 2 and body[0] == m.LEVEL_FATAL:
            raise HandshakeFailed(f"server refused the handshake: fatal alert {alert_text(body[1])}", None, self.identity)

    def _handshake(self, data: bytes, now: float, epoch: int = 0) -> list[bytes]:
        try:
            frags = m.parse_fragments(data)
        except m.DecodeError as exc:
            raise HandshakeFailed(f"malformed handshake message from the server: {exc}", m.ALERT_DECODE_ERROR,
                                  self.identity) from None
        out: list[bytes] = []
        for frag in frags:
            out += self._fragment(frag, now, epoch)
        return out

    def _fragment(self, frag: m.Fragment, now: float, epoch: int) -> list[bytes]:
        if frag.msg_type == m.HELLO_VERIFY_REQUEST and epoch == 0:
            if self._state != "wait_hello":
                return []  # a late copy
            try:
                cookie = m.parse_cookie(frag.body)
            except m.DecodeError as exc:
                raise HandshakeFailed(f"malformed HelloVerifyRequest: {exc}", m.ALERT_DECODE_ERROR) from None
            self._hello_body = self._client_hello(cookie)
            self._set_flight([(m.CLIENT_HELLO, self._hello_body)])  # RFC 6347 4.2.1: message_seq 1
            self._state = "wait_server_hello"
            return self._retransmit(now, backoff=False, count=False)
        if self._state in ("wait_hello", "wait_server_hello") and frag.msg_type == m.SERVER_HELLO and epoch == 0 \
                and self._reasm is None:
            self._reasm = m.Reassembler(frag.message_seq)
            self._transcript = [m.whole_message(m.CLIENT_HELLO, self._out_seq - 1, self._hello_body)]
        if self._state == "wait_finished" and epoch == 0 and frag.msg_type == m.SERVER_HELLO_DONE:
            return self._retransmit(now, backoff=False)  # the server repeats its flight: ours was lost
        if self._reasm is None:
            return []
        try:
            self._reasm.add(frag)
        except m.DecodeError as exc:
            raise HandshakeFailed(f"malformed handshake message from the server: {exc}", m.ALERT_DECODE_ERROR,
                                  self.identity) from None
        out: list[bytes] = []
        while (ready := self._reasm.pop_ready()) is not None:
            out += self._process(*ready, epoch=epoch, now=now)
        return out

    def _process(self, msg_type: int, seq: int, body: bytes, epoch: int, now: float) -> list[bytes]:
        whole = m.whole_message(msg_type, seq, body)
        if self._state in ("wait_hello", "wait_server_hello") and epoch == 0:
            if msg_type == m.SERVER_HELLO:
                try:
                    hello = m.ServerHello.parse(body)
                except m.DecodeError as exc:
                    raise HandshakeFailed(f"malformed ServerHello: {exc}", m.ALERT_DECODE_ERROR) from None
                if hello.version != DTLS_1_2:
                    raise HandshakeFailed(f"server chose DTLS version {hello.version:#06x}, not 1.2",
                                          m.ALERT_PROTOCOL_VERSION)
                if hello.suite not in self._config.suites:
                    raise HandshakeFailed(f"server chose cipher suite {hello.suite:#06x}, which we did not offer",
                                          m.ALERT_HANDSHAKE_FAILURE)
                self._suite = SUITES[hello.suite]
                self._server_hello = hello
            elif msg_type == m.SERVER_KEY_EXCHANGE:
                pass  # a PSK identity hint; our identity is configured, the hint changes nothing
            elif msg_type == m.SERVER_HELLO_DONE:
                self._transcript.append(whole)
                return self._key_exchange(now)
            else:
                raise HandshakeFailed(f"unexpected handshake message type {msg_type} from the server",
                                      m.ALERT_UNEXPECTED_MESSAGE, self.identity)
            self._transcript.append(whole)
            return []
        if self._state == "wait_finished" and epoch == 1 and msg_type == m.FINISHED:
            want = finished_verify_data(self._master, False, hashlib.sha256(b"".join(self._transcript)).digest())
            if not hmac.compare_digest(body, want):
                raise HandshakeFailed("bad server Finished: client and server derived different keys (wrong PSK?)",
                                      m.ALERT_DECRYPT_ERROR, self.identity)
            assert self._suite is not None and self._read1 is not None and self._write1 is not None
            self.result = ClientSession(self._suite, self.identity, self._read1, self._write1)
            self._state = "done"
            return []
        return []

    def _key_exchange(self, now: float) -> list[bytes]:
        hello, suite = self._server_hello, self._suite
        if suite is None or hello is None:
            raise HandshakeFailed("ServerHelloDone without a ServerHello", m.ALERT_UNEXPECTED_MESSAGE)
        cke_body = m.psk_identity_vector(self.identity)
        cke = m.whole_message(m.CLIENT_KEY_EXCHANGE, self._out_seq, cke_body)
        self._transcript.append(cke)
        ems = m.EXT_EXTENDED_MASTER_SECRET in hello.extensions and self._config.extended_master_secret
        session_hash = hashlib.sha256(b"".join(self._transcript)).digest() if ems else None
        self._master = master_secret(psk_premaster(self._psk), self._random, hello.random, session_hash)
        client_prot, server_prot = suite.key_block(self._master, self._random, hello.random)
        self._write1 = WriteState(epoch=1, protection=client_prot)
        self._read1 = ReadState(epoch=1, protection=server_prot)
        verify = finished_verify_data(self._master, True, hashlib.sha256(b"".join(self._transcript)).digest())
        fin = m.whole_message(m.FINISHED, self._out_seq + 1, verify)
        self._transcript.append(fin)
        self._set_flight([(m.CLIENT_KEY_EXCHANGE, cke_body)],
                         [(CT_CHANGE_CIPHER_SPEC, 0, b"\x01"), (CT_HANDSHAKE, 1, fin)])
        self._out_seq += 1  # the Finished
        self._state = "wait_finished"
        self._rto = self._config.retransmit_initial
        return self._retransmit(now, backoff=False, count=False)
