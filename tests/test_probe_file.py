"""FileProbe on a real flash file: bin/hex/elf programming with sector erase, erase, reads, partition dumps."""

from __future__ import annotations

from pathlib import Path

import pytest
from intelhex import IntelHex

from rig.flash_layout import FlashLayout, Partition
from rig.probe.base import ProbeError, read_partition
from rig.probe.file_probe import FileProbe

LAYOUT = FlashLayout(
    base=0x0, size=0x10000, sector_size=0x1000, write_size=1, rewrite_allowed=True, erased_value=0xFF,
    partitions={"boot": Partition("boot", 0, 0x4000), "primary": Partition("primary", 0x4000, 0x6000),
                "secondary": Partition("secondary", 0xA000, 0x6000)},
    mcuboot_mode="swap-move", header_size=0x200, max_align=8,
)


def test_probe_file_program_bin_erases_touched_sectors(tmp_path: Path, timeline):
    flash = tmp_path / "work" / "flash.bin"
    probe = FileProbe(flash, LAYOUT, name="native-1", timeline=timeline)
    (tmp_path / "a.bin").write_bytes(b"\x00" * 0x1800)
    probe.program(tmp_path / "a.bin", 0x4000)
    (tmp_path / "b.bin").write_bytes(b"\xAA" * 0x10)
    probe.program(tmp_path / "b.bin", 0x4100)  # erases sector 0x4000 first: the zeros around it go back to 0xff
    data = flash.read_bytes()
    assert len(data) == 0x10000
    assert data[0x4100:0x4110] == b"\xAA" * 0x10
    assert data[0x4000:0x4100] == b"\xff" * 0x100 and data[0x4110:0x5000] == b"\xff" * 0xEF0
    assert data[0x5000:0x5800] == b"\x00" * 0x800, "sector 0x5000 was not touched by the second image"
    read_partition(probe, LAYOUT, "primary", tmp_path / "primary.bin")
    assert (tmp_path / "primary.bin").read_bytes() == data[0x4000:0xA000]
    assert [e.data["action"] for e in timeline.events("probe")] == ["program", "program", "read"]


def test_probe_file_program_hex_and_erase(tmp_path: Path):
    hexfile = IntelHex()
    hexfile.puts(0xA000, b"MCUBOOT")
    hexfile.puts(0xC000, b"\x01\x02")
    hexfile.write_hex_file(str(tmp_path / "img.hex"))
    probe = FileProbe(tmp_path / "flash.bin", LAYOUT)
    probe.program(tmp_path / "img.hex")
    probe.read(0xA000, 7, tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == b"MCUBOOT"
    probe.erase(0xA000, 0x1000)
    probe.read(0xA000, 7, tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == b"\xff" * 7
    probe.read(0xC000, 2, tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == b"\x01\x02"


def test_probe_file_errors(tmp_path: Path):
    probe = FileProbe(tmp_path / "flash.bin", LAYOUT)
    (tmp_path / "a.bin").write_bytes(b"x" * 16)
    with pytest.raises(ProbeError, match="a .bin image has no address"):
        probe.program(tmp_path / "a.bin")
    with pytest.raises(ProbeError, match=r"range 0xfff8\+0x10 is outside flash 0x0..0x10000"):
        probe.program(tmp_path / "a.bin", 0xFFF8)
    with pytest.raises(ProbeError, match="not aligned to the 0x1000 sector size"):
        probe.erase(0x100, 0x1000)
    with pytest.raises(ProbeError, match="image .*missing.hex not found"):
        probe.program(tmp_path / "missing.hex")
    (tmp_path / "bad.hex").write_text(":zz\n")
    with pytest.raises(ProbeError, match="not a valid hex image"):
        probe.program(tmp_path / "bad.hex")
