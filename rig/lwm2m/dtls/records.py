"""DTLS record layer (RFC 6347 4.1): framing, epochs, sequence numbers and the replay window.

Kept apart from the handshake so both the server engine and the test client
frame records the same way. Epoch 0 accepts the record versions real clients
put on their first ClientHello (0xFEFD; 0xFEFF from DTLS 1.0-compatible
stacks; 0xFE00 from mbedtls clients such as Anjay) — tinydtls dropping the
last one silently is one reason this engine exists. Everything we send is 1.2.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from rig.lwm2m.dtls.suites import NullProtection, Protection

CT_CHANGE_CIPHER_SPEC = 20
CT_ALERT = 21
CT_HANDSHAKE = 22
CT_APPLICATION_DATA = 23
CONTENT_TYPES = {CT_CHANGE_CIPHER_SPEC, CT_ALERT, CT_HANDSHAKE, CT_APPLICATION_DATA}

DTLS_1_2 = 0xFEFD
DTLS_1_0 = 0xFEFF
EPOCH0_VERSIONS = frozenset({DTLS_1_2, DTLS_1_0, 0xFE00})
LATER_EPOCH_VERSIONS = frozenset({DTLS_1_2, DTLS_1_0})

HEADER = struct.Struct("!BHH6sH")
HEADER_LEN = HEADER.size  # 13
MAX_SEQ = (1 << 48) - 1


@dataclass(frozen=True)
class Record:
    content_type: int
    version: int
    epoch: int
    seq: int
    body: bytes

    @property
    def seq_bytes(self) -> bytes:
        """The 8-byte epoch+sequence number used in nonces, AAD and MACs."""
        return struct.pack("!H", self.epoch) + self.seq.to_bytes(6, "big")


def parse_records(datagram: bytes, limit: int | None = None) -> list[Record]:
    """Split a datagram into records (at most `limit`); a truncated or unknown-typed tail is dropped
    (RFC 6347 4.1.2.7: discard, don't fail)."""
    records: list[Record] = []
    offset = 0
    while offset + HEADER_LEN <= len(datagram) and (limit is None or len(records) < limit):
        ctype, version, epoch, seq, length = HEADER.unpack_from(datagram, offset)
        offset += HEADER_LEN
        if offset + length > len(datagram) or ctype not in CONTENT_TYPES:
            break
        records.append(Record(ctype, version, epoch, int.from_bytes(seq, "big"), datagram[offset : offset + length]))
        offset += length
    return records


def encode_record(content_type: int, version: int, epoch: int, seq: int, body: bytes) -> bytes:
    return HEADER.pack(content_type, version, epoch, seq.to_bytes(6, "big"), len(body)) + body


class ReplayWindow:
    """The 64-record sliding window of RFC 6347 4.1.2.6; only authenticated records move it."""

    SIZE = 64

    def __init__(self) -> None:
        self._top = -1
        self._bits = 0

    def is_replay(self, seq: int) -> bool:
        if seq > self._top:
            return False
        delta = self._top - seq
        return delta >= self.SIZE or bool(self._bits >> delta & 1)

    def accept(self, seq: int) -> None:
        if seq > self._top:
            shift = seq - self._top
            # a jump past the window clears it: shifting the int by the whole gap (up to 2**48) would
            # stall the loop and allocate memory in proportion to the gap
            self._bits = 1 if shift >= self.SIZE else ((self._bits << shift) | 1) & ((1 << self.SIZE) - 1)
            self._top = seq
        else:
            self._bits |= 1 << (self._top - seq)


@dataclass
class WriteState:
    """Our side of one epoch: its protection and the next sequence number to use."""

    epoch: int = 0
    protection: Protection = field(default_factory=NullProtection)
    next_seq: int = 0

    def seal(self, content_type: int, plaintext: bytes, version: int = DTLS_1_2) -> bytes:
        seq = self.next_seq
        if seq > MAX_SEQ:
            raise OverflowError("DTLS sequence number space exhausted")
        self.next_seq += 1
        seq_bytes = struct.pack("!H", self.epoch) + seq.to_bytes(6, "big")
        body = self.protection.seal(seq_bytes, content_type, version, plaintext)
        return encode_record(content_type, version, self.epoch, seq, body)


@dataclass
class ReadState:
    """The peer's side of one epoch: its protection and replay window."""

    epoch: int = 0
    protection: Protection = field(default_factory=NullProtection)
    window: ReplayWindow = field(default_factory=ReplayWindow)

    def open(self, record: Record) -> bytes | None:
        """Plaintext of an authentic fresh record; None for a replay. Raises BadRecordMac for forgeries."""
        if self.window.is_replay(record.seq):
            return None
        plaintext = self.protection.open(record.seq_bytes, record.content_type, record.version, record.body)
        self.window.accept(record.seq)
        return plaintext
