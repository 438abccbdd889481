"""Decode an MCUboot image from the bytes of a slot: header, TLV areas, hash and signature.

The rig reads slots from the virtual board's flash file and from real boards over
SWD; both must be judged the way MCUboot judges them, so the hash is recomputed
over header + payload + protected TLVs exactly as bootutil_img_validate does, and
an image whose hash, TLV layout or size is wrong is reported, never trusted.
Content problems never raise: a dump of an erased or corrupt slot is a normal
finding, returned in ImageInfo.state.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from rig.mcuboot.limits import max_image_size
from rig.mcuboot.trailer import TrailerLayout

IMAGE_MAGIC = 0x96F3B83D
IMAGE_HEADER = struct.Struct("<IIHHIIBBHI")  # magic, load, hdr_size, prot_tlv_size, img_size, flags, version
TLV_INFO_MAGIC = 0x6907
TLV_PROT_INFO_MAGIC = 0x6908
TLV_NAMES = {
    0x01: "KEYHASH", 0x02: "PUBKEY", 0x10: "SHA256", 0x11: "SHA384", 0x12: "SHA512",
    0x20: "RSA2048", 0x22: "ECDSASIG", 0x23: "RSA3072", 0x24: "ED25519", 0x25: "SIG_PURE",
    0x30: "ENCRSA2048", 0x31: "ENCKW", 0x32: "ENCEC256", 0x33: "ENCX25519", 0x40: "DEPENDENCY",
    0x50: "SEC_CNT", 0x60: "BOOT_RECORD",
}
HASH_TLVS = {0x10: hashlib.sha256, 0x11: hashlib.sha384, 0x12: hashlib.sha512}
SIGNATURE_TLVS = {0x20: "rsa", 0x22: "ecdsa", 0x23: "rsa", 0x24: "ed25519"}
IMAGE_F_NON_BOOTABLE = 0x10

# ImageInfo.state values, best first
INTACT = "intact"
ERASED = "erased"
BAD_MAGIC = "bad-magic"
BAD_HEADER = "bad-header"
BAD_TLV = "bad-tlv"
BAD_HASH = "bad-hash"
BAD_SIGNATURE = "bad-signature"
TOO_LARGE = "too-large"


@dataclass(frozen=True)
class Tlv:
    type: int
    offset: int  # within the slot
    data: bytes
    protected: bool

    @property
    def name(self) -> str:
        return TLV_NAMES.get(self.type, f"0x{self.type:02x}")


@dataclass(frozen=True)
class ImageInfo:
    """What a slot holds. `state` is "intact" only if header, TLVs, size and hash (and signature, when a key was given) hold."""

    state: str
    problem: str = ""
    load_addr: int = 0
    hdr_size: int = 0
    protected_tlv_size: int = 0
    img_size: int = 0
    flags: int = 0
    version: str | None = None  # "1.2.3+4"
    version_tuple: tuple[int, int, int, int] | None = None
    total_size: int = 0  # header + payload + all TLV areas: what a swap must move
    tlvs: tuple[Tlv, ...] = ()
    hash_tlv: bytes | None = None
    computed_hash: bytes | None = None
    signature_type: str | None = None
    signature_ok: bool | None = None  # None: no key given, or no signature TLV
    payload: bytes = field(default=b"", repr=False)

    @property
    def intact(self) -> bool:
        return self.state == INTACT

    @property
    def payload_offset(self) -> int:
        return self.hdr_size

    @property
    def hash_ok(self) -> bool:
        return self.hash_tlv is not None and self.hash_tlv == self.computed_hash

    def describe(self) -> str:
        """One phrase for people: "1.2.3+0 intact", "erased", "1.4.0+0 bad-hash (…)"."""
        if self.state == ERASED:
            return "erased"
        head = f"{self.version} " if self.version else ""
        return f"{head}{self.state}" + (f" ({self.problem})" if self.problem else "")


def read_image(slot: bytes, layout: object | None = None, public_key: object | None = None,
               trailer_size: int | None = None, limit: int | None = None) -> ImageInfo:
    """Decode the image at the start of `slot` (the whole slot's bytes).

    layout: a FlashLayout (erased value; and, unless told otherwise, the largest image
    its MCUboot swaps, rig.mcuboot.limits); trailer_size: bytes at the slot's end the
    image may not reach; limit: the largest image size outright. public_key: PEM bytes
    or a `cryptography` public key: when given, the signature TLV must verify.
    """
    erased = getattr(layout, "erased_value", 0xFF)
    if limit is None:
        limit = _default_limit(slot, layout, trailer_size)
    if len(slot) < IMAGE_HEADER.size:
        return ImageInfo(BAD_HEADER, f"slot of {len(slot)} bytes is shorter than an image header")
    (magic, load, hdr_size, prot_size, img_size, flags,
     major, minor, revision, build) = IMAGE_HEADER.unpack_from(slot, 0)
    if magic != IMAGE_MAGIC:
        if slot[:4] == bytes([erased]) * 4:
            return ImageInfo(ERASED, "no image header (erased)")
        return ImageInfo(BAD_MAGIC, f"header magic 0x{magic:08x}, expected 0x{IMAGE_MAGIC:08x}")
    version = f"{major}.{minor}.{revision}+{build}"
    base = dict(load_addr=load, hdr_size=hdr_size, protected_tlv_size=prot_size, img_size=img_size,
                flags=flags, version=version, version_tuple=(major, minor, revision, build))
    if hdr_size < IMAGE_HEADER.size + 4:
        return ImageInfo(BAD_HEADER, f"header size 0x{hdr_size:x} is too small", **base)
    tlv_off = hdr_size + img_size
    if tlv_off + 4 > len(slot):
        return ImageInfo(TOO_LARGE, f"header + payload 0x{tlv_off:x} exceed the slot (0x{len(slot):x})", **base)
    tlvs, end, problem = _parse_tlvs(slot, tlv_off, prot_size)
    if problem:
        return ImageInfo(BAD_TLV, problem, tlvs=tuple(tlvs), **base)
    base["total_size"] = end - 0
    base["tlvs"] = tuple(tlvs)
    base["payload"] = bytes(slot[hdr_size:tlv_off])
    if end > limit:
        return ImageInfo(TOO_LARGE, f"image of 0x{end:x} bytes is larger than the slot takes "
                                    f"(0x{limit:x} before its trailer)", **base)
    hashed = memoryview(slot)[:tlv_off + prot_size]
    hash_tlv = next((t for t in tlvs if t.type in HASH_TLVS and not t.protected), None)
    if hash_tlv is None:
        return ImageInfo(BAD_TLV, "no hash TLV (SHA256/384/512)", **base)
    computed = HASH_TLVS[hash_tlv.type](hashed).digest()
    base.update(hash_tlv=hash_tlv.data, computed_hash=computed)
    sig = next((t for t in tlvs if t.type in SIGNATURE_TLVS), None)
    if sig is not None:
        base["signature_type"] = SIGNATURE_TLVS[sig.type]
    if computed != hash_tlv.data:
        return ImageInfo(BAD_HASH, f"{hash_tlv.name} in TLV {hash_tlv.data.hex()[:16]}… != computed "
                                   f"{computed.hex()[:16]}…", **base)
    if public_key is not None:
        if sig is None:
            return ImageInfo(BAD_SIGNATURE, "a key was given but the image has no signature TLV", **base)
        ok = _verify_signature(public_key, sig, bytes(hashed), computed)
        base["signature_ok"] = ok
        if not ok:
            return ImageInfo(BAD_SIGNATURE, f"{sig.name} signature does not verify with the given key", **base)
    return ImageInfo(INTACT, **base)


def _default_limit(slot: bytes, layout: object | None, trailer_size: int | None) -> int:
    if trailer_size is not None:
        return len(slot) - trailer_size
    if not hasattr(layout, "max_sectors"):
        return len(slot)

    limit = len(slot) - TrailerLayout.for_slot(layout, len(slot)).size
    if hasattr(layout, "partitions"):
        limit = min(limit, max_image_size(layout))
    return limit


def _parse_tlvs(slot: bytes, off: int, prot_size: int) -> tuple[list[Tlv], int, str]:
    """Walk the protected (0x6908) and plain (0x6907) TLV areas like boot_read_image_size does."""
    tlvs: list[Tlv] = []
    magic, total = struct.unpack_from("<HH", slot, off)
    if magic == TLV_PROT_INFO_MAGIC:
        if prot_size != total:
            return tlvs, off, f"protected TLV area is 0x{total:x} bytes, header says 0x{prot_size:x}"
        problem = _walk(slot, off, total, True, tlvs)
        if problem:
            return tlvs, off, problem
        off += total
        if off + 4 > len(slot):
            return tlvs, off, "TLV area runs past the slot"
        magic, total = struct.unpack_from("<HH", slot, off)
    elif prot_size != 0:
        return tlvs, off, f"header says 0x{prot_size:x} bytes of protected TLVs, found magic 0x{magic:04x}"
    if magic != TLV_INFO_MAGIC:
        return tlvs, off, f"TLV info magic 0x{magic:04x} at 0x{off:x}, expected 0x{TLV_INFO_MAGIC:04x}"
    problem = _walk(slot, off, total, False, tlvs)
    return tlvs, off + total, problem


def _walk(slot: bytes, off: int, total: int, protected: bool, out: list[Tlv]) -> str:
    end = off + total
    if end > len(slot):
        return f"TLV area 0x{off:x}+0x{total:x} runs past the slot"
    pos = off + 4
    while pos < end:
        if pos + 4 > end:
            return f"truncated TLV at 0x{pos:x}"
        kind, length = struct.unpack_from("<HH", slot, pos)
        if pos + 4 + length > end:
            return f"TLV 0x{kind:02x} at 0x{pos:x} runs past its area"
        out.append(Tlv(kind, pos + 4, bytes(slot[pos + 4:pos + 4 + length]), protected))
        pos += 4 + length
    return ""


def _verify_signature(public_key: object, sig: Tlv, hashed: bytes, digest: bytes) -> bool:
    """EC256 and RSA-PSS sign the image bytes, Ed25519 signs the digest (imgtool's conventions)."""
    from cryptography.exceptions import InvalidSignature  # noqa: PLC0415 -- start-up cost: only when a signature is checked
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415 -- start-up cost: only when a signature is checked
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa  # noqa: PLC0415 -- start-up cost: only when a signature is checked

    key = public_key
    if isinstance(key, (bytes, str)):
        data = key.encode() if isinstance(key, str) else key
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError:
            key = serialization.load_pem_private_key(data, password=None).public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey) and sig.type == 0x22:
            key.verify(sig.data, hashed, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, ed25519.Ed25519PublicKey) and sig.type == 0x24:
            key.verify(sig.data, digest)
        elif isinstance(key, rsa.RSAPublicKey) and sig.type in (0x20, 0x23):
            key.verify(sig.data, hashed, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                       hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True
