"""The pyocd Python API on a virtual board: program, read a slot, reset, RTT, power cuts.

The session runs in this process (as rig.probe.pyocd_probe runs it); the board
is a real supervisor subprocess, and every effect is checked over its control
channel or console, not through the plugin itself.
"""

from __future__ import annotations

import time

import pytest
from pyocd.core import exceptions
from pyocd.core.helpers import ConnectHelper
from pyocd.debug.rtt import RTTControlBlock
from pyocd.flash.file_programmer import FileProgrammer

from probe_plugin_helpers import Console, board_env
from rig.mcuboot import read_image
from rig.sim import probe_plugin
from sim_board import layout, make_image, start_board

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset


@pytest.fixture
def board(tmp_path, monkeypatch):
    b = start_board(tmp_path / "board", image=make_image(tmp_path, "1.0.0"))
    monkeypatch.delenv("RIG_SIM_BOARDS", raising=False)
    monkeypatch.setenv("RIG_SIM_REGISTRY", board_env(b, tmp_path / "registry")["RIG_SIM_REGISTRY"])
    probe_plugin.install()  # this process may see a stale egg-info without the entry point
    yield b
    b.stop()


def open_session(board, **options):
    session = ConnectHelper.session_with_chosen_probe(unique_id=board.unique_id, target_override="rig_virtual",
                                                      blocking=False, options=options)
    assert session is not None, f"pyocd found no probe {board.unique_id}"
    session.open()
    return session


def read_rtt_until(up, needle: bytes, timeout: float = 10.0) -> bytes:
    """Poll the up channel as pyocd's viewer does (RTT is a polled protocol), bounded by `timeout`."""
    data, deadline = b"", time.monotonic() + timeout
    while needle not in data:
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} not in RTT within {timeout} s; got {data[-400:]!r}")
        chunk = up.read()
        data += chunk
        if not chunk:
            time.sleep(0.005)
    return data


def test_api_programs_reads_a_slot_resets_and_reads_the_boot_log_over_rtt(board, tmp_path):
    lay = layout()
    primary = lay.partition("primary")
    image = make_image(tmp_path, "2.0.0", seed=2)
    with board.client as c:
        before = c.status()
    session = open_session(board)
    try:
        target = session.board.target
        with board.client as c:
            after = c.status()
        assert after["run_state"] == "running" and after["pid"] == before["pid"], "attach must neither halt nor reset"

        FileProgrammer(session).program(str(image), file_format="bin", base_address=lay.base + primary.offset)
        slot = bytes(target.read_memory_block8(lay.base + primary.offset, primary.size))
        assert read_image(slot, lay).version == "2.0.0+0"
        with board.client as c:
            assert c.read_partition("primary") == slot, "the probe reads what the supervisor's flash holds"

        control_block = RTTControlBlock.from_target(target)
        control_block.start()
        up = control_block.up_channels[0]
        assert up.name == "Terminal"
        target.reset()
        log = read_rtt_until(up, b"[app] firmware 2.0.0")
        assert b"[boot] Image version: v2.0.0" in log
    finally:
        session.close()


def test_api_connect_mode_halt_stops_the_mcu_until_the_session_ends(board):
    session = open_session(board, connect_mode="halt")
    try:
        with board.client as c:
            assert c.status()["run_state"] == "halted"
        assert session.board.target.is_halted()
    finally:
        session.close()
    with board.client as c:
        assert c.status()["run_state"] == "running", "closing the session resumes the core"


def test_api_read_while_unpowered_raises_a_clear_error(board):
    lay = layout()
    session = open_session(board)
    try:
        with board.client as c:
            c.cut()
        with pytest.raises(exceptions.TransferError, match="target unpowered"):
            session.board.target.read32(lay.base + lay.partition("primary").offset)
    finally:
        session.close()
    with pytest.raises(exceptions.Error) as failed:
        open_session(board)
    chain = f"{failed.value} {failed.value.__cause__}"
    assert "target unpowered" in chain, chain


def test_api_session_breaks_at_a_cut_and_a_fresh_one_reconnects_after_power_on(board):
    lay = layout()
    magic_at = lay.base + lay.partition("primary").offset
    session = open_session(board)
    try:
        target = session.board.target
        assert target.read32(magic_at) == 0x96F3B83D
        with board.client as c, Console(board.console_port) as console:
            c.cut()
            c.power_on()
            console.wait_for("[app] firmware 1.0.0")
        with pytest.raises(exceptions.TransferError, match="lost power since this session connected"):
            target.read32(magic_at)
    finally:
        session.close()
    fresh = open_session(board)
    try:
        assert fresh.board.target.read32(magic_at) == 0x96F3B83D
        assert not fresh.board.target.is_halted()
    finally:
        fresh.close()
