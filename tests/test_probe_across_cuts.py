"""A rig-file place as a user sets one up: the rigsim probe driven through pyocd, power switched by a command.

After every power cut the pyocd session that connected before it answers only
"the target lost power since this session connected"; known start, the flash
verdict and unbricking all need the probe after a cut, so the probe (and an RTT
console sharing its session) must reconnect by themselves. The board is a real
supervisor subprocess; the power commands are real processes talking to its relay.
"""

from __future__ import annotations

import sys

import pytest

from probe_plugin_helpers import board_env
from rig.config import load_place
from rig.place.bench import open_bench
from rig.sim import probe_plugin
from rig.timeline import Timeline
from sim_board import TARGET, layout, make_image, start_board

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

MAGIC = (0x96F3B83D).to_bytes(4, "little")


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("probe-cuts")
    board = start_board(tmp / "board", image=make_image(tmp, "1.0.0"))
    with board:
        yield from _place(board, tmp)


def _place(board, tmp):
    env = board_env(board, tmp / "registry")
    patch = pytest.MonkeyPatch()
    patch.delenv("RIG_SIM_BOARDS", raising=False)
    patch.setenv("RIG_SIM_REGISTRY", env["RIG_SIM_REGISTRY"])
    probe_plugin.install()
    # The virtual board's target file, read as a board a person wired up: SWD through pyocd, power by command.
    target = tmp / "vboard.toml"
    target.write_text(TARGET.read_text().replace('kind = "virtual"', 'kind = "board"')
                      + '\n[debug]\npyocd_target = "rig_virtual"\n')
    relay = f"from rig.sim.control import SupervisorClient as C; c = C({board.control_port})"
    (tmp / "rig.toml").write_text(f"""
[rig]
lock_dir = "{tmp}"
[places.vb]
target = "{target}"
probe = {{ backend = "pyocd", unique_id = "{board.unique_id}" }}
console = {{ backend = "rtt" }}
[places.vb.power]
backend = "command"
on = ["{sys.executable}", "-c", "{relay}; c.power_on()"]
off = ["{sys.executable}", "-c", "{relay}; c.cut()"]
status = ["{sys.executable}", "-c", "{relay}; print(c.status()['power'])"]
""")
    try:
        yield load_place(tmp / "rig.toml", "vb"), tmp
    finally:
        patch.undo()


def _primary() -> int:
    lay = layout()
    return lay.base + lay.partition("primary").offset


def test_pyocd_probe_reads_flash_after_each_of_two_power_cuts(place):
    vb, work = place
    with open_bench(vb, Timeline(), work, console=False) as bench:
        assert bench.probe.read_bytes(_primary(), 4) == MAGIC
        for cut in (1, 2):
            bench.power.off()
            bench.power.on()
            header = bench.probe.read_bytes(_primary(), 0x20)  # a stale session would raise "lost power"
            assert header[:4] == MAGIC, header.hex()
            assert bench.probe.reconnects == cut
        image = bench.probe.read_bytes(_primary(), layout().partition("primary").size)
    from rig.mcuboot import read_image

    assert read_image(image, layout()).describe().startswith("1.0.0+0 intact")


def test_rtt_console_sharing_the_probe_follows_it_across_a_cut(place):
    vb, work = place
    with open_bench(vb, Timeline(), work) as bench:
        console = bench.console
        assert console._probe is bench.probe  # one pyocd session per probe: RTT reads through the probe's
        for _cut in (1, 2):
            attached = console.attaches
            bench.power.off()
            bench.power.on()
            assert console.wait_attached(attached + 1, timeout=30), "RTT found its control block again after the cut"
            console.mark()  # the virtual probe's RAM holds only what was logged since it attached: reset to see a boot
            bench.probe.reset()
            console.expect(r"\[boot\] jumping to image 1\.0\.0", timeout=30)
            assert bench.probe.read_bytes(_primary(), 4) == MAGIC
        # The board was off when the place opened (the first test left it safe): the first cut found no session
        # to lose, the second one did, and the console got the new session through the probe.
        assert bench.probe.reconnects >= 1 and console.attaches >= 2
