"""The virtual board's second package format: a small vendor header with a CRC32 and a version string.

Many devices take packages that are not MCUboot images: a vendor container around
the image, checked by the client before anything is installed. This one is the
worked example of targets/README.md ("A vendor package format"). It is the
device's own code (the rig's package code never sees it, and this never imports
the rig's): the same vendor's packaging tool, rig.sim.vendor_pack, writes it.

    offset size  field (little-endian)
    0      4     magic b"VPK1"
    4      2     header size, 64
    6      2     flags, 0
    8      4     payload size in bytes
    12     4     CRC32 of the payload (IEEE 802.3, as zlib.crc32)
    16     32    version, ASCII, NUL-padded ("1.1", "2.0.3")
    48     12    reserved, zero
    60     4     CRC32 of bytes 0..59
    64     ...   payload: what the device installs (on the virtual board an MCUboot image for its slot)

The running version is reported in the vendor's style, MAJOR.MINOR when the
revision is 0 ("1.0" for an image 1.0.0), on /5/0/7; /3/0/3 carries the client
library's version, as the third-party clients this stands for do.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

MAGIC = b"VPK1"
HEADER_SIZE = 64
_LAYOUT = struct.Struct("<4sHHII32s12s")  # the first 60 bytes; the header CRC follows
LIBRARY_VERSION = "rigsim-lwm2m 2.1.0"  # what /3/0/3 says in this mode: the client library, never the package


class PackageError(Exception):
    """A package the device refuses; `result` is the Update Result it reports (5 integrity, 6 type)."""

    def __init__(self, result: int, reason: str) -> None:
        super().__init__(reason)
        self.result = result


@dataclass(frozen=True)
class VendorHeader:
    payload_size: int
    payload_crc: int
    version: str


def parse_header(raw: bytes) -> VendorHeader:
    """The header of a package, or PackageError: 6 when it is not this format at all, 5 when it is damaged."""
    if len(raw) < HEADER_SIZE or raw[:4] != MAGIC:
        raise PackageError(6, f"no {MAGIC.decode()} header (starts {raw[:4].hex() or 'empty'}): not a package of this device")
    magic, size, flags, payload_size, payload_crc, version, _reserved = _LAYOUT.unpack_from(raw)
    (header_crc,) = struct.unpack_from("<I", raw, 60)
    if zlib.crc32(raw[:60]) != header_crc:
        raise PackageError(5, "header CRC mismatch")
    if size != HEADER_SIZE or flags != 0:
        raise PackageError(6, f"header size {size} / flags {flags}: a format version this device does not know")
    try:
        text = version.rstrip(b"\0").decode("ascii")
    except UnicodeDecodeError:
        raise PackageError(5, "version field is not ASCII") from None
    return VendorHeader(payload_size, payload_crc, text)


def build_header(payload: bytes, version: str) -> bytes:
    """The 64-byte header for `payload` (the packaging tool's half of the format)."""
    encoded = version.encode("ascii")
    if not encoded or len(encoded) > 32:
        raise ValueError(f"version {version!r} must be 1..32 ASCII characters")
    head = _LAYOUT.pack(MAGIC, HEADER_SIZE, 0, len(payload), zlib.crc32(payload), encoded.ljust(32, b"\0"), bytes(12))
    return head + struct.pack("<I", zlib.crc32(head))


def check_payload(header: VendorHeader, payload: bytes) -> None:
    """PackageError(5) unless the payload is whole and its CRC matches."""
    if len(payload) != header.payload_size:
        raise PackageError(5, f"payload is {len(payload)} bytes, the header says {header.payload_size}")
    if zlib.crc32(payload) != header.payload_crc:
        raise PackageError(5, "payload CRC mismatch")


def vendor_version(image_version: str) -> str:
    """"1.0.0" -> "1.0", "1.2.3" -> "1.2.3", "1.0.0+4" -> "1.0.0+4": how this client spells its version."""
    number, plus, build = image_version.partition("+")
    parts = number.split(".")
    if len(parts) == 3 and parts[2] == "0" and build in ("", "0"):
        return ".".join(parts[:2])
    return number + (plus + build if build not in ("", "0") else "")
