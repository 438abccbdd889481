"""The power-cut sweep: the correct bootloader survives every cut; each wrong variant fails where a board would brick."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from rig.flash_layout import FlashLayout, load_layout
from rig.mcuboot.slots import slot_trailer_layout
from rig.sim.sweep_swap import build_scenarios, check_recovery, cut_states, sweep

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

TARGET = Path(__file__).resolve().parents[1] / "targets" / "virtual.toml"
IMAGE_SIZE = 16 * 1024


@pytest.fixture(scope="module")
def layout() -> FlashLayout:
    return load_layout(TARGET)


@pytest.fixture(scope="module")
def scenarios(layout):
    return build_scenarios(layout, IMAGE_SIZE)


@pytest.mark.parametrize("torn, seed", [(False, 0), (True, 0), (True, 7)])
def test_correct_bootloader_recovers_from_every_cut(layout, scenarios, torn, seed) -> None:
    report = sweep(layout, scenarios, torn=torn, seed=seed, stop_at_first=False)
    assert report.failures == []
    assert report.cuts == report.recovered == sum(report.ops.values())
    assert set(report.ops) == {"test swap", "revert"} and min(report.ops.values()) > 50


@pytest.mark.parametrize("torn", [False, True])
def test_cursor_states_equal_replaying_the_boot_up_to_the_cut(layout, scenarios, torn) -> None:
    fast = cut_states(layout, scenarios[0], torn, 5, "mcuboot")
    slow = cut_states(layout, scenarios[0], torn, 5, "mcuboot", replay_prefix=True)
    for (n, op, a), (m, op2, b) in zip(fast, slow):
        assert (n, op) == (m, op2)
        if n % 7 == 0:
            assert a.snapshot() == b.snapshot(), f"op {n}"


def region(layout: FlashLayout, offset: int) -> tuple[str, bool]:
    """(partition name, whether the offset is in that slot's trailer)."""
    for part in layout.partitions.values():
        if part.offset <= offset < part.end:
            in_trailer = part.name in ("primary", "secondary") and \
                offset - part.offset >= slot_trailer_layout(layout, part.name).status_off // layout.sector_size * \
                layout.sector_size
            return part.name, in_trailer
    raise AssertionError(f"0x{offset:x} is in no partition")


# variant, torn, scenario where it bricks, kind of op, partition, in the trailer sector
WRONG = [
    # status says "step done" before the copy: a cut inside the copy to scratch loses that data
    ("status-before-data", False, "test swap", "program", "scratch", False),
    # a swap resumed as if fresh: secondary data sectors get erased by a swap that forgot its state
    ("no-resume", False, "test swap", "erase", "secondary", False),
    # copy_done early: the next boot believes the swap finished and reverts a half-swapped pair
    ("done-before-data", False, "test swap", "erase", "secondary", False),
    # primary trailer erased with no copy in scratch: the revert request is forgotten
    ("no-scratch-trailer", False, "revert", "program", "primary", True),
    # MCUboot's strict flags: a torn copy_done reads "bad" and the unconfirmed image never reverts
    ("strict-flags", True, "test swap", "program", "primary", True),
]


@pytest.mark.parametrize("variant, torn, scenario, kind, part, in_trailer", WRONG)
def test_wrong_bootloader_fails_where_a_board_would_brick(layout, variant, torn, scenario, kind, part,
                                                          in_trailer) -> None:
    scenarios = build_scenarios(layout, IMAGE_SIZE, variant=variant)
    report = sweep(layout, scenarios, torn=torn, variant=variant)
    assert not report.ok
    failure = report.failures[0]
    assert failure.scenario == scenario
    assert failure.op.kind == kind
    assert region(layout, failure.op.offset) == (part, in_trailer)
    assert failure.state.startswith("primary:") and "next boot:" in failure.state
    if variant == "strict-flags":
        tl = slot_trailer_layout(layout)
        assert failure.op.offset == layout.partition("primary").offset + tl.copy_done_off
        assert "matches no swap-table row" in failure.problem
        assert sweep(layout, scenarios, torn=False, variant=variant).ok  # whole cuts never show it


def test_cli_sweep_prints_cuts_and_rate_and_fails_on_a_wrong_variant() -> None:
    cmd = [sys.executable, "-m", "rig.cli", "sim", "sweep-swap", "--image-size", "8K"]
    ok = subprocess.run(cmd + ["--torn", "--seed", "3"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    match = re.search(r"^(\d+) cuts, (\d+) recovered .*\((\d+) cuts/s\)$", ok.stdout, re.M)
    assert match, ok.stdout
    assert int(match[1]) == int(match[2]) > 100
    bad = subprocess.run(cmd + ["--variant", "status-before-data"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "first failing op" in bad.stdout and "trailer magic=" in bad.stdout
    unknown = subprocess.run(cmd + ["--variant", "nope"], capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 2 and "unknown bootloader variant 'nope'" in unknown.stderr


MOVE_TARGET = TARGET.parent / "virtual_move.toml"


@pytest.mark.parametrize("target", [TARGET, MOVE_TARGET], ids=["swap-scratch", "swap-move"])
@pytest.mark.parametrize("torn", [False, True])
def test_largest_image_survives_a_sample_of_cuts(target, torn) -> None:
    """The largest image the target's slots swap, every 9th op cut (a bounded CI sample, about 3 s in all).

    The full sweep is `rig sim sweep-swap --image-size max [--torn] [--target targets/virtual_move.toml]`,
    run by hand: 2.4k cuts (swap-scratch) / 3.7k cuts (swap-move), 3-8 s each.
    """
    from rig.campaign.images import UNSIGNED_TLVS, max_payload

    lay = load_layout(target)
    scenarios = build_scenarios(lay, max_payload(lay, UNSIGNED_TLVS))
    report = sweep(lay, scenarios, torn=torn, seed=11, stop_at_first=False, stride=9)
    assert report.failures == [], report.failures[0].describe()
    assert report.cuts == report.recovered and min(report.ops.values()) > 100


def test_scratch_erased_forwards_bricks_at_the_largest_image() -> None:
    """Issue 15: erasing the scratch forwards after the trailer step left a good scratch trailer over erased data;
    a resume copied that into the primary slot. MCUboot erases it backwards; the forwards variant must fail."""
    lay = load_layout(TARGET)
    scenarios = build_scenarios(lay, 290304, variant="scratch-forwards")
    failure = sweep(lay, scenarios, variant="scratch-forwards").failures[0]
    assert failure.op.kind == "erase" and region(lay, failure.op.offset) == ("scratch", False)
    assert "nothing bootable" in failure.problem
    correct = build_scenarios(lay, 290304)[0]
    for n, _, flash in cut_states(lay, correct, False, 0, "mcuboot"):
        if n > failure.op_index + 4:
            break
        assert check_recovery(flash, lay, correct, "mcuboot")[0] == "", f"op {n}"


@pytest.mark.parametrize("variant, torn", [("no-resume", False), ("status-before-data", False),
                                           ("done-before-data", False), ("strict-flags", True)])
def test_wrong_swap_move_bootloader_fails(variant, torn) -> None:
    lay = load_layout(MOVE_TARGET)
    report = sweep(lay, build_scenarios(lay, IMAGE_SIZE, variant=variant), torn=torn, variant=variant)
    assert not report.ok and report.failures[0].scenario == "test swap"
    assert "fallback trailer: magic" in report.failures[0].state


def test_torn_scratch_trailer_erase_bricks_mcuboot_but_not_the_hardened_bootloader() -> None:
    """A torn erase of the scratch's trailer sector can erase the step's data and keep the magic; MCUboot's status
    source then resumes from that scratch (exact-scratch-source fails), the virtual bootloader moves on."""
    lay = load_layout(TARGET)
    size = 292_584  # the largest unsigned image: it shares the trailer's sector, so the scratch holds the status
    exact = sweep(lay, build_scenarios(lay, size, variant="exact-scratch-source"), torn=True, seed=5,
                  variant="exact-scratch-source").failures[0]
    assert exact.op.kind == "erase" and region(lay, exact.op.offset) == ("scratch", False)
    correct = build_scenarios(lay, size)[0]
    for n, _, flash in cut_states(lay, correct, True, 5, "mcuboot"):
        if n > exact.op_index + 4:
            break
        assert check_recovery(flash, lay, correct, "mcuboot", torn=True)[0] == "", f"op {n}"
