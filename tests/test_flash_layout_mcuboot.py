"""The [mcuboot] table of a target file: the sector count's automatic rule, and one-line errors."""

from __future__ import annotations

import pytest

from rig.errors import RigError
from rig.flash_layout import FlashLayout, load_layout
from sim_board import ROOT


def target(**mcuboot) -> dict:
    return {"flash": {"size": 0x100000, "sector_size": 0x1000, "write_size": 8,
                      "partitions": {"primary": [0x10000, 0x69000], "secondary": [0x79000, 0x69000]}},
            "mcuboot": {"mode": "swap-move", **mcuboot}}


def test_the_sector_count_defaults_to_mcuboots_automatic_rule():
    assert FlashLayout.from_target(target(), "t").max_sectors == 105  # 0x69000 / 0x1000, as Zephyr's AUTO
    assert FlashLayout.from_target(target(max_sectors=128), "t").max_sectors == 128
    assert load_layout(ROOT / "targets" / "frdm_k64f.toml").max_sectors == 105
    assert load_layout(ROOT / "targets" / "virtual.toml").max_sectors == 72


@pytest.mark.parametrize("mcuboot, words", [
    ({"max_sectors": 64}, ["mcuboot.max_sectors 64", "105 sectors", "refuse every swap"]),
    ({"max_sector": 128}, ["unknown key mcuboot.max_sector", "max_sectors"]),
    ({"mode": "swap-offset"}, ["mcuboot.mode 'swap-offset'", "swap-scratch, swap-move"]),
])
def test_a_wrong_mcuboot_table_is_one_line(mcuboot, words):
    with pytest.raises(RigError) as err:
        FlashLayout.from_target(target(**mcuboot), "board.toml")
    message = str(err.value)
    assert message.startswith("board.toml: ") and "\n" not in message
    assert all(w in message for w in words), message
