"""Package formats (rig.packages): the [package] table, the command format driving a real vendor tool, the file
format, and the device side of the example vendor format checked against bytes built here by hand.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from rig.config import load_target
from rig.errors import RigError
from rig.package_spec import PackageSpec
from rig.packages import package_format
from rig.sim.app import vendor_package as vpk

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "targets" / "host_sim_vendor.toml"
BASE_TABLE = '[package]\nformat = "command"\nmake = ["{python}", "-c", "pass"]\n'


def spec_error(text: str) -> str:
    import tomllib

    with pytest.raises(RigError) as info:
        PackageSpec.from_target(tomllib.loads(text), "t.toml")
    message = str(info.value)
    assert "\n" not in message and message.startswith("t.toml: package."), message
    return message


def test_the_package_table_is_checked_in_one_line():
    assert "format: must be one of mcuboot, file, command" in spec_error('[package]\nformat = "zip"\n')
    assert "make: missing" in spec_error('[package]\nformat = "command"\n')
    assert "unknown placeholder {payloud}" in spec_error('[package]\nformat = "command"\nmake = ["t", "{payloud}"]\n')
    assert "no package.bad command" in spec_error(BASE_TABLE + 'negatives = ["corrupt"]\n')
    assert "unknown kind 'rotten'" in spec_error(BASE_TABLE + 'bad = ["t", "{kind}"]\nnegatives = ["rotten"]\n')
    assert "not for format = 'mcuboot'" in spec_error('[package]\nversion = ["t", "{package}"]\n')
    assert "integrity_result: must be an Update Result" in spec_error('[package]\nintegrity_result = 0\n')
    assert "version_from_name: only for format" in spec_error(BASE_TABLE + 'version_from_name = "(.*)"\n')


@pytest.fixture(scope="module")
def vendor_made(tmp_path_factory):
    target = load_target(VENDOR)
    fmt = package_format(target.data, VENDOR, target.layout)
    directory = tmp_path_factory.mktemp("vendor")
    pair = fmt.make_pair(directory, 3000, "1.0.0", "1.1.0")
    negatives = fmt.negatives(directory / "neg", 3000, "1.0.0", "1.1.0")
    return fmt, pair, negatives


def test_the_command_format_makes_the_pair_with_the_targets_tool(vendor_made):
    fmt, pair, _ = vendor_made
    assert pair.base.read_bytes()[:4] == b"VPK1" and pair.new.read_bytes()[:4] == b"VPK1"
    assert fmt.accept(pair.new, "image").version == "1.1.0"
    # what a known start programs: the image inside the base package (an MCUboot image for this board)
    assert pair.flash_form == pair.base_flash and pair.base_flash.read_bytes() == pair.base.read_bytes()[64:]
    assert pair.base_flash.read_bytes()[:4] == bytes.fromhex("3db8f396")


def test_bad_packages_are_the_kinds_the_tool_makes_and_the_rest_say_why(vendor_made):
    _, pair, negatives = vendor_made
    assert set(negatives.made) == {"corrupt", "truncated", "wrong-type", "crash-on-boot", "never-confirm", "too-large"}
    assert {k: n.expected_result for k, n in negatives.made.items()} == {
        "corrupt": 5, "truncated": 5, "wrong-type": 6, "crash-on-boot": 8, "never-confirm": 8, "too-large": 2}
    assert "does not make 'wrong-key' packages" in negatives.missing["wrong-key"]
    # too-large: a good package one sector past lwm2m.max_package_size (0x48000), made with package.make
    assert negatives.made["too-large"].path.stat().st_size > 0x48000 + 4096
    assert negatives.made["wrong-type"].path.read_bytes()[:4] != b"VPK1"


@pytest.mark.parametrize("limit, words", [(None, "declares no lwm2m.max_package_size"),
                                          ('"none"', "has no slot limit")])
def test_no_too_large_package_without_a_size_to_exceed(tmp_path, limit, words):
    text = VENDOR.read_text().replace("max_package_size = 0x48000", "" if limit is None else f"max_package_size = {limit}")
    target_file = tmp_path / "t.toml"
    target_file.write_text(text)
    target = load_target(target_file)
    negatives = package_format(target.data, target_file, target.layout).negatives(tmp_path / "n", 1000, "1.0.0",
                                                                                    "1.1.0")
    assert "too-large" not in negatives.made and words in negatives.missing["too-large"]


def test_a_failing_tool_is_one_line_naming_the_key_and_its_words(tmp_path):
    text = VENDOR.read_text().replace('"make", "--target"', '"make", "--nonsense", "--target"')
    target_file = tmp_path / "t.toml"
    target_file.write_text(text)
    target = load_target(target_file)
    with pytest.raises(RigError) as info:
        package_format(target.data, target_file, target.layout).make_pair(tmp_path / "f", 1000, "1.0.0", "1.1.0")
    message = str(info.value)
    assert "\n" not in message and "package.make" in message and "exited 2" in message and "--nonsense" in message


def test_the_file_format_sends_files_and_reads_versions_from_names_or_a_command(tmp_path):
    text = VENDOR.read_text().split("\n[package]\n")[0] + (
        '\n[package]\nformat = "file"\nversion_from_name = \'fw-(?P<version>[0-9.]+)\\.vpk\'\n'
        '[package.negatives]\ncorrupt = "bad.vpk"\n') + "[flash]" + VENDOR.read_text().split("[flash]", 1)[1]
    target_file = tmp_path / "t.toml"
    target_file.write_text(text)
    (tmp_path / "bad.vpk").write_bytes(b"x")
    (tmp_path / "fw-1.0.vpk").write_bytes(b"a")
    (tmp_path / "fw-1.2.vpk").write_bytes(b"b")
    target = load_target(target_file)
    fmt = package_format(target.data, target_file, target.layout)
    with pytest.raises(RigError, match="give --base-image and --new-image"):
        fmt.make_pair(tmp_path / "f", 1000, "1.0.0", "1.1.0")
    pair = fmt.given_pair(tmp_path / "fw-1.0.vpk", tmp_path / "fw-1.2.vpk", tmp_path / "served")
    assert (pair.base_version, pair.new_version, pair.flash_form) == ("1.0", "1.2", None)
    with pytest.raises(RigError, match="which version is it"):
        fmt.accept(tmp_path / "bad.vpk", "image")
    negatives = fmt.negatives(tmp_path / "n", 1000, "1.0", "1.2")
    assert set(negatives.made) == {"corrupt"} and negatives.made["corrupt"].expected_result == 5
    assert "names no 'truncated' package" in negatives.missing["truncated"]


def hand_built(payload: bytes, version: bytes, magic: bytes = b"VPK1") -> bytes:
    """The VPK1 layout of targets/README.md, written out here with struct, not with the vendor's code."""
    head = magic + struct.pack("<HHII", 64, 0, len(payload), zlib.crc32(payload)) + version.ljust(32, b"\0") + bytes(12)
    return head + struct.pack("<I", zlib.crc32(head)) + payload


