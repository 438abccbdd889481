"""Trailers made by imgtool, decoded by the rig for every write size, max_align, swap mode and sector count.

imgtool (its ordinary `sign` command, run in process for speed) pads images to
the slot with a trailer for --align 1..32, --max-align 8/16/32 and -M (MCUboot's
BOOT_MAX_IMG_SECTORS). For each combination and both upgrade modes, with the
sector count 128 and MCUboot's automatic one (the slot's own sectors):
- the trailer size agrees with imgtool's: an image that leaves exactly the trailer
  free is accepted by both, one write unit more is refused by both;
- the fields decode (magic for that max_align, image_ok pending/confirmed);
- status entries written where MCUboot's C writes them (boot_status_internal_off,
  computed here from the C formulas, not from the rig) decode to the idx/state
  swap_read_status_bytes of that mode reads back, and the next boot resumes.
"""

from __future__ import annotations

import click
import pytest
from imgtool.main import imgtool

from rig.flash_layout import FlashLayout
from rig.mcuboot.image_file import FLASH, check_image_file
from rig.mcuboot.swap_decision import next_boot
from rig.mcuboot.trailer import GOOD, SET, UNSET, TrailerLayout, read_trailer

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

SLOT, SECTOR, HEADER, UNSIGNED_TLVS = 0x20000, 0x1000, 0x200, 40
COMBOS = [(ws, ma) for ws in (1, 2, 4, 8, 16, 32) for ma in (8, 16, 32) if ma >= ws]
MODES = ("swap-scratch", "swap-move")
SECTOR_COUNTS = (128, 0)  # 0: MCUboot's automatic rule (the slot's 32 sectors)


def make_layout(write_size: int, max_align: int, mode: str, max_sectors: int) -> FlashLayout:
    parts = {"primary": [0x0, SLOT], "secondary": [SLOT, SLOT]}
    if mode == "swap-scratch":
        parts["scratch"] = [2 * SLOT, 0x4000]
    mcuboot = {"mode": mode, "header_size": HEADER, "max_align": max_align}
    if max_sectors:
        mcuboot["max_sectors"] = max_sectors
    return FlashLayout.from_target({"flash": {"size": 0x80000, "sector_size": SECTOR, "write_size": write_size,
                                              "partitions": parts}, "mcuboot": mcuboot}, "test-target")


