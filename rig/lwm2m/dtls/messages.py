"""Handshake wire formats: the 12-byte DTLS handshake header, fragments and their
reassembly, ClientHello parsing and the server's messages.

Separate from the state machine so the test client builds and reads the same
bytes without dragging the server's flow along.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from rig.lwm2m.limits import MAX_BUFFERED_MESSAGES, MAX_HANDSHAKE_MESSAGE

HELLO_REQUEST = 0
CLIENT_HELLO = 1
SERVER_HELLO = 2
HELLO_VERIFY_REQUEST = 3
SERVER_KEY_EXCHANGE = 12
SERVER_HELLO_DONE = 14
CLIENT_KEY_EXCHANGE = 16
FINISHED = 20

EXT_EXTENDED_MASTER_SECRET = 0x0017
EXT_RENEGOTIATION_INFO = 0xFF01
SCSV_EMPTY_RENEGOTIATION_INFO = 0x00FF

ALERT_CLOSE_NOTIFY = 0
ALERT_UNEXPECTED_MESSAGE = 10
ALERT_BAD_RECORD_MAC = 20
ALERT_HANDSHAKE_FAILURE = 40
ALERT_DECODE_ERROR = 50
ALERT_DECRYPT_ERROR = 51
ALERT_PROTOCOL_VERSION = 70
ALERT_UNKNOWN_PSK_IDENTITY = 115
LEVEL_WARNING = 1
LEVEL_FATAL = 2

HS_HEADER = struct.Struct("!B3sH3s3s")
HS_HEADER_LEN = HS_HEADER.size  # 12
MAX_HANDSHAKE_LENGTH = 1 << 14


class DecodeError(Exception):
    """A handshake message does not parse; the peer gets decode_error."""


def _u24(value: int) -> bytes:
    return value.to_bytes(3, "big")


@dataclass(frozen=True)
class Fragment:
    msg_type: int
    length: int
    message_seq: int
    offset: int
    body: bytes

    @property
    def is_whole(self) -> bool:
        return self.offset == 0 and len(self.body) == self.length


def parse_fragments(record_body: bytes) -> list[Fragment]:
    """All handshake fragments in one record (several may share a record)."""
    out = []
    pos = 0
    while pos + HS_HEADER_LEN <= len(record_body):
        msg_type, length, seq, offset, frag_len = HS_HEADER.unpack_from(record_body, pos)
        length, offset, frag_len = (int.from_bytes(x, "big") for x in (length, offset, frag_len))
        pos += HS_HEADER_LEN
        if pos + frag_len > len(record_body) or offset + frag_len > length or length > MAX_HANDSHAKE_LENGTH:
            raise DecodeError("handshake fragment overruns its record or message")
        out.append(Fragment(msg_type, length, seq, offset, record_body[pos : pos + frag_len]))
        pos += frag_len
    if pos != len(record_body):
        raise DecodeError("trailing bytes after handshake fragments")
    return out


def whole_message(msg_type: int, message_seq: int, body: bytes) -> bytes:
    """A message as one fragment; this is also the form that goes into the transcript hash (RFC 6347 4.2.6)."""
    return HS_HEADER.pack(msg_type, _u24(len(body)), message_seq, _u24(0), _u24(len(body))) + body


def fragment_message(msg_type: int, message_seq: int, body: bytes, max_fragment: int) -> list[bytes]:
    """Split a message into fragments of at most `max_fragment` body bytes each."""
    if len(body) <= max_fragment:
        return [whole_message(msg_type, message_seq, body)]
    return [
        HS_HEADER.pack(msg_type, _u24(len(body)), message_seq, _u24(off), _u24(len(body[off : off + max_fragment])))
        + body[off : off + max_fragment]
        for off in range(0, len(body), max_fragment)
    ]


@dataclass
class _Partial:
    msg_type: int
    length: int
    data: bytearray
    have: bytearray  # one flag per byte; handshake messages here are tiny


class Reassembler:
    """Collects fragments by message_seq and hands out complete messages in order.

    Bounded for a peer that has not authenticated: at most `window` messages ahead
    and `max_length` bytes each (RFC 6347 4.2.3 lets a receiver buffer as it sees fit).
    Fragments are not authenticated either, so one that disagrees with what is
    buffered for its message (type, length) replaces it instead of failing the
    message: a spoofed fragment must not stop the genuine one from completing.
    """

    def __init__(self, next_seq: int, window: int = MAX_BUFFERED_MESSAGES, max_length: int = MAX_HANDSHAKE_MESSAGE) -> None:
        self.next_seq = next_seq
        self._window = window
        self._max_length = max_length
        self._partial: dict[int, _Partial] = {}

    def add(self, frag: Fragment) -> bool:
        """Buffer `frag`; False when it was dropped (outside the window, or its message is too long)."""
        if not self.next_seq <= frag.message_seq < self.next_seq + self._window or frag.length > self._max_length:
            return False
        part = self._partial.get(frag.message_seq)
        if part is None or part.msg_type != frag.msg_type or part.length != frag.length or frag.is_whole:
            part = self._partial[frag.message_seq] = _Partial(frag.msg_type, frag.length, bytearray(frag.length), bytearray(frag.length))
        part.data[frag.offset : frag.offset + len(frag.body)] = frag.body
        part.have[frag.offset : frag.offset + len(frag.body)] = b"\x01" * len(frag.body)
        return True

    def pop_ready(self) -> tuple[int, int, bytes] | None:
        """(msg_type, message_seq, body) of the next message in order once all its bytes are in."""
        part = self._partial.get(self.next_seq)
        if part is None or (part.length and not all(part.have)):
            return None
        del self._partial[self.next_seq]
        self.next_seq += 1
        return part.msg_type, self.next_seq - 1, bytes(part.data)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise DecodeError("message ends early")
        self.pos += n
        return self.data[self.pos - n : self.pos]

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack("!H", self.take(2))[0]

    def vec8(self) -> bytes:
        return self.take(self.u8())

    def vec16(self) -> bytes:
        return self.take(self.u16())

    def done(self) -> bool:
        return self.pos == len(self.data)


@dataclass(frozen=True)
class ClientHello:
    version: int
    random: bytes
    session_id: bytes
    cookie: bytes
    cipher_suites: list[int]
    compressions: bytes
    extensions: dict[int, bytes] = field(default_factory=dict)

    @classmethod
    def parse(cls, body: bytes) -> "ClientHello":
        r = _Reader(body)
        version = r.u16()
        random = r.take(32)
        session_id = r.vec8()
        cookie = r.vec8()
        suites_raw = r.vec16()
        if len(suites_raw) % 2:
            raise DecodeError("odd cipher_suites length")
        suites = [int.from_bytes(suites_raw[i : i + 2], "big") for i in range(0, len(suites_raw), 2)]
        compressions = r.vec8()
        extensions: dict[int, bytes] = {}
        if not r.done():
            ext = _Reader(r.vec16())
            while not ext.done():
                kind = ext.u16()
                extensions[kind] = ext.vec16()
        return cls(version, random, session_id, cookie, suites, compressions, extensions)

    def encode(self) -> bytes:
        suites = b"".join(struct.pack("!H", s) for s in self.cipher_suites)
        out = struct.pack("!H", self.version) + self.random
        out += bytes([len(self.session_id)]) + self.session_id + bytes([len(self.cookie)]) + self.cookie
        out += struct.pack("!H", len(suites)) + suites + bytes([len(self.compressions)]) + self.compressions
        if self.extensions:
            out += encode_extensions(self.extensions)
        return out


def encode_extensions(extensions: dict[int, bytes]) -> bytes:
    body = b"".join(struct.pack("!HH", k, len(v)) + v for k, v in extensions.items())
    return struct.pack("!H", len(body)) + body


def hello_verify_request(cookie: bytes) -> bytes:
    """Body of HelloVerifyRequest; RFC 6347 4.2.1 says use version 1.0 here whatever is negotiated later."""
    return struct.pack("!H", 0xFEFF) + bytes([len(cookie)]) + cookie


def server_hello(random: bytes, session_id: bytes, suite: int, extensions: dict[int, bytes]) -> bytes:
    out = struct.pack("!H", 0xFEFD) + random + bytes([len(session_id)]) + session_id + struct.pack("!HB", suite, 0)
    return out + (encode_extensions(extensions) if extensions else b"")


@dataclass(frozen=True)
class ServerHello:
    version: int
    random: bytes
    session_id: bytes
    suite: int
    extensions: dict[int, bytes]

    @classmethod
    def parse(cls, body: bytes) -> "ServerHello":
        r = _Reader(body)
        version, random, session_id = r.u16(), r.take(32), r.vec8()
        suite, _compression = r.u16(), r.u8()
        extensions: dict[int, bytes] = {}
        if not r.done():
            ext = _Reader(r.vec16())
            while not ext.done():
                kind = ext.u16()
                extensions[kind] = ext.vec16()
        return cls(version, random, session_id, suite, extensions)


def psk_identity_vector(identity: bytes) -> bytes:
    """Body of ClientKeyExchange (PSK) and ServerKeyExchange (identity hint): a 16-bit-length vector."""
    return struct.pack("!H", len(identity)) + identity


def parse_psk_identity(body: bytes) -> bytes:
    r = _Reader(body)
    identity = r.vec16()
    if not r.done():
        raise DecodeError("trailing bytes after psk_identity")
    return identity


def parse_cookie(hvr_body: bytes) -> bytes:
    r = _Reader(hvr_body)
    r.u16()
    return r.vec8()


def alert(level: int, description: int) -> bytes:
    return bytes([level, description])