def test_the_vendor_tool_writes_the_documented_layout(tmp_path):
    payload = bytes(range(200)) * 10
    (tmp_path / "app.bin").write_bytes(payload)
    subprocess.run([sys.executable, "-m", "rig.sim.vendor_pack", "make", "--target", str(VENDOR), "--version", "2.3",
                    "--payload", "app.bin", "-o", "app.vpk"], cwd=tmp_path, check=True, timeout=60)
    package = (tmp_path / "app.vpk").read_bytes()
    assert package == hand_built(package[64:], b"2.3")
    version = subprocess.run([sys.executable, "-m", "rig.sim.vendor_pack", "version", "app.vpk"], cwd=tmp_path,
                             capture_output=True, text=True, check=True, timeout=60).stdout
    assert version.strip() == "2.3"


def test_the_device_refuses_damaged_and_foreign_packages_with_their_results():
    payload = b"image" * 100
    good = hand_built(payload, b"1.1")
    header = vpk.parse_header(good)
    assert header.version == "1.1" and header.payload_size == len(payload)
    vpk.check_payload(header, good[64:])
    for raw, result in ((hand_built(payload, b"1.1", magic=b"ELF\x7f"), 6),
                        (good[:60] + b"\0\0\0\0" + good[64:], 5)):
        with pytest.raises(vpk.PackageError) as info:
            vpk.parse_header(raw)
        assert info.value.result == result
    for payload_bytes in (good[64:-1], good[64:-1] + b"X"):
        with pytest.raises(vpk.PackageError) as info:
            vpk.check_payload(header, payload_bytes)
        assert info.value.result == 5
    assert [vpk.vendor_version(v) for v in ("1.0.0", "1.2.3", "1.0.0+4", "2.0.0+0")] == ["1.0", "1.2.3", "1.0.0+4", "2.0"]


def test_the_annotated_template_of_the_targets_readme_is_a_valid_target(tmp_path):
    text = (ROOT / "targets" / "README.md").read_text().split("### Annotated template")[1]
    (tmp_path / "client.toml").write_text(text.split("```toml\n")[1].split("```")[0])
    target = load_target(tmp_path / "client.toml")
    assert target.kind == "process" and "mcuboot" not in target.data
    assert package_format(target.data, tmp_path / "client.toml", target.layout).name == "file"
