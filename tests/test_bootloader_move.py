"""The swap-using-move bootloader, and loader.c's edge cases in both modes, on the flash model.

Each boot's result is also read back with the rig's checker (rig.mcuboot), which
was written apart from the device's own code: the two must agree on what the next
boot does, including the cases where real bootutil surprises (a failed swap
writes the primary's image_ok; a swap type no case knows halts MCUboot; an
interrupted revert restarts from the fallback trailer).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.flash_layout import FlashLayout, load_layout
from rig.mcuboot import inspect_slots
from rig.mcuboot.imgtool_helpers import make_payload, sign_image
from rig.mcuboot.trailer import SET, TrailerLayout
from rig.sim.bootloader import boot
from sim_board import flash_holding
from rig.sim.bootutil.public import set_confirmed, set_pending
from rig.sim.flash import Flash, PowerCut

TARGETS = Path(__file__).resolve().parents[1] / "targets"
MOVE = load_layout(TARGETS / "virtual_move.toml")
SCRATCH = load_layout(TARGETS / "virtual.toml")


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict[tuple[str, str], bytes]:
    d = tmp_path_factory.mktemp("move")
    out = {}
    for lay in (MOVE, SCRATCH):
        mode = lay.mcuboot_mode
        out[mode, "old"] = sign_image(d / f"{mode}-old.bin", lay, "1.0.0", make_payload(20_000, 1), confirm=True,
                                      slot="primary").read_bytes()
        out[mode, "new"] = sign_image(d / f"{mode}-new.bin", lay, "1.1.0", make_payload(30_000, 2)).read_bytes()
    return out


def next_swap(flash: Flash, layout: FlashLayout) -> str:
    return inspect_slots(flash.read, layout, tolerant=True).next_boot.swap


def test_move_test_swap_confirm_and_revert(images):
    flash = flash_holding(MOVE, images["swap-move", "old"], images["swap-move", "new"])
    set_pending(flash, MOVE)
    assert next_swap(flash, MOVE) == "test"
    lines: list[str] = []
    result = boot(flash, MOVE, lines.append)
    assert result.swap == "test" and result.image.version == "1.1.0+0"
    assert "Starting swap using move algorithm." in lines and "Image version: v1.1.0" in lines
    report = inspect_slots(flash.read, MOVE)
    assert report.secondary.version == "1.0.0+0" and report.next_boot.swap == "revert"
    assert report.fallback_magic == "good", "an upgrade leaves the fallback trailer"
    snapshot = flash.snapshot()
    assert boot(flash, MOVE, lines.append).image.version == "1.0.0+0"  # not confirmed: reverted
    assert next_swap(flash, MOVE) == "none" and inspect_slots(flash.read, MOVE).primary_trailer.image_ok == SET
    flash.restore(snapshot)
    assert set_confirmed(flash, MOVE)
    assert next_swap(flash, MOVE) == "none" and boot(flash, MOVE, lines.append).image.version == "1.1.0+0"


def test_move_permanent_swap(images):
    flash = flash_holding(MOVE, images["swap-move", "old"], images["swap-move", "new"])
    set_pending(flash, MOVE, permanent=True)
    assert next_swap(flash, MOVE) == "perm"
    assert boot(flash, MOVE, lambda _: None).image.version == "1.1.0+0"
    assert next_swap(flash, MOVE) == "none"


@pytest.mark.parametrize("at", [3, 30, 75, 140])
def test_move_resumes_after_a_cut_in_the_move_or_the_swap(images, at):
    flash = flash_holding(MOVE, images["swap-move", "old"], images["swap-move", "new"])
    set_pending(flash, MOVE)
    flash.ops = 0
    flash.plan_cut(at)
    with pytest.raises(PowerCut):
        boot(flash, MOVE, lambda _: None)
    decision = inspect_slots(flash.read, MOVE, tolerant=True).next_boot
    assert decision.swap == "test", decision.describe()
    result = boot(flash, MOVE, lambda _: None)
    assert result.image.version == "1.1.0+0" and inspect_slots(flash.read, MOVE).secondary.version == "1.0.0+0"


def test_move_revert_cut_after_the_primary_trailer_erase_restarts_from_the_fallback(images):
    """swap_move.c swap_status_source: neither trailer good, fallback good -> rewritten as a revert, resumed."""
    flash = flash_holding(MOVE, images["swap-move", "old"], images["swap-move", "new"])
    set_pending(flash, MOVE)
    boot(flash, MOVE, lambda _: None)
    trailer_sectors = -(-TrailerLayout.for_slot(MOVE, MOVE.partition("primary").size).size // MOVE.sector_size)
    flash.ops = 0
    flash.plan_cut(trailer_sectors)  # the revert's first write after erasing the primary trailer
    with pytest.raises(PowerCut):
        boot(flash, MOVE, lambda _: None)
    report = inspect_slots(flash.read, MOVE, tolerant=True)
    assert report.primary_trailer.magic == "unset" and report.secondary_trailer.magic == "unset"
    assert report.next_boot.swap == "revert" and "fallback" in report.next_boot.reason
    lines: list[str] = []
    assert boot(flash, MOVE, lines.append).image.version == "1.0.0+0"
    assert any("fallback trailer" in line for line in lines)
    assert next_swap(flash, MOVE) == "none"


def set_up_trailer(flash: Flash, layout: FlashLayout, swap_info: int) -> None:
    """A primary trailer as swap_status_init leaves it before the first step: swap_info, swap_size, magic."""
    part = layout.partition("primary")
    tl = TrailerLayout.for_slot(layout, part.size)
    erase_from = tl.status_off // layout.sector_size * layout.sector_size
    flash.erase(part.offset + erase_from, part.size - erase_from)
    flash.program(part.offset + tl.swap_info_off, tl.field(bytes([swap_info])))
    flash.program(part.offset + tl.swap_size_off, tl.field((20_552).to_bytes(4, "little")))
    flash.program(part.offset + tl.magic_write_off, bytes(tl.magic_field - 16) + bytes.fromhex(
        "77c295f360d2ef7f3552500f2cb67980"))


@pytest.mark.parametrize("layout", [SCRATCH, MOVE], ids=["swap-scratch", "swap-move"])
def test_set_up_trailer_with_an_invalid_secondary_fails_and_writes_image_ok(images, layout):
    """loader.c: bs->swap_type set, secondary invalid -> BOOT_SWAP_TYPE_FAIL -> swap_set_image_ok on the primary."""
    mode = layout.mcuboot_mode
    flash = flash_holding(layout, images[mode, "old"][:20_552])
    set_up_trailer(flash, layout, 0x02)
    decision = inspect_slots(flash.read, layout).next_boot
    assert decision.swap == "fail" and decision.writes == ("primary image_ok",)
    result = boot(flash, layout, lambda _: None)
    assert result.swap == "fail" and result.image.version == "1.0.0+0"
    assert inspect_slots(flash.read, layout).primary_trailer.image_ok == SET


@pytest.mark.parametrize("layout", [SCRATCH, MOVE], ids=["swap-scratch", "swap-move"])
def test_swap_info_nibble_zero_with_a_valid_secondary_halts_mcuboot(images, layout):
    """swap_read_status keeps the raw nibble 0; context_boot_go's switch has no case for it: panic, nothing boots."""
    mode = layout.mcuboot_mode
    flash = flash_holding(layout, images[mode, "old"][:20_552], images[mode, "new"])
    set_up_trailer(flash, layout, 0x00)
    assert inspect_slots(flash.read, layout).next_boot.swap == "panic"
    result = boot(flash, layout, lambda _: None)
    assert result.image is None and result.swap == "panic"


