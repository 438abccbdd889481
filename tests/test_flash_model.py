"""The NOR flash model: erase/program rules, the rewrite rule, op counting, whole and torn cuts, the file backing."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.errors import RigError
from rig.flash_layout import FlashLayout, load_layout
from rig.sim.flash import Flash, FlashError, PowerCut

TARGET = Path(__file__).resolve().parents[1] / "targets" / "virtual.toml"


@pytest.fixture
def layout() -> FlashLayout:
    return load_layout(TARGET)


def test_new_flash_is_erased_and_program_only_clears_bits(layout: FlashLayout) -> None:
    flash = Flash(layout)
    assert flash.read(0, 16) == b"\xff" * 16
    flash.program(8, b"\x0f" * 8)
    assert flash.read(8, 8) == b"\x0f" * 8
    assert flash.ops == 1


def test_rewrite_forbidden_unless_target_allows(layout: FlashLayout) -> None:
    flash = Flash(layout)
    flash.program(0, b"\xf0" * 8)
    with pytest.raises(FlashError, match="does not allow rewriting"):
        flash.program(0, b"\x0f" * 8)
    nrf = FlashLayout(**{**layout.__dict__, "rewrite_allowed": True})
    flash = Flash(nrf)
    flash.program(0, b"\xf0" * 8)
    flash.program(0, b"\x3c" * 8)
    assert flash.read(0, 8) == b"\x30" * 8


def test_erase_restores_erased_value_and_counts_one_op_per_sector(layout: FlashLayout) -> None:
    flash = Flash(layout)
    flash.program(0x1000, b"\x00" * 4096)
    flash.program(0x2000, b"\x00" * 8)
    flash.erase(0x1000, 0x2000)
    assert flash.read(0x1000, 0x2000) == b"\xff" * 0x2000
    assert flash.ops == 4


def test_misaligned_ops_are_refused(layout: FlashLayout) -> None:
    flash = Flash(layout)
    with pytest.raises(FlashError):
        flash.program(4, b"\x00" * 8)
    with pytest.raises(FlashError):
        flash.erase(0x800, 0x1000)


def test_whole_cut_leaves_the_op_undone(layout: FlashLayout) -> None:
    flash = Flash(layout)
    flash.plan_cut(1)
    flash.program(0, b"\x00" * 8)
    with pytest.raises(PowerCut) as cut:
        flash.program(8, b"\x00" * 8)
    assert cut.value.at_op == 1 and cut.value.kind == "program"
    assert flash.read(8, 8) == b"\xff" * 8
    flash.program(8, b"\x00" * 8)  # the plan fired once; power is back


def test_torn_program_changes_a_seeded_subset_of_bits(layout: FlashLayout) -> None:
    results = []
    for seed in (1, 2):
        flash = Flash(layout)
        flash.plan_cut(0, torn=True, seed=seed)
        with pytest.raises(PowerCut):
            flash.program(0, b"\x00" * 1024)
        results.append(flash.read(0, 1024))
    for data in results:
        assert data != b"\x00" * 1024 and data != b"\xff" * 1024
    assert results[0] != results[1]
    again = Flash(layout)
    again.plan_cut(0, torn=True, seed=1)
    with pytest.raises(PowerCut):
        again.program(0, b"\x00" * 1024)
    assert again.read(0, 1024) == results[0]


def test_torn_erase_leaves_the_sector_partly_erased(layout: FlashLayout) -> None:
    partial = 0
    for seed in range(6):
        flash = Flash(layout)
        flash.program(0, b"\x00" * 4096)
        flash.plan_cut(1, torn=True, seed=seed)
        with pytest.raises(PowerCut):
            flash.erase(0, 4096)
        data = flash.read(0, 4096)
        assert set(data) <= {0x00, 0xFF}
        partial += data not in (b"\x00" * 4096, b"\xff" * 4096)
    assert partial >= 4


def test_file_backed_flash_keeps_writes_without_flush(layout: FlashLayout, tmp_path: Path) -> None:
    path = tmp_path / "flash.bin"
    flash = Flash(layout, path=path)
    assert path.stat().st_size == layout.size
    flash.program(0x10000, b"\x12" * 8)
    assert path.read_bytes()[0x10000:0x10008] == b"\x12" * 8  # MAP_SHARED: visible to other readers at once
    flash.close()
    assert Flash(layout, path=path).read(0x10000, 8) == b"\x12" * 8


def test_file_of_wrong_size_is_a_rig_error(layout: FlashLayout, tmp_path: Path) -> None:
    path = tmp_path / "flash.bin"
    path.write_bytes(b"\xff" * 100)
    with pytest.raises(RigError, match="100 bytes"):
        Flash(layout, path=path)


def test_layout_errors_name_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    text = TARGET.read_text().replace("sector_size = 4096", "sector_size = 3000")
    bad.write_text(text)
    with pytest.raises(RigError, match=r"bad\.toml.*sector_size"):
        load_layout(bad)
    bad.write_text(TARGET.read_text().replace("primary = [0x10000, 0x48000]", "primary = [0x10000, 0x50000]"))
    with pytest.raises(RigError, match="flash.partitions.secondary overlaps|overlaps"):
        load_layout(bad)
    layout = load_layout(TARGET)
    with pytest.raises(RigError, match="no partition 'nope'"):
        layout.partition("nope")
