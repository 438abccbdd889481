"""`rig console` as a subprocess: lines of a `rig sim` board and of a host process, Ctrl-C, a vanished port."""

from __future__ import annotations

import signal

import pytest

from cmd_helpers import HOST_SIM, make_image, one_line_error, rig, rig_background, sim_board

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset


def test_console_streams_boot_lines_into_stdout_and_the_log_until_ctrl_c(tmp_path):
    board = sim_board(tmp_path / "board", make_image(tmp_path, "1.0.0"))
    log = tmp_path / "console.log"
    run = rig_background("console", "--sim-dir", str(board.directory), "--log", str(log), cwd=tmp_path)
    try:
        run.proc.stderr.readline()  # "# console ... of ...": the port is open, no line can be missed now
        with board.client as c:
            c.reset()
        line = run.wait_line("[boot] jumping to image 1.0.0+0")
        run.proc.send_signal(signal.SIGINT)
        code, err = run.finish()
        assert code == 0, err
        assert line in log.read_text(), "every streamed line is in the log file too"
    finally:
        run.stop()
        board.stop()


def test_console_of_a_vanished_board_ends_with_one_line(tmp_path):
    board = sim_board(tmp_path / "board", make_image(tmp_path, "1.0.0"))
    run = rig_background("console", "--sim-dir", str(board.directory), cwd=tmp_path)
    try:
        run.proc.stderr.readline()
        board.stop()
        code, err = run.finish()
        assert code == 2, err
        assert len(err.strip().splitlines()) == 1 and "is gone" in err and "Traceback" not in err, err
    finally:
        run.stop()


def test_console_of_a_process_target_powers_it_on_and_stops_it(tmp_path):
    place = ["--target", str(HOST_SIM), "--work-dir", str(tmp_path / "w")]
    assert rig("flash", str(make_image(tmp_path, "1.2.0")), *place, cwd=tmp_path).returncode == 0
    run = rig_background("console", *place, cwd=tmp_path)
    try:
        run.wait_line("[boot] jumping to image 1.2.0+0")
        run.proc.send_signal(signal.SIGINT)
        code, err = run.finish()
        assert code == 0, err
    finally:
        run.stop()
    lock = tmp_path / "w" / "host_sim" / "rig-place-host_sim.lock"
    assert lock.read_text() == "", "the place lock was released"


def test_console_bad_timeout_is_one_line(tmp_path):
    one_line_error(rig("console", "--timeout", "0", "--target", str(HOST_SIM), cwd=tmp_path), "--timeout")
