"""The virtual board's supervisor as a real subprocess: power, console over socket://, the debug port."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import serial

from rig.sim.control import SupervisorClient, SupervisorError
from rig.sim.defects import DEFECTS
from sim_board import ROOT, TARGET, layout, make_image, start_board

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset


def read_until(port: serial.SerialBase, needle: bytes, timeout: float) -> bytes:
    """Console bytes up to and including the first line containing `needle` (bounded by `timeout`)."""
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline:
        seen += port.read_until(b"\n")
        if needle in seen:
            return seen
    raise AssertionError(f"{needle!r} not on the console within {timeout} s; saw {seen[-400:]!r}")


def test_sim_power_console_and_debug_port_through_socket_url(tmp_path):
    image = make_image(tmp_path, "1.0.0")
    board = start_board(tmp_path / "board", "--off")
    try:
        with board.client as c:
            info = c.info()
            assert info.unique_id == board.unique_id and info.target == "virtual" and info.power == "off"
            with pytest.raises(SupervisorError, match="target unpowered"):
                c.read(info.flash_base, 16)
            with pytest.raises(SupervisorError, match="target unpowered"):
                c.halt()
            # connect under reset, program the primary slot like a probe would, then let it run
            c.power_on(halted=True)
            assert c.status()["run_state"] == "reset"
            primary_offset, _ = info.partitions["primary"]
            data = image.read_bytes()
            data += b"\xff" * (-len(data) % info.write_size)
            c.erase(info.flash_base + primary_offset, -(-len(data) // info.sector_size) * info.sector_size)
            c.program(info.flash_base + primary_offset, data)
            assert c.read(info.flash_base + primary_offset, len(data)) == data
            with pytest.raises(SupervisorError, match="not aligned"):
                c.erase(info.flash_base + primary_offset + 8)
            with pytest.raises(SupervisorError, match="outside flash"):
                c.read(info.flash_base + info.flash_size - 4, 8)
            console = serial.serial_for_url(f"socket://127.0.0.1:{board.console_port}", timeout=0.5)
            try:
                c.reset()
                text = read_until(console, b"[app] firmware 1.0.0", 10)
                assert b"power-on reset" in text and b"[boot]" in text
                c.cut()
                assert c.status()["power"] == "off"
                console.reset_input_buffer()
                assert console.read(64) == b"", "the console of an unpowered board must be silent"
                with pytest.raises(SupervisorError, match="target unpowered"):
                    c.read(info.flash_base, 4)
                c.power_on()
                read_until(console, b"[app] firmware 1.0.0", 10)
            finally:
                console.close()
    finally:
        board.stop()
    assert board.proc.returncode == 0


def test_sim_halt_freezes_the_mcu_and_resume_continues(tmp_path):
    board = start_board(tmp_path / "board", image=make_image(tmp_path, "1.0.0"), use_cli=True)  # `rig sim`
    assert board.unique_id.startswith("vsim-")
    try:
        with board.client as c:
            assert c.info().unique_id == board.unique_id
            pid = c.status()["pid"]
            c.halt()
            with open(f"/proc/{pid}/stat") as stat:
                assert stat.read().split(") ")[1][0] == "T", "a halted MCU process is stopped"
            c.resume()
            assert c.status()["run_state"] == "running" and c.status()["pid"] == pid
            c.reset()
            assert c.status()["pid"] != pid
    finally:
        board.stop()


def test_sim_list_defects_prints_one_line_each():
    out = subprocess.run([sys.executable, "-m", "rig.cli", "sim", "--list-defects"], capture_output=True,
                         text=True, cwd=ROOT, timeout=30)
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    for name, text in DEFECTS.items():
        matching = [line for line in lines if line.startswith(name + " ")]
        assert len(matching) == 1 and text in matching[0]
    assert "RIG-SIM-IMAGE:crash-on-boot" in out.stdout and "RIG-SIM-IMAGE:never-confirm" in out.stdout


def test_sim_bad_options_are_one_line_errors(tmp_path):
    for args, message in ((["--defect", "no-such"], "unknown defect 'no-such'"),
                          (["--psk", "nokey"], "IDENTITY:HEXKEY"),
                          (["--server", "http://x"], "coap:// or coaps://")):
        out = subprocess.run([sys.executable, "-m", "rig.sim.board_cli", "--dir", str(tmp_path), "--target",
                              str(TARGET), *args], capture_output=True, text=True, cwd=ROOT, timeout=30)
        assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


def test_sim_control_client_names_an_absent_supervisor(free_tcp_port):
    with pytest.raises(SupervisorError, match=f"127.0.0.1:{free_tcp_port}"):
        SupervisorClient(free_tcp_port, timeout=2).status()


def test_sim_layout_matches_target():
    assert layout().partition("settings").size >= 2 * layout().sector_size


def test_a_program_that_breaks_a_flash_rule_is_refused_and_the_channel_stays_up(tmp_path):
    from rig.probe.sim_probe import SimProbe

    board = start_board(tmp_path / "b")
    try:
        with SupervisorClient(board.control_port) as client:
            client.erase(0x58000)
            with pytest.raises(SupervisorError, match="program refused: .*write size"):
                client.program(0x58000, b"\x01\x02\x03")  # 3 bytes: not a whole 8-byte write unit
            assert client.status()["power"] == "on", "the same connection still answers"
        probe = SimProbe(board.control_port)
        probe.program_bytes(0x58000, b"\xaa" * 13)  # a probe pads the last unit with the erased value
        assert probe.read_bytes(0x58000, 16) == b"\xaa" * 13 + b"\xff" * 3
        probe.close()
    finally:
        board.stop()
