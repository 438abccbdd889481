"""The rig's MCUboot decoder returns a verdict for any bytes a slot can hold, never an exception.

A board's flash after a torn write, a dump of another firmware, a half-erased
trailer: `rig inspect` and the flash verdict must still say what MCUboot will do.
Hypothesis draws the trailer areas (and sometimes an image header) of both slots
and the scratch, for both upgrade modes; the edge cases bootutil handles in its
own way are pinned explicitly below.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pytest

from rig.flash_layout import FlashLayout
from rig.mcuboot import inspect_slots
from rig.mcuboot.image_file import check_image_file
from rig.mcuboot.trailer import TrailerLayout, boot_magic

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

SECTOR, SLOT = 0x400, 0x4000


def layout(mode: str, write_size: int, max_align: int) -> FlashLayout:
    parts = {"primary": [0x0, SLOT], "secondary": [SLOT, SLOT]}
    if mode == "swap-scratch":
        parts["scratch"] = [2 * SLOT, 0x800]
    return FlashLayout.from_target({"flash": {"size": 3 * SLOT, "sector_size": SECTOR, "write_size": write_size,
                                              "partitions": parts},
                                    "mcuboot": {"mode": mode, "max_align": max_align}}, "fuzz-target")


LAYOUTS = st.sampled_from([layout(m, ws, ma) for m in ("swap-scratch", "swap-move")
                           for ws, ma in ((1, 8), (8, 8), (4, 16), (32, 32))])
HEADER = b"\x3d\xb8\xf3\x96"  # the image magic, so that some draws decode past it


def flash_with(lay: FlashLayout, tails: list[bytes], heads: list[bytes]) -> bytes:
    chip = bytearray(b"\xff" * lay.size)
    for name, tail, head in zip(("primary", "secondary", "scratch"), tails, heads):
        if name not in lay.partitions:
            continue
        part = lay.partition(name)
        chip[part.end - len(tail):part.end] = tail
        chip[part.offset:part.offset + len(head)] = head
    return bytes(chip)


def _edit(size: int, edits: list[tuple[int, int]]) -> bytes:
    tail = bytearray(b"\xff" * size)
    for off, value in edits:
        tail[off] = value
    return bytes(tail)


def tail_bytes(size: int):
    """An erased trailer with some bytes set (flags, status, swap_info, magic bytes), or noise: as cuts leave them."""
    values = st.sampled_from([0x01, 0x02, 0x03, 0x00, 0x04, 0x05, 0x10, 0x77, 0xC2]) | st.integers(0, 255)
    offsets = st.integers(0, size - 1) | st.integers(max(0, size - 64), size - 1)
    edited = st.lists(st.tuples(offsets, values), max_size=48).map(lambda e: _edit(size, e))
    return edited | st.binary(min_size=size, max_size=size)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lay=LAYOUTS, data=st.data())
def test_any_trailer_bytes_give_a_verdict(lay, data):
    size = TrailerLayout.for_slot(lay, SLOT).size
    tails = [data.draw(tail_bytes(size)) for _ in range(3)]
    tails = [t[:-16] + boot_magic(lay.max_align) if data.draw(st.booleans()) else t for t in tails]
    heads = [data.draw(st.just(b"") | st.binary(max_size=64).map(lambda b: HEADER + b)) for _ in range(3)]
    chip = flash_with(lay, tails, heads)
    report = inspect_slots(lambda off, n: chip[off:off + n], lay)
    assert report.next_boot.swap and isinstance(report.describe(), str)
    assert report.primary_trailer.swap_type_name and report.primary_trailer.status.describe()


@settings(max_examples=200, deadline=None)
@given(lay=LAYOUTS, blob=st.binary(max_size=600), magic=st.booleans())
def test_any_file_gives_a_one_line_answer(lay, blob, magic):
    data = (HEADER + blob) if magic else blob
    checked = check_image_file(data, lay, "secondary")
    assert "\n" not in checked.problem and isinstance(checked.describe(), str)


def primary_with_swap_info(lay: FlashLayout, swap_info: int, magic: bool = True) -> bytes:
    tl = TrailerLayout.for_slot(lay, SLOT)
    slot = bytearray(b"\xff" * SLOT)
    slot[tl.swap_info_off] = swap_info
    if magic:
        slot[tl.magic_off:] = bytes.fromhex("77c295f360d2ef7f3552500f2cb67980")
    return bytes(slot)


def test_swap_info_nibble_zero_is_a_verdict_not_a_keyerror():
    """A primary set up for a swap whose swap_info low nibble is 0: MCUboot panics if the secondary is valid,
    marks the swap failed (image_ok) if it is not; the rig says so instead of raising KeyError: 0."""
    for mode in ("swap-scratch", "swap-move"):
        lay = layout(mode, 8, 8)
        chip = bytearray(b"\xff" * lay.size)
        chip[0:SLOT] = primary_with_swap_info(lay, 0x00)
        report = inspect_slots(lambda off, n, chip=chip: bytes(chip[off:off + n]), lay)
        assert report.primary_trailer.swap_type == 0 and report.primary_trailer.swap_type_name == "0x0"
        assert report.next_boot.swap == "fail" and report.next_boot.writes == ("primary image_ok",), mode

