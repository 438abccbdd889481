"""Signed images as imgtool and Zephyr write them are accepted for the target's slot, or refused in one line.

Every file here is made by `imgtool sign` itself (its CLI, in process): unpadded
(zephyr.signed.bin), padded pending (--pad), confirmed (--confirm), with and
without --pad-header, for several --align / --max-align. What is wrong with a
refused one is named: too large for the mode's slot, padded for another slot
size, a trailer for another max-align, a padded package to download, truncated,
not an image at all. The last test runs the must-show of issue 15: `rig run`
on host_sim with two unpadded imgtool images.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from imgtool.main import imgtool

from cmd_helpers import HOST_SIM, rig
from rig.campaign.images import accept_image, given_images, max_payload
from rig.errors import RigError
from rig.flash_layout import load_layout
from rig.mcuboot.image_file import DOWNLOAD, FLASH, check_image_file
from sim_board import ROOT

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

VIRTUAL = load_layout(ROOT / "targets" / "virtual.toml")
MOVE = load_layout(ROOT / "targets" / "virtual_move.toml")


def signed(tmp_path, name: str, size: int = 30_000, version: str = "1.0.0", slot_size: int = 0x48000,
           *flags: str, pad_header: bool = True, seed: int = 1) -> bytes:
    raw, out = tmp_path / f"{name}.raw", tmp_path / f"{name}.bin"
    body = bytes((i * 31 + seed) & 0xFF for i in range(size))
    raw.write_bytes(body if pad_header else bytes(0x200) + body)
    args = ["sign", "--version", version, "--header-size", "0x200", "--slot-size", hex(slot_size), *flags]
    imgtool.main(args + (["--pad-header"] if pad_header else []) + [str(raw), str(out)], standalone_mode=False)
    return out.read_bytes()


@pytest.mark.parametrize("flags, pad_header, kind", [
    (("--align", "8"), True, "unpadded"),
    (("--align", "8"), False, "unpadded"),
    (("--align", "4", "--max-align", "8", "--pad"), True, "padded, pending"),
    (("--align", "8", "--confirm"), False, "padded, confirmed"),
    (("--align", "1"), True, "unpadded"),
])
def test_imgtool_images_are_accepted_for_the_slot(tmp_path, flags, pad_header, kind):
    data = signed(tmp_path, "img", 30_000, "1.2.3", 0x48000, *flags, pad_header=pad_header)
    for layout in (VIRTUAL, MOVE if "--pad" not in flags and "--confirm" not in flags else VIRTUAL):
        checked = check_image_file(data, layout, "primary", FLASH)
        assert checked.ok, checked.problem
        assert checked.version == "1.2.3+0" and checked.describe().endswith(kind)
    if kind == "unpadded":
        assert check_image_file(data, VIRTUAL, "secondary", DOWNLOAD).ok


def test_a_larger_max_align_is_accepted_by_a_target_that_has_it(tmp_path):
    data = signed(tmp_path, "w", 20_000, "1.0.0", 0x48000, "--align", "16", "--max-align", "16", "--confirm")
    wide = replace(VIRTUAL, write_size=16, max_align=16)
    assert check_image_file(data, wide, "primary", FLASH).ok
    problem = check_image_file(data, VIRTUAL, "primary", FLASH).problem
    assert "--max-align 16" in problem and "mcuboot.max_align is 8" in problem


@pytest.mark.parametrize("layout", [VIRTUAL, MOVE], ids=["swap-scratch", "swap-move"])
def test_the_largest_payload_fits_and_one_sector_more_does_not(tmp_path, layout):
    largest = max_payload(layout, tlv_size=40)
    slot = layout.partition("primary").size
    sectors = ("-M", str(layout.max_sectors))  # imgtool's default 128 would refuse what an auto target takes
    fits = signed(tmp_path, "big", largest, "1.0.0", slot, "--align", "8", *sectors)
    assert check_image_file(fits, layout, "secondary").ok
    over = signed(tmp_path, "over", largest + 8, "1.0.0", slot + 0x1000, "--align", "8", *sectors)
    problem = check_image_file(over, layout, "secondary").problem
    assert "does not fit the secondary slot" in problem and layout.mcuboot_mode in problem


def test_what_is_wrong_is_said_in_one_line(tmp_path):
    pending = signed(tmp_path, "p", 10_000, "2.0.0", 0x48000, "--align", "8", "--pad")
    assert "sign without --pad" in check_image_file(pending, VIRTUAL, "secondary", DOWNLOAD).problem
    other_slot = signed(tmp_path, "o", 10_000, "2.0.0", 0x40000, "--align", "8", "--pad")
    assert "padded for a slot of 0x40000 bytes" in check_image_file(other_slot, VIRTUAL, "secondary", FLASH).problem
    unpadded = signed(tmp_path, "u", 10_000, "2.0.0", 0x48000, "--align", "8")
    assert "truncated" in check_image_file(unpadded[:5000], VIRTUAL).problem
    assert "ELF" in check_image_file(b"\x7fELF" + bytes(200), VIRTUAL).problem
    assert "header magic 0x00000000" in check_image_file(bytes(4096), VIRTUAL).problem
    corrupt = bytearray(unpadded)
    corrupt[0x300] ^= 0xFF
    assert "bad-hash" in check_image_file(bytes(corrupt), VIRTUAL).problem
    assert check_image_file(bytes(corrupt), VIRTUAL, intact=False).ok  # rig update: the device must refuse it
    assert "larger than the secondary slot" in check_image_file(pending + bytes(8), VIRTUAL, "secondary", FLASH).problem


def test_given_images_name_the_option_and_the_file(tmp_path):
    base = tmp_path / "fw-1.0.0.bin"
    base.write_bytes(signed(tmp_path, "a", 20_000, "1.0.0", 0x48000, "--align", "8"))
    padded = tmp_path / "fw-2.0.0.bin"
    padded.write_bytes(signed(tmp_path, "b", 20_000, "2.0.0", 0x48000, "--align", "8", "--pad"))
    with pytest.raises(RigError, match=r"--new-image .*fw-2.0.0.bin: padded to the whole secondary slot"):
        given_images(base, padded, tmp_path / "fw", VIRTUAL)
    with pytest.raises(RigError, match="no such file"):
        accept_image(tmp_path / "nope.bin", VIRTUAL, "--base-image")


def test_rig_run_takes_unpadded_imgtool_images_on_host_sim(tmp_path):
    """Issue 15, must show: `imgtool sign` without --pad (header 0x200, slot 0x48000, align 8), two versions."""
    for version, seed in (("1.0.0", 1), ("2.0.0", 2)):
        (tmp_path / f"fw-{version}.bin").write_bytes(signed(tmp_path, version, 30_662 - 552, version, 0x48000,
                                                            "--align", "8", seed=seed))
    done = rig("run", "power-cut", "--target", str(HOST_SIM), "--base-image", str(tmp_path / "fw-1.0.0.bin"),
               "--new-image", str(tmp_path / "fw-2.0.0.bin"), "--points", "2", "--report-dir", str(tmp_path / "r"),
               cwd=tmp_path, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 cases: 3 passed" in done.stdout
