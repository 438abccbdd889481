"""Test support for the bench commands: `rig ...` as a subprocess, a `rig sim` board, base and update images."""

from __future__ import annotations

import subprocess
from dataclasses import fields
from pathlib import Path

from probe_plugin_helpers import wait_board_json
from rig_cli import Running, rig, rig_background  # noqa: F401 (the commands' tests import them from here too)
from sim_board import ROOT, TARGET, Board, make_image
from rig.sim.launcher import start_virtual_board

HOST_SIM = ROOT / "targets" / "host_sim.toml"


def sim_board(directory: Path, image: Path, server_port: int | None = None, *extra: str) -> Board:
    """A `rig sim --dir DIR` board (the way the bench runs one), once its board.json is written."""
    args = [*extra]
    board = start_virtual_board(directory, TARGET, image=image, via_cli=True, extra=tuple(args),
                                server=f"coap://127.0.0.1:{server_port}" if server_port else None)
    board = Board(**{f.name: getattr(board, f.name) for f in fields(type(board))})
    wait_board_json(board)
    return board


def one_line_error(result: subprocess.CompletedProcess, *words: str) -> str:
    """The CLI's contract for bad input: exit 2, one line on stderr, no traceback."""
    err = result.stderr.strip()
    assert result.returncode == 2, (result.returncode, result.stdout, err)
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


__all__ = ["HOST_SIM", "TARGET", "make_image", "one_line_error", "rig", "rig_background", "sim_board"]
