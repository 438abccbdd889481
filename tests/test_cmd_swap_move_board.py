"""A `rig sim` board with the swap-move target: bench commands take its target from board.json, or refuse another.

Before, --sim-dir commands assumed targets/virtual.toml and would write a swap-move
board's secondary image at the swap-scratch layout's address.
"""

from __future__ import annotations

from dataclasses import fields

import pytest

from cmd_helpers import one_line_error, rig
from probe_plugin_helpers import wait_board_json
from rig.flash_layout import load_layout
from rig.mcuboot.imgtool_helpers import make_payload, sign_image
from rig.sim.launcher import start_virtual_board
from sim_board import ROOT, Board

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

MOVE = ROOT / "targets" / "virtual_move.toml"


def test_bench_commands_follow_the_boards_own_target(tmp_path):
    lay = load_layout(MOVE)
    old = sign_image(tmp_path / "old.bin", lay, "1.0.0", make_payload(20_000, 1), slot="primary")
    new = sign_image(tmp_path / "new.bin", lay, "1.1.0", make_payload(20_000, 2), pad=True)
    started = start_virtual_board(tmp_path / "vb", MOVE, image=old, via_cli=True)
    board = Board(**{f.name: getattr(started, f.name) for f in fields(type(started))})
    try:
        wait_board_json(board)
        sim = ["--sim-dir", str(tmp_path / "vb")]
        done = rig("flash", str(new), "--slot", "secondary", *sim, cwd=tmp_path)
        assert done.returncode == 0 and "slot secondary at 0x79000" in done.stdout, done.stdout + done.stderr
        shown = rig("inspect", *sim, cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert "mcuboot: swap-move, status for 105 sectors" in shown.stdout
        assert "secondary: 1.1.0+0 intact" in shown.stdout and "next boot: test swap" in shown.stdout
        one_line_error(rig("inspect", *sim, "--target", str(ROOT / "targets" / "virtual.toml"), cwd=tmp_path),
                       "that board runs", "virtual_move.toml")
    finally:
        board.stop()
