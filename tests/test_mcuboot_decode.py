"""The MCUboot decoder against imgtool itself: verify and dumpinfo on the same files must agree with us."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from rig.flash_layout import FlashLayout, load_layout
from rig.mcuboot import read_image, read_trailer, TrailerLayout
from rig.mcuboot.imgtool_helpers import keygen, make_payload, run_imgtool, sign_image
from rig.mcuboot.swap_decision import next_boot
from rig.mcuboot.trailer import GOOD, SET, UNSET

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

TARGET = Path(__file__).resolve().parents[1] / "targets" / "virtual.toml"


@pytest.fixture(scope="module")
def layout() -> FlashLayout:
    return load_layout(TARGET)


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("keys")
    return {"ec": keygen(d / "ec256-TEST-ONLY.pem"), "ed": keygen(d / "ed25519-TEST-ONLY.pem", "ed25519"),
            "other": keygen(d / "other-TEST-ONLY.pem")}


@pytest.fixture(scope="module")
def images(tmp_path_factory, layout, keys) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("img")
    payload = make_payload(20_000, 1)
    return {
        "plain": sign_image(d / "plain.bin", layout, "1.2.3+4", payload, keys["ec"]),
        "pending": sign_image(d / "pending.bin", layout, "1.3.0", payload, keys["ec"], pad=True),
        "confirmed": sign_image(d / "confirmed.bin", layout, "1.3.1", payload, keys["ec"], confirm=True),
        "ed": sign_image(d / "ed.bin", layout, "2.0.0", payload, keys["ed"]),
    }


def dumpinfo(path: Path) -> dict:
    return json.loads(run_imgtool("dumpinfo", "-f", "json", str(path)).stdout)


def verify(path: Path, key: Path | None) -> str:
    args = ["verify"] + (["-k", str(key)] if key else []) + [str(path)]
    return run_imgtool(*args, check=False).stdout


def as_slot(layout: FlashLayout, data: bytes) -> bytes:
    size = layout.partition("secondary").size
    return data + b"\xff" * (size - len(data))


def test_intact_image_matches_imgtool(layout, images, keys) -> None:
    data = images["plain"].read_bytes()
    info = read_image(as_slot(layout, data), layout, public_key=keys["ec"].read_bytes())
    assert info.intact and info.signature_ok is True and info.signature_type == "ecdsa"
    dump = dumpinfo(images["plain"])
    assert info.version == dump["header"]["version"] == "1.2.3+4"
    for ours, theirs in (("hdr_size", "hdr_size"), ("img_size", "img_size"), ("load_addr", "load_addr"),
                         ("protected_tlv_size", "protected_tlv_size"), ("flags", "flags")):
        assert getattr(info, ours) == dump["header"][theirs]
    assert [t.type for t in info.tlvs if not t.protected] == [t["type"] for t in dump["tlv_area"]["tlvs"]]
    out = verify(images["plain"], keys["ec"])
    assert "correctly validated" in out and info.computed_hash.hex() in out
    assert info.total_size == len(data)


def test_corrupted_hash_is_refused_by_both(layout, images, tmp_path) -> None:
    data = bytearray(images["plain"].read_bytes())
    data[layout.header_size + 100] ^= 0x01
    bad = tmp_path / "bad.bin"
    bad.write_bytes(data)
    info = read_image(as_slot(layout, bytes(data)), layout)
    assert info.state == "bad-hash" and not info.intact and info.version == "1.2.3+4"
    assert "invalid hash" in verify(bad, None)


def test_wrong_key_is_a_bad_signature(layout, images, keys) -> None:
    slot = as_slot(layout, images["plain"].read_bytes())
    info = read_image(slot, layout, public_key=keys["other"].read_bytes())
    assert info.state == "bad-signature" and info.hash_ok
    assert "No signature found" in verify(images["plain"], keys["other"])
    ed = read_image(as_slot(layout, images["ed"].read_bytes()), layout, public_key=keys["ed"].read_bytes())
    assert ed.intact and ed.signature_type == "ed25519" and ed.signature_ok


def test_erased_slot(layout, tmp_path) -> None:
    slot = b"\xff" * layout.partition("secondary").size
    assert read_image(slot, layout).state == "erased"
    path = tmp_path / "erased.bin"
    path.write_bytes(slot[:4096])
    assert "Invalid image magic" in verify(path, None)


def test_image_larger_than_the_slot_room_is_refused(layout, tmp_path) -> None:
    layout = replace(layout, max_sectors=128)  # a 3120-byte trailer (BOOT_MAX_IMG_SECTORS 128)
    data = sign_image(tmp_path / "big.bin", layout, "1.0.0", make_payload(22_000, 3)).read_bytes()
    assert 0x6000 - 3120 < len(data) < 0x6000  # fits the slot, overlaps its trailer
    small = replace(layout, partitions={**layout.partitions,
                                        "secondary": replace(layout.partition("secondary"), size=0x6000)})
    info = read_image(data + b"\xff" * (0x6000 - len(data)), small)
    assert info.state == "too-large"


@pytest.mark.parametrize("name, image_ok, expect_swap", [("pending", UNSET, "test"), ("confirmed", SET, "perm")])
def test_trailer_of_padded_images_matches_dumpinfo(layout, images, name, image_ok, expect_swap) -> None:
    data = images[name].read_bytes()
    assert len(data) == layout.partition("secondary").size
    tl = TrailerLayout.for_slot(layout, len(data))
    assert tl.size == layout.max_sectors * 3 * layout.write_size + 4 * 8 + 16
    trailer = read_trailer(data, tl)
    dump = dumpinfo(images[name])["trailer"]
    assert trailer.magic == GOOD and bytes.fromhex(dump["magic"]) == data[-16:]
    assert trailer.raw_image_ok == dump["image_ok"] and trailer.image_ok == image_ok
    assert trailer.raw_copy_done == dump["copy_done"] and trailer.copy_done == UNSET
    assert trailer.raw_swap_info == dump["swap_info"]
    erased = read_trailer(b"\xff" * len(data), tl)
    decision = next_boot(erased, trailer, None, secondary_valid=read_image(data, layout).intact)
    assert decision.swap == expect_swap and not decision.resume


def test_large_max_align_uses_the_alternative_magic(layout, tmp_path) -> None:
    wide = replace(layout, max_align=32)
    path = sign_image(tmp_path / "w.bin", wide, "1.0.0", make_payload(5000, 2), pad=True)
    data = path.read_bytes()
    assert data[-16:-14] == (32).to_bytes(2, "little")
    assert read_trailer(data, TrailerLayout.for_slot(wide, len(data))).magic == GOOD
    assert read_trailer(data, TrailerLayout.for_slot(layout, len(data))).magic == "bad"
    assert dumpinfo(path)["trailer"]["image_ok"] == 0xFF
