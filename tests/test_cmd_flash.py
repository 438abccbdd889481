"""`rig flash` and `rig dump` as subprocesses, on a `rig sim` board (sim probe) and a host-process target (file probe)."""

from __future__ import annotations

import pytest

from cmd_helpers import HOST_SIM, make_image, one_line_error, rig, sim_board
from rig.mcuboot import read_image
from sim_board import layout

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset


@pytest.fixture
def board(tmp_path):
    b = sim_board(tmp_path / "board", make_image(tmp_path, "1.0.0"))
    yield b
    b.stop()


def test_flash_a_slot_then_dump_it_back(board, tmp_path):
    sim = ["--sim-dir", str(board.directory)]
    image = make_image(tmp_path, "2.1.0", seed=5)
    done = rig("flash", str(image), "--slot", "secondary", *sim, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "MCUboot image 2.1.0+0, intact" in done.stdout and "slot secondary at 0x58000" in done.stdout
    assert board.slot_image("secondary").version == "2.1.0+0", "the image is in the board's secondary slot"
    assert board.slot_image("primary").version == "1.0.0+0", "primary untouched"

    done = rig("dump", "secondary", "-o", str(tmp_path / "s.bin"), *sim, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with board.client as c:
        assert (tmp_path / "s.bin").read_bytes() == c.read_partition("secondary")
    done = rig("dump", "0x58000:0x200", "-o", str(tmp_path / "hdr.bin"), *sim, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "hdr.bin").read_bytes() == image.read_bytes()[:0x200]


def test_flash_and_dump_a_host_process_flash_file(tmp_path):
    place = ["--target", str(HOST_SIM), "--work-dir", str(tmp_path / "w")]
    image = make_image(tmp_path, "1.4.0", seed=3)
    done = rig("flash", str(image), *place, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    flash = (tmp_path / "w" / "host_sim" / "flash.bin").read_bytes()
    lay = layout()
    primary = lay.partition("primary")
    assert read_image(flash[primary.offset:primary.offset + primary.size], lay).version == "1.4.0+0"
    done = rig("dump", "primary", "-o", str(tmp_path / "p.bin"), *place, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "p.bin").read_bytes() == flash[primary.offset:primary.offset + primary.size]


def test_flash_and_dump_bad_input_is_one_line(tmp_path):
    place = ["--target", str(HOST_SIM), "--work-dir", str(tmp_path / "w")]
    one_line_error(rig("flash", str(tmp_path / "missing.bin"), *place, cwd=tmp_path), "missing.bin", "no such file")
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (0x48000 + 1))
    one_line_error(rig("flash", str(big), *place, cwd=tmp_path), "does not fit slot primary")
    one_line_error(rig("dump", "nvs", "-o", "x.bin", *place, cwd=tmp_path), "'nvs'", "primary")
    one_line_error(rig("dump", "0x0:zz", "-o", "x.bin", *place, cwd=tmp_path), "ADDR:LEN")
    one_line_error(rig("dump", "0xff000:0x2000", "-o", "x.bin", *place, cwd=tmp_path), "outside flash")