def c_trailer_sz(write_size: int, max_align: int, sectors: int) -> int:
    """bootutil_misc.c boot_trailer_sz: status (sectors * 3 entries) + BOOT_MAX_ALIGN * 4 + BOOT_MAGIC_ALIGN_SIZE."""
    return sectors * 3 * write_size + max_align * 4 + -(-16 // max_align) * max_align


def sign(tmp_path, payload_size: int, ws: int, ma: int, sectors: int, *flags: str) -> bytes:
    raw, out = tmp_path / "app.bin", tmp_path / "signed.bin"
    raw.write_bytes(bytes((i * 7) & 0xFF for i in range(payload_size)))
    imgtool.main(["sign", "--version", "1.2.3", "--header-size", hex(HEADER), "--pad-header", "--slot-size",
                  hex(SLOT), "--align", str(ws), "--max-align", str(ma), "-M", str(sectors), *flags,
                  str(raw), str(out)], standalone_mode=False)
    return out.read_bytes()


def put(data: bytearray, off: int, value: int, ws: int) -> None:
    data[off:off + ws] = bytes([value]) + b"\xff" * (ws - 1)


@pytest.mark.parametrize("sectors", SECTOR_COUNTS, ids=["M128", "auto"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ws, ma", COMBOS, ids=[f"align{ws}-max{ma}" for ws, ma in COMBOS])
def test_imgtool_trailer_decodes(tmp_path, ws, ma, mode, sectors):
    layout = make_layout(ws, ma, mode, sectors)
    m = layout.max_sectors
    assert m == (sectors or SLOT // SECTOR)
    tl = TrailerLayout.for_slot(layout, SLOT)
    trailer_sz = c_trailer_sz(ws, ma, m)
    assert tl.size == trailer_sz

    room = SLOT - trailer_sz - HEADER - UNSIGNED_TLVS  # image + trailer == slot: imgtool's largest
    confirmed = sign(tmp_path, room, ws, ma, m, "--confirm")
    assert len(confirmed) == SLOT
    with pytest.raises(click.UsageError, match="exceeds requested size"):
        sign(tmp_path, room + ws, ws, ma, m, "--pad")
    checked = check_image_file(confirmed, layout, "primary", FLASH)
    assert checked.info.total_size == SLOT - trailer_sz and checked.trailer.image_ok == SET
    if mode == "swap-scratch" and trailer_sz <= SECTOR:
        assert checked.ok, checked.problem
    elif mode == "swap-scratch":  # a trailer over several sectors: the image must end before its first one
        assert "spans" in checked.problem and f"0x{SLOT - -(-trailer_sz // SECTOR) * SECTOR:x}" in checked.problem
    else:  # swap-move swaps less than imgtool lets through: the move and fallback sectors
        assert "does not fit" in checked.problem and "swap-move" in checked.problem

    pending = sign(tmp_path, 4000, ws, ma, m, "--pad")
    p_tr, c_tr = read_trailer(pending, tl), read_trailer(confirmed, tl)
    assert (p_tr.magic, p_tr.image_ok, p_tr.copy_done, p_tr.swap_type_name) == (GOOD, UNSET, UNSET, "none")
    assert (c_tr.magic, c_tr.image_ok) == (GOOD, SET) and not p_tr.status.found and not c_tr.status.found
    other = TrailerLayout(SLOT, ws, 16 if ma != 16 else 8, m * 3, 0xFF, mode)  # another max_align's magic
    assert read_trailer(pending, other).magic == "bad"
    erased = read_trailer(b"\xff" * SLOT, tl)
    secondary_ok = check_image_file(pending, layout, "secondary", FLASH).ok
    assert secondary_ok
    assert next_boot(erased, p_tr, None, secondary_ok, mode=mode).swap == "test"
    assert next_boot(erased, c_tr, None, secondary_ok, mode=mode).swap == "perm"

    status_off = SLOT - trailer_sz
    primary = bytearray(confirmed)
    put(primary, SLOT - -(-16 // ma) * ma - 3 * ma, 0x02, ws)  # swap_info: a test swap under way
    if mode == "swap-scratch":  # 3 entries per step, forwards; 5 written: step 2 stopped after state 2
        for i in range(5):
            put(primary, status_off + i * ws, i % 3 + 1, ws)
        expect = ("", 2, 3)
    else:  # m move entries, then 2 per swap step; 3 moves and 3 swap entries: swap step 2 stopped after state 1
        for i in range(3):
            put(primary, status_off + i * ws, 1, ws)
        for i in range(3):
            put(primary, status_off + (m + i) * ws, i % 2 + 1, ws)
        expect = ("swap", 2, 2)
    status = read_trailer(bytes(primary), tl).status
    assert (status.op, status.idx, status.state) == expect
    decision = next_boot(read_trailer(bytes(primary), tl), erased, None, True, mode=mode)
    assert decision.resume and decision.swap == "test" and decision.source == "primary"


@pytest.mark.parametrize("moves, expect", [(1, ("move", 2, 1)), (17, ("move", 18, 1)), (32, ("swap", 1, 1))])
def test_swap_move_status_during_the_move_phase(moves, expect):
    """swap_move.c: found_idx < BOOT_MAX_IMG_SECTORS -> op move, idx found_idx + 1; == -> swap, idx 1 state 1."""
    layout = make_layout(8, 8, "swap-move", 0)
    tl = TrailerLayout.for_slot(layout, SLOT)
    slot = bytearray(b"\xff" * SLOT)
    for i in range(moves):
        put(slot, tl.status_off + i * 8, 1, 8)
    status = read_trailer(bytes(slot), tl).status
    assert (status.op, status.idx, status.state) == expect


def test_a_wrong_sector_count_misplaces_the_status():
    """The same bytes read with 128 sectors instead of the auto 32 land elsewhere: MCUboot's idx 1 is not the rig's."""
    auto = make_layout(8, 8, "swap-scratch", 0)
    slot = bytearray(b"\xff" * SLOT)
    tl = TrailerLayout.for_slot(auto, SLOT)
    for i in range(2):
        put(slot, tl.status_off + i * 8, i + 1, 8)
    right = read_trailer(bytes(slot), tl).status
    assert (right.idx, right.state) == (1, 3)
    wrong = read_trailer(bytes(slot), TrailerLayout.for_slot(make_layout(8, 8, "swap-scratch", 128), SLOT)).status
    assert (wrong.idx, wrong.state) == (97, 3)  # entry (128 - 32) * 3 + 2 of the larger area
