"""rig.place.open is the one way to open a place: the self-started virtual board too, with its image key passed.

The key reaches the board's bootloader (it refuses a base image signed with
another key and boots one signed with its own), options that only a self-started
board takes are refused for any other place, and `rig run` takes the same place
options as the bench commands (here: a `rig sim` board through --sim-dir).
"""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest

from cmd_helpers import HOST_SIM, TARGET, make_image, one_line_error, sim_board
from rig_cli import rig
from rig.campaign.images import per_run_test_key, run_images
from rig.config import load_target
from rig.errors import RigError
from rig.netutil import free_udp_pair
from rig.place.open import OwnBoard, open_place
from rig.place.resolve import resolve_place, self_started_board
from rig.timeline import Timeline

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

def wait_until(check, timeout: float, what: str, every: float):
    """Poll `check` until it gives something truthy; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)
    return value


BOOTS = r"Jumping to the first image slot|Image in the primary slot is not valid!.*"


async def _first_boot(tmp_path, base, key) -> str:
    """What the self-started board's bootloader says about `base` when it trusts only `key`.

    Read from the board's own console log (its supervisor writes every line there): lines printed before the
    supervisor has accepted the rig's console connection reach no client, as on a serial port opened late, and
    a board that refuses its image prints only those few lines and halts."""
    place = self_started_board(TARGET, tmp_path)
    async with open_place(place, Timeline(), tmp_path, base.parent, base_image=base,
                          own_board=OwnBoard(image_key=key)) as session:
        assert session.console is not None and session.probe is not None
        assert session.probe_id, "the board's debug-port id is known for the history of nights"
        await asyncio.to_thread(session.power.on)
        log = tmp_path / "board" / "console.log"
        found = await asyncio.to_thread(wait_until, lambda: log.is_file() and re.search(BOOTS, log.read_text()),
                                        session.boot_timeout, f"the bootloader's verdict in {log}", 0.02)
        return found.group(0)


def test_open_place_passes_the_image_key_to_the_virtual_board(tmp_path):
    target = load_target(TARGET)
    signed = per_run_test_key(tmp_path / "key-a")
    other = per_run_test_key(tmp_path / "key-b")
    images = run_images(target.data, TARGET, target.layout, tmp_path / "fw", 8 * 1024, key=signed)
    assert "not valid" in asyncio.run(_first_boot(tmp_path / "wrong", images.base, other)), \
        "a board given another key must refuse the base image"
    assert asyncio.run(_first_boot(tmp_path / "right", images.base, signed)) == "Jumping to the first image slot"


def test_options_of_a_self_started_board_are_refused_for_other_places(tmp_path):
    place = resolve_place(None, None, HOST_SIM, tmp_path / "w")

    async def open_it() -> None:
        async with open_place(place, Timeline(), tmp_path, tmp_path, own_board=OwnBoard(queue_mode=True)):
            pass

    with pytest.raises(RigError, match="chosen for a virtual board the rig starts itself"):
        asyncio.run(open_it())
    with pytest.raises(RigError, match="is not a virtual board the rig can start itself"):
        self_started_board(HOST_SIM, tmp_path)


def test_rig_run_takes_the_bench_place_options(tmp_path):
    usage = rig("run", "--help", cwd=tmp_path).stdout
    for option in ("--place", "--rig", "--target", "--sim-dir", "--work-dir", "--psk", "--host", "--port"):
        assert option in usage, option
    one_line_error(rig("run", "--port", "7000", "--report-dir", str(tmp_path / "r"), cwd=tmp_path),
                   "--host/--port", "free port")
    port = free_udp_pair()
    board = sim_board(tmp_path / "board", make_image(tmp_path, "1.0.0"), port)
    try:
        done = rig("run", "power-cut", "-k", "baseline", "--sim-dir", str(board.directory), "--report-dir",
                   str(tmp_path / "r"), "--no-history", cwd=tmp_path, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        report = json.loads((tmp_path / "r" / "report.json").read_text())
        assert [r["outcome"] for r in report["results"]] == ["pass"], report["results"]
        assert report["run"]["ran_on"].startswith("sim-"), "the run ran on the rig sim board, at its server port"
        # a replay (like a resume) goes back to that same board, not to one it starts itself
        again = rig("run", "--replay", f"{tmp_path / 'r'}/report.json#baseline-no-cut", "--no-history", cwd=tmp_path,
                    timeout=120)
        assert again.returncode == 0 and "reproduced" in again.stdout, again.stdout + again.stderr
        replayed = json.loads((tmp_path / "r" / "replay-baseline-no-cut" / "report.json").read_text())
        assert replayed["run"]["ran_on"] == report["run"]["ran_on"], "replayed on another board"
    finally:
        board.stop()
