"""Power cuts at an exact flash operation of the virtual board's boot (control op arm-cut).

The flash file the real MCU process leaves must equal an in-process run of the same
boot with Flash.plan_cut(N): the board loses power exactly at op N, whole or torn,
stays off until powered on, and the next power-on resumes the swap.
"""

from __future__ import annotations

import json
import queue
import re
import threading
from pathlib import Path

import pytest

from rig.mcuboot.app import mark_pending
from rig.sim import bootloader, probe_registry
from rig.sim.control import SupervisorClient, SupervisorError
from rig.sim.flash import Flash, PowerCut
from sim_board import Board, layout, make_image, start_board

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset


def pending_update_flash(tmp: Path) -> bytes:
    """Flash with 1.0.0 in the primary slot and 1.1.0 in the secondary, marked pending: the next boot swaps."""
    lay = layout()
    flash = Flash(lay)
    for slot, image in (("primary", make_image(tmp, "1.0.0", seed=1)), ("secondary", make_image(tmp, "1.1.0", seed=2))):
        data = image.read_bytes()
        data += b"\xff" * (-len(data) % lay.write_size)
        flash.program(lay.partition(slot).offset, data)
    mark_pending(flash, lay)
    return flash.snapshot()


def in_process_boot(before: bytes, at_op: int | None, torn: bool = False, seed: int = 0) -> tuple[bytes, int]:
    """The same boot in this process: (flash afterwards, ops done)."""
    flash = Flash(layout(), backing=bytearray(before))
    if at_op is not None:
        flash.plan_cut(at_op, torn, seed)
    try:
        bootloader.boot(flash, layout(), lambda s: None)
    except PowerCut:
        pass
    return flash.snapshot(), flash.ops


class Events:
    """The supervisor's event stream in a thread, read with bounded waits."""

    def __init__(self, client: SupervisorClient) -> None:
        self.queue: queue.Queue[dict] = queue.Queue()
        stream = client.events()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream) -> None:
        try:
            for event in stream:
                self.queue.put(event)
        except SupervisorError:
            pass  # the board stopped

    def wait(self, pred, timeout: float = 30.0) -> dict:
        while True:
            event = self.queue.get(timeout=timeout)
            if pred(event):
                return event


def console(needle: str):
    return lambda e: e.get("event") == "console" and needle in e.get("line", "")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("flashcuts")
    before = pending_update_flash(tmp)
    _, total = in_process_boot(before, None)
    directory = tmp / "board"
    directory.mkdir()
    (directory / "flash.bin").write_bytes(before)
    registry = tmp / "registry"
    mp = pytest.MonkeyPatch()
    mp.setenv(probe_registry.REGISTRY_ENV, str(registry))
    board = start_board(directory, "--off")
    mp.undo()
    yield board, before, total, registry
    board.stop()


def cut_boot(board: Board, before: bytes, at_op: int, torn: bool, seed: int) -> dict:
    (board.directory / "flash.bin").write_bytes(before)  # power is off: nothing maps the file
    with board.client as c:
        events = Events(c)
        assert c.arm_cut(at_op, torn=torn, seed=seed)["armed"] == {"flash_op": at_op, "torn": torn, "seed": seed}
        c.power_on()
        cut = events.wait(lambda e: e.get("event") == "flash-cut")
        events.wait(lambda e: e.get("event") == "power" and e.get("state") == "off")
        status = c.status()
    assert cut["flash_op"] == at_op and cut["torn"] is torn
    assert status["power"] == "off" and status["last_cut"]["flash_op"] == at_op and status["armed"] is None
    return cut


@pytest.mark.parametrize("fraction, torn, seed", [(0.5, False, 0), (0.3, True, 7), (0.9, True, 3)])
def test_cut_at_flash_op_leaves_what_an_in_process_cut_leaves(setup, fraction, torn, seed):
    board, before, total, _ = setup
    at_op = int(total * fraction)
    cut_boot(board, before, at_op, torn, seed)
    expected, _ = in_process_boot(before, at_op, torn, seed)
    after = (board.directory / "flash.bin").read_bytes()
    assert after != before
    assert after == expected, f"flash differs from the in-process cut at op {at_op}"
    log = (board.directory / "console.log").read_text()
    assert f"power cut at flash op {at_op}" in log


def test_next_power_on_resumes_the_swap_and_reports_its_flash_ops(setup):
    board, before, total, _ = setup
    cut_boot(board, before, total // 2, True, 1)
    with board.client as c:
        events = Events(c)
        c.power_on()
        line = events.wait(console("jumping to image"))["line"]
        assert "1.1.0" in line
        assert board.slot_image("primary").version.startswith("1.1.0")
        c.power_off()
    (board.directory / "flash.bin").write_bytes(before)
    with board.client as c:
        events = Events(c)
        c.power_on()
        line = events.wait(console("jumping to image"))["line"]
        c.power_off()
    ops = int(re.search(r"(\d+) flash ops", line).group(1))
    assert ops == total and "1.1.0" in line


def test_disarm_and_bad_arguments(setup):
    board, before, total, _ = setup
    (board.directory / "flash.bin").write_bytes(before)
    with board.client as c:
        with pytest.raises(SupervisorError, match="flash_op"):
            c.arm_cut(-1)
        with pytest.raises(SupervisorError, match="torn"):
            c.request("arm-cut", flash_op=3, torn="yes")
        c.arm_cut(5)
        assert c.disarm_cut()["was"]["flash_op"] == 5
        events = Events(c)
        c.power_on()
        assert "1.1.0" in events.wait(console("jumping to image"))["line"]
        assert c.status()["power"] == "on"
        c.power_off()


def test_supervisor_registers_the_board_and_writes_board_json(setup, monkeypatch):
    board, _, _, registry = setup
    monkeypatch.setenv(probe_registry.REGISTRY_ENV, str(registry))
    found = probe_registry.find_board(board.unique_id)
    assert found is not None and found.control_port == board.control_port
    assert json.loads((board.directory / "board.json").read_text())["control_port"] == board.control_port
    assert not list(board.directory.glob("*.tmp"))


def test_registration_is_removed_when_the_supervisor_exits(tmp_path, monkeypatch):
    monkeypatch.setenv(probe_registry.REGISTRY_ENV, str(tmp_path / "registry"))
    board = start_board(tmp_path / "board", "--off")
    entry = tmp_path / "registry" / f"{board.unique_id}.json"
    assert entry.is_file()
    board.stop()
    assert not entry.exists()
