"""Packages a correct MCUboot target must refuse, made with imgtool for the target's layout.

Each one names why it is bad, what the device must report (Update Result, as the
target's [package] table maps integrity and type failures), and what the rig's own
decoder (rig.mcuboot.read_image) says about it, so a test can prove the package
really is bad for the stated reason before a conformance case blames the device.
"""

from __future__ import annotations

from pathlib import Path

from rig.errors import RigError
from rig.flash_layout import FlashLayout
from rig.mcuboot import ImageInfo, read_image
from rig.mcuboot.image import BAD_HASH, BAD_MAGIC, BAD_SIGNATURE, BAD_TLV, INTACT, TOO_LARGE
from rig.mcuboot.imgtool_helpers import keygen, make_payload, run_imgtool, sign_image
from rig.package_spec import PackageSpec
from rig.packages.base import NegativeImage, NegativeSet
from rig.sim.defects import IMAGE_MARKERS

NO_LIMIT = "the target file says lwm2m.max_package_size = \"none\": the client has no slot limit, so no package is too large"


def read_back(image: NegativeImage, layout: FlashLayout) -> ImageInfo:
    """Decode the file as it would lie in the secondary slot (cut at, or padded to, the slot size)."""
    size = layout.partition("secondary").size
    data = image.path.read_bytes()[:size]
    data += bytes([layout.erased_value]) * (size - len(data))
    key = image.verify_key.read_bytes() if image.verify_key is not None else None
    return read_image(data, layout, public_key=key)


def lower_version(version: str) -> str:
    """A version strictly below `version` (1.0.0 -> 0.9.9, 1.2.3 -> 1.2.2)."""
    try:
        major, minor, rev = (int(p) for p in version.split("+")[0].split("."))
    except ValueError:
        raise RigError(f"version {version!r} is not MAJOR.MINOR.REVISION") from None
    if rev:
        return f"{major}.{minor}.{rev - 1}"
    if minor:
        return f"{major}.{minor - 1}.9"
    if major:
        return f"{major - 1}.9.9"
    raise RigError(f"no version is lower than {version!r}: choose a higher base version for the downgrade image")


def oversize_payload(layout: FlashLayout, max_package_size: int | None) -> int:
    """Payload bytes of a package no slot of this target holds: one sector past the declared limit (or the slot)."""
    return max(layout.partition("secondary").size, max_package_size or 0) + layout.sector_size


def _oversize(directory: Path, layout: FlashLayout, version: str, key: Path | None, payload_size: int) -> Path:
    """Signed for a slot twice its size, so imgtool accepts it but the target's slot cannot hold it."""
    raw = directory / "too-large.raw"
    raw.write_bytes(make_payload(payload_size, 5))
    out = directory / "too-large.bin"
    args = ["sign", "--pad-header", "-H", str(layout.header_size), "-S", str(2 * (payload_size + layout.sector_size)),
            "--align", str(layout.write_size), "--max-align", str(layout.max_align), "-v", version]
    if layout.erased_value != 0xFF:
        args += ["-R", "0"]
    if key is not None:
        args += ["-k", str(key)]
    run_imgtool(*args, str(raw), str(out))
    raw.unlink()
    return out


def _corrupt(path: Path, src: Path, at: int) -> Path:
    data = bytearray(src.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def make_negatives(
    directory: Path, layout: FlashLayout, size: int, base_version: str, new_version: str,
    key: Path | None = None, spec: PackageSpec | None = None, max_package_size: int | str | None = None,
) -> NegativeSet:
    """The bad packages, by kind. `key`: the target's signing key (None: a test key made here).

    The wrong-key image is signed with a second, fresh key; the others with `key` when
    given (unsigned otherwise, like make_images' base and new images).
    """
    if size <= 256:
        raise RigError(f"negative image size {size} is too small: use at least 257 bytes")
    spec = spec or PackageSpec()
    directory.mkdir(parents=True, exist_ok=True)
    sign_key = key
    right_key = key if key is not None else keygen(directory / "right-key.pem")
    wrong_key = keygen(directory / "wrong-key.pem")
    out = NegativeSet()

    def signed(name: str, version: str, payload: bytes, with_key: Path | None = sign_key) -> Path:
        return sign_image(directory / f"{name}.bin", layout, version, payload, key=with_key, slot="secondary")

    path = signed("wrong-key", new_version, make_payload(size, 11), with_key=wrong_key)
    out.add(NegativeImage("wrong-key", path, "signed with a key the bootloader does not trust", 8,
                          BAD_SIGNATURE, new_version, verify_key=right_key))
    good = signed("truncated-full", new_version, make_payload(size, 12))
    truncated = directory / "truncated.bin"
    truncated.write_bytes(good.read_bytes()[: layout.header_size + size // 2])
    good.unlink()
    out.add(NegativeImage("truncated", truncated, "cut short: half the payload and no TLV area", spec.integrity_result,
                          BAD_TLV, new_version))
    if max_package_size == "none":
        out.lack("too-large", NO_LIMIT)
    else:
        limit = max_package_size if isinstance(max_package_size, int) else None
        out.add(NegativeImage("too-large", _oversize(directory, layout, new_version, sign_key,
                                                        oversize_payload(layout, limit)),
                              "larger than the secondary slot", 2, TOO_LARGE, new_version))
    down = lower_version(base_version)
    out.add(NegativeImage("downgrade", signed("downgrade", down, make_payload(size, 13)),
                          f"version {down} is lower than the running {base_version}", 8, INTACT, down))
    not_mcuboot = directory / "not-mcuboot.bin"
    not_mcuboot.write_bytes(b"\x7fELF" + make_payload(size, 14))
    out.add(NegativeImage("wrong-type", not_mcuboot, "not an MCUboot image (no image header): an unsupported "
                          "package type", spec.type_result, BAD_MAGIC, None))
    clean = signed("corrupt-hash-clean", new_version, make_payload(size, 15))
    corrupt = _corrupt(directory / "corrupt-hash.bin", clean, layout.header_size + size // 2)
    clean.unlink()
    out.add(NegativeImage("corrupt", corrupt, "one payload byte flipped after signing", spec.integrity_result,
                          BAD_HASH, new_version))
    for name, marker_name, why in (
        ("crash-on-boot", "crash", "boots, then crashes before confirming: the bootloader must revert it"),
        ("never-confirm", "never-confirm", "runs but never confirms itself: the next reset must revert it"),
    ):
        marker = IMAGE_MARKERS[marker_name]
        path = signed(name, new_version, make_payload(size - len(marker), 16) + marker)
        out.add(NegativeImage(name, path, why, 8, INTACT, new_version, marker=marker))
    return out
