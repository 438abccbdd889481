"""How pyocd finds virtual boards with no configuration: the runtime registry and RIG_SIM_BOARDS."""

from __future__ import annotations

import json
import os

import pytest

from probe_plugin_helpers import run_pyocd, wait_board_json
from rig.sim import probe_registry
from sim_board import start_board

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset


@pytest.fixture
def registry(tmp_path, monkeypatch):
    folder = tmp_path / "registry"
    monkeypatch.setenv(probe_registry.REGISTRY_ENV, str(folder))
    monkeypatch.delenv(probe_registry.BOARDS_ENV, raising=False)
    return folder


def test_registered_board_is_listed_by_pyocd_and_forgotten_after_it_dies(registry, tmp_path):
    board = start_board(tmp_path / "board", "--off")
    try:
        path = probe_registry.register_board(board.unique_id, board.control_port, target="virtual",
                                             pid=board.proc.pid)
        assert path.parent == registry and json.loads(path.read_text())["control_port"] == board.control_port
        [entry] = probe_registry.list_boards()
        assert (entry.unique_id, entry.target) == (board.unique_id, "virtual")
        env = {k: v for k, v in os.environ.items() if k != probe_registry.BOARDS_ENV}
        result = run_pyocd(env, "list", cwd=tmp_path)  # an unpowered board is still listed: its probe is there
        assert board.unique_id in result.stdout, result.stdout + result.stderr
    finally:
        board.stop()
    assert probe_registry.list_boards() == []
    assert not path.exists(), "the entry of a supervisor that died without cleaning up is removed"


def test_entry_whose_port_now_belongs_to_another_board_is_not_listed(registry, tmp_path):
    board = start_board(tmp_path / "board", "--off")
    try:
        probe_registry.register_board("vsim-impostor", board.control_port, pid=board.proc.pid)
        assert [b.unique_id for b in probe_registry.list_boards()] == [board.unique_id]  # the board registers itself
        assert probe_registry.find_board("vsim-impostor") is None
        probe_registry.unregister("vsim-impostor")
        assert not (registry / "vsim-impostor.json").exists()
    finally:
        board.stop()


def test_rig_sim_boards_names_board_directories_and_skips_stopped_ones(registry, tmp_path, monkeypatch):
    live = start_board(tmp_path / "live", "--off")
    stopped = start_board(tmp_path / "stopped", "--off")
    wait_board_json(live)
    wait_board_json(stopped)
    stopped.stop()
    try:
        monkeypatch.setenv(probe_registry.BOARDS_ENV, os.pathsep.join([str(live.directory), str(stopped.directory),
                                                                       str(tmp_path / "missing")]))
        assert [b.unique_id for b in probe_registry.list_boards()] == [live.unique_id]
        assert (stopped.directory / "board.json").exists(), "a board's own files are not the registry's to delete"
        # registered and named: listed once
        probe_registry.register_board(live.unique_id, live.control_port, pid=live.proc.pid)
        assert [b.unique_id for b in probe_registry.list_boards()] == [live.unique_id]
    finally:
        live.stop()
