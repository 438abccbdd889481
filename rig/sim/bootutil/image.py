"""The device's own image checks: image.h's header, boot_read_image_size, bootutil_img_validate.

Like real bootutil it reads through the flash area (header, then the TLV info,
then TLV by TLV), hashes header + payload + protected TLVs, compares the hash
TLV, checks the signature TLV when the bootloader was built with a key, and
refuses an image whose TLV area ends beyond what the slot can swap
(bootutil_max_image_size). Independent of the rig's checker by design.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from rig.sim.bootutil.area import Area

IMAGE_MAGIC = 0x96F3B83D
HEADER_LEN = 32  # struct image_header
TLV_INFO_MAGIC, TLV_PROT_INFO_MAGIC = 0x6907, 0x6908
HASHES = {0x10: hashlib.sha256, 0x11: hashlib.sha384, 0x12: hashlib.sha512}
KEYHASH, PUBKEY = 0x01, 0x02
SIGNATURES = (0x20, 0x22, 0x23, 0x24)
F_NON_BOOTABLE = 0x10


@dataclass
class Header:
    """struct image_header."""

    magic: int
    load_addr: int
    hdr_size: int
    protect_tlv_size: int
    img_size: int
    flags: int
    ver: tuple[int, int, int, int]

    @classmethod
    def read(cls, fa: Area, off: int = 0) -> "Header":
        raw = fa.read(off, HEADER_LEN)
        i = int.from_bytes
        return cls(i(raw[0:4], "little"), i(raw[4:8], "little"), i(raw[8:10], "little"), i(raw[10:12], "little"),
                   i(raw[12:16], "little"), i(raw[16:20], "little"),
                   (raw[20], raw[21], i(raw[22:24], "little"), i(raw[24:28], "little")))

    @property
    def version(self) -> str:
        return "{}.{}.{}+{}".format(*self.ver)

    @property
    def tlv_off(self) -> int:
        return self.hdr_size + self.img_size  # BOOT_TLV_OFF


@dataclass
class Verdict:
    """What bootutil_img_validate decided about one slot."""

    ok: bool
    reason: str = ""
    header: Header | None = None
    size: int = 0  # boot_read_image_size: header + payload + TLV areas
    hash_value: bytes | None = None

    @property
    def version(self) -> str | None:
        return self.header.version if self.header and self.header.magic == IMAGE_MAGIC else None


def read_image_size(fa: Area, hdr: Header) -> int | None:
    """boot_read_image_size: end of the TLV areas, None when the TLV info is not where it must be."""
    if hdr.tlv_off + 4 > fa.size:
        return None
    info = fa.read(hdr.tlv_off, 4)
    magic, tot = int.from_bytes(info[:2], "little"), int.from_bytes(info[2:], "little")
    if magic == TLV_PROT_INFO_MAGIC:
        if tot != hdr.protect_tlv_size or hdr.tlv_off + tot + 4 > fa.size:
            return None
        info = fa.read(hdr.tlv_off + tot, 4)
        magic, tot = int.from_bytes(info[:2], "little"), int.from_bytes(info[2:], "little")
    elif hdr.protect_tlv_size:
        return None
    if magic != TLV_INFO_MAGIC:
        return None
    return hdr.tlv_off + hdr.protect_tlv_size + tot


def _tlvs(fa: Area, hdr: Header, end: int) -> list[tuple[int, bytes]] | None:
    """bootutil_tlv_iter over both areas: (type, value); None if a TLV runs past its area."""
    out: list[tuple[int, bytes]] = []
    off = hdr.tlv_off
    while off < end:
        info = fa.read(off, 4)
        area_end = off + int.from_bytes(info[2:], "little")
        off += 4
        while off < area_end:
            head = fa.read(off, 4)
            kind, length = int.from_bytes(head[:2], "little"), int.from_bytes(head[2:], "little")
            if off + 4 + length > area_end:
                return None
            out.append((kind, fa.read(off + 4, length)))
            off += 4 + length
    return out


def validate(fa: Area, max_size: int, public_key: bytes | None = None) -> Verdict:
    """bootutil_img_validate for the image at the start of `fa` (boot_is_header_valid first)."""
    hdr = Header.read(fa)
    if hdr.magic != IMAGE_MAGIC:
        return Verdict(False, f"no image (header magic 0x{hdr.magic:08x})", hdr)
    if hdr.hdr_size < HEADER_LEN or hdr.hdr_size + hdr.img_size >= fa.size:
        return Verdict(False, "image header sizes do not fit the slot", hdr)
    size = read_image_size(fa, hdr)
    if size is None:
        return Verdict(False, "TLV area missing or malformed", hdr)
    if size > max_size:
        return Verdict(False, f"image of 0x{size:x} bytes is larger than the 0x{max_size:x} the slot can swap", hdr,
                       size)
    tlvs = _tlvs(fa, hdr, size)
    if tlvs is None:
        return Verdict(False, "a TLV runs past its area", hdr, size)
    hashed = fa.read(0, hdr.tlv_off + hdr.protect_tlv_size)
    found = [(HASHES[k](hashed).digest(), v) for k, v in tlvs if k in HASHES]
    if not found:
        return Verdict(False, "no hash TLV", hdr, size)
    digest, expected = found[0]
    if digest != expected:
        return Verdict(False, "hash mismatch", hdr, size, expected)
    if public_key is not None:
        sigs = [(k, v) for k, v in tlvs if k in SIGNATURES]
        if not sigs or not any(_signature_holds(public_key, k, v, hashed, digest) for k, v in sigs):
            return Verdict(False, "signature does not verify with the bootloader's key", hdr, size, expected)
    return Verdict(True, "", hdr, size, expected)


def _signature_holds(pem: bytes, kind: int, sig: bytes, signed: bytes, digest: bytes) -> bool:
    """ECDSA and RSA-PSS over the hashed bytes, Ed25519 over the digest: what imgtool produces."""
    from cryptography.exceptions import InvalidSignature  # noqa: PLC0415 -- start-up cost: only when a signature is checked
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415 -- start-up cost: only when a signature is checked
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa  # noqa: PLC0415 -- start-up cost: only when a signature is checked

    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        key = serialization.load_pem_private_key(pem, password=None).public_key()
    try:
        if kind == 0x24 and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(sig, digest)
            return True
        if kind == 0x22 and isinstance(key, ec.EllipticCurvePublicKey):
            algo = hashes.SHA384() if key.curve.key_size > 256 else hashes.SHA256()
            key.verify(sig, signed, ec.ECDSA(algo))
            return True
        if kind in (0x20, 0x23) and isinstance(key, rsa.RSAPublicKey):
            key.verify(sig, signed, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
            return True
    except InvalidSignature:
        return False
    return False
