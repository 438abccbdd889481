"""The pyocd command line reaches a running virtual board through the rigsim probe plugin.

Every test starts a real supervisor subprocess and runs the `pyocd` console
script as the bench would (a separate process that finds the plugin through its
entry point), then checks the effect on the board over its control channel.
"""

from __future__ import annotations

import os
import pty
import queue
import subprocess
import threading

import pytest

from probe_plugin_helpers import PYOCD, Console, board_env, run_pyocd
from sim_board import layout, make_image, start_board

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

MAGIC = "96f3b83d"


@pytest.fixture
def board(tmp_path):
    b = start_board(tmp_path / "board", image=make_image(tmp_path, "1.0.0"))
    yield b
    b.stop()


@pytest.fixture
def env(board, tmp_path):
    return board_env(board, tmp_path / "registry")


def primary_address() -> int:
    lay = layout()
    return lay.base + lay.partition("primary").offset


def test_pyocd_list_shows_the_board_with_its_target_type(board, env, tmp_path):
    result = run_pyocd(env, "list", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    line = next((l for l in result.stdout.splitlines() if board.unique_id in l), None)
    assert line is not None, f"{board.unique_id} missing from pyocd list:\n{result.stdout}"
    assert "virtual board" in line and "rig_virtual" in line


def test_pyocd_cmd_reads_the_primary_slot_image_magic(board, env, tmp_path):
    addr = f"0x{primary_address():x}"
    result = run_pyocd(env, "cmd", "-u", board.unique_id, "-t", "rig_virtual", "-c", f"read32 {addr}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert MAGIC in result.stdout, result.stdout
    # the same read of an erased word shows the flash really is read, not a canned answer
    result = run_pyocd(env, "cmd", "-u", board.unique_id, "-c", f"read32 0x{layout().base:x}", cwd=tmp_path)
    assert "ffffffff" in result.stdout, result.stdout + result.stderr


def test_pyocd_flash_writes_an_image_that_boots_after_a_power_cycle(board, env, tmp_path):
    image = make_image(tmp_path, "2.0.0", seed=2)
    result = run_pyocd(env, "flash", "-u", board.unique_id, "-t", "rig_virtual",
                       "--base-address", f"0x{primary_address():x}", str(image), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert board.slot_image("primary").version == "2.0.0+0"
    with board.client as c, Console(board.console_port) as console:
        c.cut()
        c.power_on()
        text = console.wait_for("[app] firmware 2.0.0")
    assert "Image version: v2.0.0" in text


def test_pyocd_rtt_prints_the_log_of_a_boot(board, env, tmp_path):
    """`pyocd rtt` wants a terminal on stdin (it polls the keyboard): give it a pty."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([PYOCD, "rtt", "-u", board.unique_id, "-t", "rig_virtual"], stdin=slave,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    os.close(slave)
    lines: queue.Queue[tuple[str, str]] = queue.Queue()

    def pump(name: str, stream) -> None:
        for raw in stream:
            lines.put((name, raw.decode("utf-8", "replace")))

    for name, stream in (("out", proc.stdout), ("err", proc.stderr)):
        threading.Thread(target=pump, args=(name, stream), daemon=True).start()

    def wait(stream: str, needle: str, timeout: float = 15.0) -> None:
        seen = []
        while True:
            try:
                name, line = lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"{needle!r} not on pyocd rtt's std{stream}; saw {seen[-20:]}") from None
            seen.append(line)
            if name == stream and needle in line:
                return

    try:
        wait("err", "Reading from up channel 0")
        with board.client as c:
            c.reset()  # the boot log goes to RTT as it is written
        wait("out", "[boot] Starting bootloader")
        wait("out", "[app] firmware 1.0.0")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        os.close(master)
