"""`rig inspect` as a subprocess: slots, trailers and the next swap from the probe; Object 5 once registered."""

from __future__ import annotations

import pytest

from cmd_helpers import HOST_SIM, make_image, rig, sim_board
from rig.mcuboot import mark_pending
from rig.sim.flash import Flash
from sim_board import layout

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset


def test_inspect_a_sim_board_shows_slots_trailers_next_swap_and_settings(tmp_path):
    board = sim_board(tmp_path / "board", make_image(tmp_path, "1.0.0"))
    try:
        sim = ["--sim-dir", str(board.directory)]
        assert rig("flash", str(make_image(tmp_path, "2.0.0", seed=2)), "--slot", "secondary", *sim,
                   cwd=tmp_path).returncode == 0
        done = rig("inspect", *sim, cwd=tmp_path)
    finally:
        board.stop()
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "primary: 1.0.0+0 intact" in out and "secondary: 2.0.0+0 intact" in out, out
    assert "next boot: no swap" in out, out
    assert "trailer: magic unset, image_ok unset" in out, out
    assert "settings:" in out and "first_version=1.0.0+0" in out, "the running firmware wrote its settings record"


def test_inspect_a_host_process_predicts_the_test_swap_and_reads_object5(tmp_path):
    place = ["--target", str(HOST_SIM), "--work-dir", str(tmp_path / "w")]
    assert rig("flash", str(make_image(tmp_path, "1.0.0")), *place, cwd=tmp_path).returncode == 0
    assert rig("flash", str(make_image(tmp_path, "3.0.0", seed=3)), "--slot", "secondary", *place,
               cwd=tmp_path).returncode == 0
    flash = Flash(layout(), path=tmp_path / "w" / "host_sim" / "flash.bin")
    mark_pending(flash, layout(), permanent=False)  # what the firmware writes before a reboot into the update
    flash.flush()
    done = rig("inspect", *place, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "secondary: 3.0.0+0 intact" in done.stdout
    assert "magic good" in done.stdout and "next boot: test swap" in done.stdout, done.stdout

    done = rig("inspect", "--wait", "30", *place, cwd=tmp_path)  # boots it: the test swap runs, it registers
    assert done.returncode == 0, done.stderr
    assert "State /5/0/3: 0 (Idle)" in done.stdout, done.stdout
    assert "Firmware Version /3/0/3: '3.0.0+0'" in done.stdout, done.stdout