@pytest.mark.parametrize("layout", [SCRATCH, MOVE], ids=["swap-scratch", "swap-move"])
def test_a_resumed_swap_runs_with_the_raw_swap_info_nibble(images, layout):
    """swap_misc.c swap_read_status: the swap type of a resumed swap is swap_info's low nibble as it is (here 5,
    "fail"): the swap is finished, but as no upgrade, so neither image_ok nor copy_done is written."""
    mode = layout.mcuboot_mode
    flash = flash_holding(layout, images[mode, "old"], images[mode, "new"])
    set_pending(flash, layout)
    flash.ops = 0
    flash.plan_cut(40)
    with pytest.raises(PowerCut):
        boot(flash, layout, lambda _: None)
    part = layout.partition("primary")
    tl = TrailerLayout.for_slot(layout, part.size)
    chip = bytearray(flash.snapshot())
    chip[part.offset + tl.swap_info_off] = 0x05  # as a torn or foreign write could leave it
    flash.restore(bytes(chip))
    decision = inspect_slots(flash.read, layout, tolerant=True).next_boot
    assert decision.resume and decision.swap == "fail" and "no image_ok/copy_done" in decision.reason
    result = boot(flash, layout, lambda _: None)
    assert result.resumed and result.swap == "fail" and result.image.version == "1.1.0+0"
    after = inspect_slots(flash.read, layout, tolerant=True).primary_trailer
    assert after.copy_done == "unset" and after.image_ok == "unset"
