"""The swap-using-scratch bootloader on the flash model: test, revert, confirm, perm, refusal, resume."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from rig.flash_layout import FlashLayout, load_layout
from rig.mcuboot import SlotWriter, TrailerError, inspect_slots, mark_confirmed, mark_pending
from rig.mcuboot.imgtool_helpers import make_payload, run_imgtool, sign_image
from rig.sim.bootloader import boot
from sim_board import flash_holding
from rig.sim.flash import Flash, PowerCut

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

TARGET = Path(__file__).resolve().parents[1] / "targets" / "virtual.toml"


@pytest.fixture(scope="module")
def layout() -> FlashLayout:
    return load_layout(TARGET)


@pytest.fixture(scope="module")
def images(tmp_path_factory, layout) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("boot")
    return {
        "old": sign_image(d / "old.bin", layout, "1.0.0", make_payload(12_000, 1), confirm=True,
                          slot="primary").read_bytes(),
        "new": sign_image(d / "new.bin", layout, "1.1.0", make_payload(12_000, 2), pad=True).read_bytes(),
        "new_plain": sign_image(d / "newp.bin", layout, "1.2.0", make_payload(9_000, 3)).read_bytes(),
        # fits the slot but overlaps its trailer: imgtool only makes it for a bigger slot
        "huge": sign_image(d / "huge.bin", replace(layout, partitions={
            **layout.partitions, "secondary": replace(layout.partition("secondary"), size=0x80000)}),
            "9.0.0", make_payload(layout.partition("secondary").size - 0x200 - 1000, 4)).read_bytes(),
    }


def test_test_swap_then_revert(layout, images, tmp_path) -> None:
    flash = flash_holding(layout, images["old"], images["new"])
    lines: list[str] = []
    result = boot(flash, layout, lines.append)
    assert result.swap == "test" and result.image.version == "1.1.0+0"
    for expected in ("Swap type: test", "Starting swap using scratch algorithm.",
                     "Bootloader chainload address offset: 0x10000", "Image version: v1.1.0"):
        assert expected in lines
    state = inspect_slots(flash.read, layout)
    assert state.next_boot.swap == "revert" and state.secondary.version == "1.0.0+0"

    result = boot(flash, layout, lines.append)
    assert result.swap == "revert" and result.image.version == "1.0.0+0"
    state = inspect_slots(flash.read, layout)
    assert state.next_boot.swap == "none" and state.next_boot.matched
    assert state.primary_trailer.image_ok == "set" and state.primary_trailer.copy_done == "set"
    # the reverted primary slot, as imgtool sees it
    part = layout.partition("primary")
    dump = tmp_path / "reverted.bin"
    dump.write_bytes(flash.read(part.offset, part.size))
    info = json.loads(run_imgtool("dumpinfo", "-f", "json", str(dump)).stdout)
    assert info["header"]["version"] == "1.0.0+0"
    assert info["trailer"]["image_ok"] == 1 and info["trailer"]["copy_done"] == 1
    assert info["trailer"]["swap_info"] == state.primary_trailer.raw_swap_info == 0x04  # revert, image 0
    assert "correctly validated" in run_imgtool("verify", str(dump)).stdout


def test_confirmed_image_stays(layout, images) -> None:
    flash = flash_holding(layout, images["old"], images["new"])
    boot(flash, layout, lambda _: None)
    mark_confirmed(flash, layout)
    assert inspect_slots(flash.read, layout).next_boot.swap == "none"
    result = boot(flash, layout, lambda _: None)
    assert result.swap == "none" and result.image.version == "1.1.0+0"


def test_app_download_then_permanent_swap(layout, images) -> None:
    flash = flash_holding(layout, images["old"])
    writer = SlotWriter(flash, layout)
    writer.erase(len(images["new_plain"]))
    data = images["new_plain"]
    for i in range(0, len(data), 1000):  # blocks not aligned to the write size
        writer.write(data[i:i + 1000])
    assert writer.finish() == len(data)
    mark_pending(flash, layout, permanent=True)
    assert inspect_slots(flash.read, layout).next_boot.swap == "perm"
    result = boot(flash, layout, lambda _: None)
    assert result.swap == "perm" and result.image.version == "1.2.0+0"
    assert inspect_slots(flash.read, layout).next_boot.swap == "none"


def test_bad_hash_is_refused_and_erased(layout, images) -> None:
    bad = bytearray(images["new"])
    bad[layout.header_size + 5] ^= 0xFF
    flash = flash_holding(layout, images["old"], bytes(bad))
    lines: list[str] = []
    assert inspect_slots(flash.read, layout).next_boot.swap == "none"  # boot_validated_swap_type: NONE
    result = boot(flash, layout, lines.append)
    assert result.swap == "none" and result.image.version == "1.0.0+0"
    assert any("secondary slot is not valid" in line for line in lines)
    assert inspect_slots(flash.read, layout).secondary.state == "erased"


def test_image_larger_than_the_slot_room_is_refused(layout, images) -> None:
    flash = flash_holding(layout, images["old"])
    writer = SlotWriter(flash, layout)
    with pytest.raises(TrailerError, match="does not fit"):
        writer.erase(len(images["huge"]))
    part = layout.partition("secondary")
    buf = bytearray(flash.snapshot())
    buf[part.offset:part.offset + len(images["huge"])] = images["huge"]
    flash.restore(bytes(buf))
    mark_pending(flash, layout)
    result = boot(flash, layout, lambda _: None)
    assert result.swap == "none" and result.image.version == "1.0.0+0"


def test_resume_after_a_cut_in_the_middle(layout, images, tmp_path) -> None:
    flash = Flash(layout, path=tmp_path / "flash.bin")
    start = flash_holding(layout, images["old"], images["new"]).snapshot()
    flash.restore(start)
    flash.journal = []
    boot(flash, layout, lambda _: None)
    total = flash.ops
    flash.restore(start)
    flash.ops = 0
    flash.plan_cut(total // 2)
    with pytest.raises(PowerCut):
        boot(flash, layout, lambda _: None)
    flash.close()
    again = Flash(layout, path=tmp_path / "flash.bin")  # the file kept every completed op
    lines: list[str] = []
    result = boot(again, layout, lines.append)
    assert result.resumed and result.image.version == "1.1.0+0"
    assert any(line.startswith("Resuming an interrupted swap (test)") for line in lines)


def test_mark_pending_on_a_corrupt_trailer_erases_the_slot(layout, images) -> None:
    bad = bytearray(images["new"])
    bad[-3] ^= 0xFF  # damage the trailer magic
    flash = flash_holding(layout, images["old"], bytes(bad))
    with pytest.raises(TrailerError, match="bad magic"):
        mark_pending(flash, layout)
    assert inspect_slots(flash.read, layout).secondary.state == "erased"


def test_erase_order_follows_mcuboot(layout, images, tmp_path) -> None:
    """swap_misc.c swap_erase_trailer_sectors: trailer sectors last-first; swap_scratch.c: the scratch that held
    the trailer step's status is erased backwards (its trailer first). 1 KiB sectors make both span sectors."""
    small = replace(layout, sector_size=0x400, max_sectors=0)  # 0: MCUboot's automatic count, here 288 sectors
    primary, secondary = small.partition("primary"), small.partition("secondary")
    flash = flash_holding(small, images["old"], images["new"])
    flash.journal = []
    assert boot(flash, small, lambda _: None).image.version == "1.1.0+0"
    erases = [op.offset for op in flash.journal if op.kind == "erase"]
    for slot in (primary, secondary):  # a small image: the trailer sectors are erased on their own
        trailer = [o for o in erases if slot.end - 7 * 0x400 <= o < slot.end][:7]
        assert trailer == sorted(trailer, reverse=True) and len(set(trailer)) == 7, slot.name

    from rig.campaign.images import UNSIGNED_TLVS, max_payload
    size = max_payload(layout, UNSIGNED_TLVS)  # the image shares the trailer's sector: use_scratch
    old = sign_image(tmp_path / "o.bin", layout, "1.0.0", make_payload(size, 1), confirm=True, slot="primary")
    new = sign_image(tmp_path / "n.bin", layout, "1.1.0", make_payload(size, 2), pad=True)
    flash = flash_holding(layout, old.read_bytes(), new.read_bytes())
    flash.journal = []
    assert boot(flash, layout, lambda _: None).image.version == "1.1.0+0"
    scratch = layout.partition("scratch")
    in_scratch = [op.offset for op in flash.journal if op.kind == "erase" and scratch.offset <= op.offset < scratch.end]
    assert in_scratch[:2] == [scratch.offset, scratch.offset + 0x1000], "the scratch is erased forwards before a step"
    assert in_scratch[2:4] == [scratch.offset + 0x1000, scratch.offset], "and backwards after the trailer step"
