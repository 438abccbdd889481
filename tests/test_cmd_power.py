"""`rig power` as a subprocess: a `rig sim` board keeps what it was switched to; a process target holds only while rig runs."""

from __future__ import annotations

import pytest

from cmd_helpers import HOST_SIM, make_image, one_line_error, rig, sim_board

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset


@pytest.fixture
def board(tmp_path):
    b = sim_board(tmp_path / "board", make_image(tmp_path, "1.0.0"))
    yield b
    b.stop()


def test_power_off_on_and_cycle_reach_the_sim_board_and_stay(board, tmp_path):
    sim = ["--sim-dir", str(board.directory)]
    with board.client as c:
        first_pid = c.status()["pid"]
    done = rig("power", "off", *sim, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "power off (sim)" in done.stdout
    with board.client as c:
        assert c.status()["power"] == "off", "the board stays off after the command ended"
    done = rig("power", "on", *sim, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with board.client as c:
        on_pid = c.status()["pid"]
        assert c.status()["power"] == "on", "sim power is persistent: `rig power on` leaves it on"
    assert on_pid != first_pid
    done = rig("power", "cycle", "--off-time", "0.1", *sim, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with board.client as c:
        status = c.status()
    assert status["power"] == "on" and status["pid"] not in (first_pid, on_pid), "a cycle starts a new MCU process"


def test_power_on_a_process_target_holds_then_applies_the_safe_state(tmp_path):
    done = rig("power", "on", "--hold", "0.2", "--target", str(HOST_SIM), "--work-dir", str(tmp_path / "w"),
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "power on (process)" in done.stdout and "then safe state off" in done.stdout


def test_power_bad_input_is_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("RIG_FILE", raising=False)
    one_line_error(rig("power", "on", "--place", "bench-1", cwd=tmp_path), "no rig file", "--rig FILE")
    one_line_error(rig("power", "on", "--sim-dir", str(tmp_path / "none"), cwd=tmp_path), "board.json", "rig sim")
    one_line_error(rig("power", "on", cwd=tmp_path), "rig sim", "--sim-dir")
    one_line_error(rig("power", "cycle", "--off-time", "-1", "--target", str(HOST_SIM), cwd=tmp_path), "--off-time")
