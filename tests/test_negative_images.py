"""Negative packages: each one, decoded back from the file with rig.mcuboot, is bad for the reason it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.campaign.negative_images import lower_version, make_negative_images, read_back
from rig.config import load_target
from rig.errors import RigError
from rig.mcuboot import read_image
from rig.mcuboot.image import INTACT

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

TARGET = Path(__file__).resolve().parents[1] / "targets" / "virtual.toml"
SIZE = 20000


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    layout = load_target(TARGET).layout
    return layout, make_negative_images(tmp_path_factory.mktemp("neg"), layout, SIZE, "1.0.0", "1.1.0")


def test_every_kind_is_made(made):
    _, images = made
    assert set(images) == {"wrong-key", "truncated", "too-large", "downgrade", "wrong-type", "corrupt",
                           "crash-on-boot", "never-confirm"}
    assert {n: i.expected_result for n, i in images.items()} == {
        "wrong-key": 8, "truncated": 5, "too-large": 2, "downgrade": 8, "wrong-type": 6, "corrupt": 5,
        "crash-on-boot": 8, "never-confirm": 8}


@pytest.mark.parametrize("name", ["wrong-key", "truncated", "too-large", "wrong-type", "corrupt"])
def test_broken_images_are_refused_by_the_decoder_for_their_reason(made, name):
    layout, images = made
    image = images[name]
    info = read_back(image, layout)
    assert info.state == image.decoded_state != INTACT, (name, info.describe())
    if image.version:
        assert info.version.startswith(image.version)


def test_wrong_key_verifies_with_its_own_key_only(made):
    layout, images = made
    image = images["wrong-key"]
    slot = layout.partition("secondary").size
    data = image.path.read_bytes().ljust(slot, b"\xff")
    own = image.path.parent / "wrong-key.pem"
    assert read_image(data, layout, public_key=own.read_bytes()).state == INTACT
    assert read_image(data, layout).state == INTACT  # without a key only the hash is checked: it holds


def test_too_large_does_not_fit_the_secondary_slot(made):
    layout, images = made
    assert images["too-large"].path.stat().st_size > layout.partition("secondary").size


def test_downgrade_is_intact_but_older_than_the_base(made):
    layout, images = made
    info = read_back(images["downgrade"], layout)
    assert info.state == INTACT and info.version_tuple[:3] < (1, 0, 0)


@pytest.mark.parametrize("name", ["crash-on-boot", "never-confirm"])
def test_behaviour_images_are_intact_and_carry_their_marker(made, name):
    layout, images = made
    info = read_back(images[name], layout)
    assert info.state == INTACT and images[name].marker in info.payload


def test_lower_version_and_its_errors():
    assert lower_version("1.2.3") == "1.2.2" and lower_version("1.0.0") == "0.9.9" and lower_version("2.1.0+4") == "2.0.9"
    with pytest.raises(RigError, match="no version is lower"):
        lower_version("0.0.0")
    with pytest.raises(RigError, match="not MAJOR"):
        lower_version("one")
