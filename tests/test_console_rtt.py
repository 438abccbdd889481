"""The RTT console on the virtual board through pyocd's rigsim probe plugin: lines, reboots, a vanished probe, the CLI."""

from __future__ import annotations

import os

import pytest

from cmd_helpers import rig_background, sim_board
from probe_plugin_helpers import board_env
from rig.console.base import ConsoleClosed
from rig.console.registry import create_console
from rig.sim import probe_plugin
from sim_board import make_image

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset


@pytest.fixture
def board(tmp_path, monkeypatch):
    b = sim_board(tmp_path / "board", make_image(tmp_path, "1.0.0"))
    monkeypatch.delenv("RIG_SIM_BOARDS", raising=False)
    monkeypatch.setenv("RIG_SIM_REGISTRY", board_env(b, tmp_path / "registry")["RIG_SIM_REGISTRY"])
    probe_plugin.install()  # this process may see a stale egg-info without the entry point
    yield b
    b.stop()


def test_rtt_lines_arrive_in_the_timeline_and_log_across_a_power_cycle(board, tmp_path, timeline):
    log = tmp_path / "rtt.log"
    console = create_console("rtt", {"unique_id": board.unique_id, "target_type": "rig_virtual"},
                             name="v1", timeline=timeline, log_path=log)
    try:
        with board.client as c:
            c.reset()
        console.expect(r"\[app\] firmware 1\.0\.0\+0", timeout=20)
        assert console.attaches == 1
        with board.client as c:  # a cut wipes RAM and the debug port: the console reconnects by itself
            c.cut()
            c.power_on()
        assert console.wait_attached(2, timeout=20), "the control block was found again after the cut"
        console.mark()
        with board.client as c:  # lines logged while it reconnected are the sim probe's loss; new ones arrive
            c.reset()
        console.expect(r"\[boot\] jumping to image 1\.0\.0\+0", timeout=20)
    finally:
        console.close()
    lines = [e.data["line"] for e in timeline.events() if e.kind == "console" and e.data["place"] == "v1"]
    assert any("[boot] Image version: v1.0.0" in line for line in lines)
    assert "[boot] jumping to image 1.0.0+0" in log.read_text()


def test_rtt_console_ends_when_the_board_vanishes(board, timeline):
    console = create_console("rtt", {"unique_id": board.unique_id, "target_type": "rig_virtual"}, timeline=timeline)
    try:
        board.stop()
        with pytest.raises(ConsoleClosed, match="disconnected|closed|no probe"):
            console.expect("never printed", timeout=30)
    finally:
        console.close()


def test_rtt_console_with_no_such_probe_is_a_clear_error(board, timeline):
    from rig.console.base import ConsoleError

    with pytest.raises(ConsoleError, match="no probe with id vsim-00000000"):
        create_console("rtt", {"unique_id": "vsim-00000000", "target_type": "rig_virtual"}, timeline=timeline)


def test_rig_console_streams_rtt_of_a_rig_file_place(board, tmp_path):
    rig_file = tmp_path / "rig.toml"
    rig_file.write_text(f"""
[rig]
lock_dir = "{tmp_path}"
[places.v1]
target = "virtual"
power = {{ backend = "sim", control_port = {board.control_port} }}
probe = {{ backend = "sim", control_port = {board.control_port} }}
console = {{ backend = "rtt", unique_id = "{board.unique_id}", target_type = "rig_virtual" }}
""")
    env = {**os.environ, "RIG_FILE": str(rig_file)}
    run = rig_background("console", "--place", "v1", cwd=tmp_path, env=env)
    try:
        assert "rtt://" in run.proc.stderr.readline()
        with board.client as c:
            c.reset()
        run.wait_line("[app] firmware 1.0.0+0")
    finally:
        run.stop()
