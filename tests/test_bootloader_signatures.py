"""The virtual bootloader built with a key: only images signed with it boot or swap in; downgrades are refused
(but a revert to the older image still happens)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.flash_layout import FlashLayout, load_layout
from rig.mcuboot.imgtool_helpers import keygen, make_payload, sign_image
from rig.sim.bootloader import boot
from rig.sim.flash import Flash

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

TARGET = Path(__file__).resolve().parents[1] / "targets" / "virtual.toml"


@pytest.fixture(scope="module")
def layout() -> FlashLayout:
    return load_layout(TARGET)


@pytest.fixture(scope="module")
def signed(tmp_path_factory, layout):
    d = tmp_path_factory.mktemp("sig")
    right, wrong = keygen(d / "right.pem"), keygen(d / "wrong.pem")

    def image(name: str, version: str, seed: int, key: Path, slot: str = "secondary", pad: bool = True) -> bytes:
        return sign_image(d / f"{name}.bin", layout, version, make_payload(8_000, seed), key=key, slot=slot,
                          pad=pad and slot == "secondary", confirm=slot == "primary").read_bytes()

    return right.read_bytes(), {
        "old": image("old", "1.0.0", 1, right, slot="primary"),
        "new": image("new", "1.1.0", 2, right),
        "foreign": image("foreign", "1.1.0", 3, wrong),
        "older": image("older", "0.9.0", 4, right),
    }


def fresh(layout: FlashLayout, primary: bytes, secondary: bytes) -> Flash:
    flash = Flash(layout)
    buf = bytearray(flash.snapshot())
    for name, data in (("primary", primary), ("secondary", secondary)):
        off = layout.partition(name).offset
        buf[off:off + len(data)] = data
    flash.restore(bytes(buf))
    return flash


@pytest.mark.parametrize("candidate, why", [("foreign", "signature does not verify"), ("older", "is lower than")])
def test_untrusted_or_older_image_is_refused_and_the_old_one_boots(layout, signed, candidate, why):
    key, images = signed
    lines: list[str] = []
    result = boot(fresh(layout, images["old"], images[candidate]), layout, lines.append,
                  public_key=key, downgrade_prevention=True)
    assert result.image is not None and result.image.version == "1.0.0+0"
    assert any("secondary slot is not valid" in line and why in line for line in lines), lines


def test_trusted_upgrade_swaps_and_its_revert_brings_the_older_image_back(layout, signed):
    key, images = signed
    flash = fresh(layout, images["old"], images["new"])
    first = boot(flash, layout, lambda _: None, public_key=key, downgrade_prevention=True)
    assert first.swap == "test" and first.image.version == "1.1.0+0"
    second = boot(flash, layout, lambda _: None, public_key=key, downgrade_prevention=True)  # never confirmed
    assert second.swap == "revert" and second.image.version == "1.0.0+0"


def test_without_a_key_the_same_foreign_image_is_swapped_in(layout, signed):
    _, images = signed
    result = boot(fresh(layout, images["old"], images["foreign"]), layout, lambda _: None)
    assert result.image.version == "1.1.0+0"
