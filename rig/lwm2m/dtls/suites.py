"""The four PSK cipher suites the rig speaks, the TLS 1.2 PRF and record protection.

Everything cryptographic lives here so the record layer and the handshake never
touch a cipher directly: a suite turns a master secret into two `Protection`
objects (one per direction), and a `Protection` seals/opens one record body.
AEAD suites use the record's epoch+sequence number as the explicit nonce (RFC
6655/5288 allow any unique value; mbedtls, OpenSSL and GnuTLS all do this), so
no nonce state is needed. CBC uses MAC-then-encrypt with a random explicit IV
(RFC 5246 6.2.3.2); encrypt-then-MAC is simply not negotiated.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM
from cryptography.exceptions import InvalidTag

TLS_PSK_WITH_AES_128_CCM_8 = 0xC0A8
TLS_PSK_WITH_AES_128_CCM = 0xC0A4
TLS_PSK_WITH_AES_128_GCM_SHA256 = 0x00A8
TLS_PSK_WITH_AES_128_CBC_SHA256 = 0x00AE


class BadRecordMac(Exception):
    """A record did not authenticate: corrupted, forged, or (during a handshake) keyed with a different PSK."""


def p_sha256(secret: bytes, seed: bytes, length: int) -> bytes:
    """P_SHA256 of RFC 5246 section 5."""
    out = b""
    a = seed
    while len(out) < length:
        a = hmac.new(secret, a, hashlib.sha256).digest()
        out += hmac.new(secret, a + seed, hashlib.sha256).digest()
    return out[:length]


def prf(secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """The TLS 1.2 PRF; every suite here uses SHA-256."""
    return p_sha256(secret, label + seed, length)


def psk_premaster(psk: bytes) -> bytes:
    """RFC 4279 section 2: N zero bytes next to the key, each with a 16-bit length."""
    n = len(psk)
    return struct.pack("!H", n) + bytes(n) + struct.pack("!H", n) + psk


def master_secret(premaster: bytes, client_random: bytes, server_random: bytes, session_hash: bytes | None) -> bytes:
    """Classic master secret, or the RFC 7627 extended one when `session_hash` is given."""
    if session_hash is not None:
        return prf(premaster, b"extended master secret", session_hash, 48)
    return prf(premaster, b"master secret", client_random + server_random, 48)


def finished_verify_data(master: bytes, from_client: bool, transcript_hash: bytes) -> bytes:
    label = b"client finished" if from_client else b"server finished"
    return prf(master, label, transcript_hash, 12)


def aad(seq: bytes, content_type: int, version: int, length: int) -> bytes:
    """Additional data / MAC header: 8-byte epoch+sequence, type, version, plaintext length."""
    return seq + struct.pack("!BHH", content_type, version, length)


class Protection:
    """Seals and opens record bodies for one direction of one epoch."""

    def seal(self, seq: bytes, content_type: int, version: int, plaintext: bytes) -> bytes:
        raise NotImplementedError

    def open(self, seq: bytes, content_type: int, version: int, body: bytes) -> bytes:
        raise NotImplementedError


class NullProtection(Protection):
    """Epoch 0: records travel in the clear."""

    def seal(self, seq: bytes, content_type: int, version: int, plaintext: bytes) -> bytes:
        return plaintext

    def open(self, seq: bytes, content_type: int, version: int, body: bytes) -> bytes:
        return body


class AeadProtection(Protection):
    def __init__(self, aead: AESCCM | AESGCM, fixed_iv: bytes, tag_len: int) -> None:
        self._aead = aead
        self._fixed_iv = fixed_iv
        self._tag_len = tag_len

    def seal(self, seq: bytes, content_type: int, version: int, plaintext: bytes) -> bytes:
        nonce = self._fixed_iv + seq
        return seq + self._aead.encrypt(nonce, plaintext, aad(seq, content_type, version, len(plaintext)))

    def open(self, seq: bytes, content_type: int, version: int, body: bytes) -> bytes:
        if len(body) < 8 + self._tag_len:
            raise BadRecordMac("record too short for its cipher")
        explicit, sealed = body[:8], body[8:]
        length = len(sealed) - self._tag_len
        try:
            return self._aead.decrypt(self._fixed_iv + explicit, sealed, aad(seq, content_type, version, length))
        except InvalidTag as exc:
            raise BadRecordMac("AEAD tag mismatch") from exc


class CbcHmacProtection(Protection):
    """AES-128-CBC with HMAC-SHA256, MAC-then-encrypt (TLS 1.2 default without encrypt_then_mac).

    LwM2M 1.1.1/1.2 servers must offer this suite next to CCM_8 (Transport TS,
    "Pre-Shared Keys"), so it stays, last in preference, with its padding oracle
    closed as RFC 5246 6.2.3.2 asks: a record with bad padding is MACed as if its
    padding were empty, the same number of bytes is hashed whatever the padding
    says (a dummy hash takes up the rest), and both failures raise the same error.
    `hashed_bytes` is how many bytes the last `open` fed to SHA-256, for tests.
    """

    MAC_LEN = 32
    PAD_WINDOW = 256  # the most padding bytes a record can carry (length byte included)

    def __init__(self, key: bytes, mac_key: bytes) -> None:
        self._key = key
        self._mac_key = mac_key
        self.hashed_bytes = 0

    def seal(self, seq: bytes, content_type: int, version: int, plaintext: bytes) -> bytes:
        mac = hmac.new(self._mac_key, aad(seq, content_type, version, len(plaintext)) + plaintext, hashlib.sha256).digest()
        data = plaintext + mac
        pad = 15 - len(data) % 16
        data += bytes([pad]) * (pad + 1)
        iv = os.urandom(16)
        enc = Cipher(algorithms.AES(self._key), modes.CBC(iv)).encryptor()
        return iv + enc.update(data) + enc.finalize()

    def open(self, seq: bytes, content_type: int, version: int, body: bytes) -> bytes:
        if len(body) < 16 + 48 or len(body) % 16:  # the length is public: failing on it leaks nothing
            raise BadRecordMac("CBC record has a bad length")
        dec = Cipher(algorithms.AES(self._key), modes.CBC(body[:16])).decryptor()
        data = dec.update(body[16:]) + dec.finalize()
        n, pad = len(data), data[-1]
        # padding: one fixed-length comparison over the last PAD_WINDOW bytes, no early exit
        window = min(self.PAD_WINDOW, n - self.MAC_LEN)
        tail = data[n - window :]
        fits = pad + 1 <= window
        want = tail[: window - (pad + 1)] + bytes([pad]) * (pad + 1) if fits else bytes(window)
        pad_ok = hmac.compare_digest(tail, want) & fits
        strip = (pad + 1) if pad_ok else 0  # bad padding: MAC the record as if it had none
        plaintext = data[: n - strip - self.MAC_LEN]
        mac = data[n - strip - self.MAC_LEN : n - strip]
        header = aad(seq, content_type, version, len(plaintext))
        want_mac = hmac.new(self._mac_key, header + plaintext, hashlib.sha256).digest()
        # the same amount of hashing whatever the padding: strip more, hash more dummy bytes
        hashlib.sha256(bytes(strip)).digest()
        self.hashed_bytes = len(header) + len(plaintext) + strip
        mac_ok = hmac.compare_digest(mac, want_mac)
        if not (mac_ok & pad_ok):
            raise BadRecordMac("CBC record does not authenticate")
        return plaintext


@dataclass(frozen=True)
class Suite:
    """One cipher suite: its number, name and how its key block is cut."""

    code: int
    name: str
    kind: str  # "ccm" | "gcm" | "cbc"
    tag_len: int = 16
    mac_key_len: int = 0
    key_len: int = 16
    iv_len: int = 4

    def key_block(self, master: bytes, client_random: bytes, server_random: bytes) -> tuple[Protection, Protection]:
        """(client_write, server_write) protections from the RFC 5246 6.3 key block."""
        m, k, i = self.mac_key_len, self.key_len, self.iv_len
        block = prf(master, b"key expansion", server_random + client_random, 2 * (m + k + i))
        cmac, smac = block[:m], block[m : 2 * m]
        ckey, skey = block[2 * m : 2 * m + k], block[2 * m + k : 2 * m + 2 * k]
        civ, siv = block[2 * m + 2 * k : 2 * m + 2 * k + i], block[2 * m + 2 * k + i :]
        return self._protection(ckey, cmac, civ), self._protection(skey, smac, siv)

    def _protection(self, key: bytes, mac_key: bytes, iv: bytes) -> Protection:
        if self.kind == "ccm":
            return AeadProtection(AESCCM(key, tag_length=self.tag_len), iv, self.tag_len)
        if self.kind == "gcm":
            return AeadProtection(AESGCM(key), iv, self.tag_len)
        return CbcHmacProtection(key, mac_key)


SUITES: dict[int, Suite] = {
    s.code: s
    for s in (
        Suite(TLS_PSK_WITH_AES_128_CCM_8, "TLS_PSK_WITH_AES_128_CCM_8", "ccm", tag_len=8),
        Suite(TLS_PSK_WITH_AES_128_CCM, "TLS_PSK_WITH_AES_128_CCM", "ccm"),
        Suite(TLS_PSK_WITH_AES_128_GCM_SHA256, "TLS_PSK_WITH_AES_128_GCM_SHA256", "gcm"),
        Suite(TLS_PSK_WITH_AES_128_CBC_SHA256, "TLS_PSK_WITH_AES_128_CBC_SHA256", "cbc", mac_key_len=32, iv_len=0),
    )
}

# Server preference: the LwM2M-mandated suite first, then the other AEADs, CBC last.
DEFAULT_PREFERENCE: tuple[int, ...] = (
    TLS_PSK_WITH_AES_128_CCM_8,
    TLS_PSK_WITH_AES_128_CCM,
    TLS_PSK_WITH_AES_128_GCM_SHA256,
    TLS_PSK_WITH_AES_128_CBC_SHA256,
)


def choose_suite(offered: list[int], preference: tuple[int, ...] = DEFAULT_PREFERENCE) -> Suite | None:
    for code in preference:
        if code in offered:
            return SUITES[code]
    return None
