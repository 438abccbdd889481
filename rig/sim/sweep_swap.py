"""Cut power at every flash operation of a swap, in one process, and check each recovery.

For a test swap (old confirmed image in primary, new pending image in
secondary) and for the revert that follows it, the sweep counts the flash
operations of an uninterrupted boot, then for each op index N: restores the
snapshot, cuts at N (whole: op N never happens; torn: op N half happens, seeded),
boots again to completion and checks that
  - an intact image runs, and it is the one this scenario must end with
    (new after a test swap, old after a revert);
  - the other slot still holds the other image intact (a revert needs it);
  - the trailers say what the next boot will do, and it is what must follow
    (revert after an unconfirmed test swap, nothing after a revert), with no
    half-written trailer left that matches no swap case.
Everything runs on bytearray snapshots so thousands of cuts take seconds. The
target's mcuboot.mode picks the bootloader (swap-scratch or swap-move). This is a
checking tool, not the device: it judges with the rig's checker (rig.mcuboot),
which the bootloader it drives never imports.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rig.flash_layout import FlashLayout
from rig.mcuboot.imgtool_helpers import make_payload, sign_image
from rig.mcuboot.slots import inspect_slots
from rig.sim.bootloader import boot, bootloader_class
from rig.sim.flash import Flash, FlashOp, PowerCut

OLD_VERSION, NEW_VERSION = "1.0.0", "1.1.0"


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class Scenario:
    """A starting flash, the image that must run after it, and the next-boot swap that must follow."""

    name: str
    start: bytes
    expect_running: str
    expect_other: str
    expect_next: str


@dataclass
class SweepFailure:
    scenario: str
    op_index: int
    op: FlashOp | None
    torn: bool
    problem: str
    state: str

    def describe(self) -> str:
        op = f"{self.op.kind} 0x{self.op.offset:x}+0x{self.op.length:x}" if self.op else "?"
        return (f"{self.scenario}: cut {'torn' if self.torn else 'whole'} at op {self.op_index} ({op}): "
                f"{self.problem}\n{self.state}")


@dataclass
class SweepReport:
    cuts: int = 0
    recovered: int = 0
    seconds: float = 0.0
    ops: dict[str, int] = field(default_factory=dict)
    failures: list[SweepFailure] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.cuts / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> bool:
        return not self.failures and self.cuts == self.recovered


def build_scenarios(layout: FlashLayout, image_size: int, workdir: Path | None = None,
                    variant: str = "mcuboot") -> list[Scenario]:
    """Old v1.0.0 confirmed in primary + new v1.1.0 pending in secondary, and the state after that test swap."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(workdir or tmp)
        old = sign_image(d / "old.bin", layout, OLD_VERSION, make_payload(image_size, 1), confirm=True,
                         slot="primary").read_bytes()
        new = sign_image(d / "new.bin", layout, NEW_VERSION, make_payload(image_size, 2), pad=True).read_bytes()
    flash = Flash(layout)
    flash.restore(_place(layout, flash.snapshot(), old, new))
    test_start = flash.snapshot()
    result = boot(flash, layout, _quiet, variant)
    if result.image is None or result.swap != "test":
        raise RuntimeError(f"the uninterrupted test swap did not work with variant {variant}: {result.reason}")
    revert_start = flash.snapshot()
    return [Scenario("test swap", test_start, f"{NEW_VERSION}+0", f"{OLD_VERSION}+0", "revert"),
            Scenario("revert", revert_start, f"{OLD_VERSION}+0", f"{NEW_VERSION}+0", "none")]


def _place(layout: FlashLayout, chip: bytes, primary: bytes, secondary: bytes) -> bytes:
    buf = bytearray(chip)
    for name, data in (("primary", primary), ("secondary", secondary)):
        part = layout.partition(name)
        buf[part.offset:part.offset + len(data)] = data
    return bytes(buf)


def check_recovery(flash: Flash, layout: FlashLayout, scenario: Scenario, variant: str,
                   torn: bool = False) -> tuple[str, str]:
    """Boot to completion after a cut; returns (problem or "", state description).

    A torn write of the very last commit (copy_done of a test swap) may be read either way;
    the safe reading rolls the update back, so with torn cuts the test-swap scenario also
    accepts "old image runs, nothing pending" — a whole cut must always finish the swap.
    """
    result = boot(flash, layout, _quiet, variant)
    tolerant = bootloader_class(variant, layout.mcuboot_mode).tolerant_flags
    report = inspect_slots(flash.read, layout, tolerant=tolerant)
    state = report.describe()
    if result.image is None:
        return f"nothing bootable after the cut ({result.reason})", state
    allowed = {(scenario.expect_running, scenario.expect_other, scenario.expect_next)}
    if torn and scenario.expect_next == "revert":
        allowed.add((scenario.expect_other, scenario.expect_running, "none"))
    running = result.image.version
    other = report.secondary.version if report.secondary.intact else None
    nxt = report.next_boot
    if not any(running == r for r, _, _ in allowed):
        return f"runs {running}, expected {' or '.join(sorted(r for r, _, _ in allowed))}", state
    if not any((running, other) == (r, o) for r, o, _ in allowed):
        return f"secondary holds {report.secondary.describe()} while {running} runs", state
    if nxt.resume or not nxt.matched or (running, other, nxt.swap) not in allowed:
        return f"next boot would {nxt.describe()} while {running} runs", state
    return "", state


def cut_states(layout: FlashLayout, scenario: Scenario, torn: bool, seed: int, variant: str,
               replay_prefix: bool = False, stride: int = 1):
    """Yield (op index, op, flash after a cut at that op) for every op (every `stride`-th) of the scenario's boot.

    The boot is deterministic, so the flash just before op N of a cut run equals the flash
    before op N of the uncut run: by default the sweep keeps a cursor that advances one
    journalled op at a time and replays only op N under the cut. replay_prefix=True re-runs
    the bootloader from the snapshot up to the cut instead (slower; tests show both agree).
    """
    flash = Flash(layout, backing=bytearray(scenario.start))
    flash.journal = []
    boot(flash, layout, _quiet, variant)
    journal = flash.journal
    work = bytearray(scenario.start)
    cut = Flash(layout, backing=work)
    cursor_bytes = bytearray(scenario.start)
    cursor = Flash(layout, backing=cursor_bytes)
    for op in journal:
        n = op.index
        if n % stride:
            cursor.replay(op)
            continue
        if replay_prefix:
            work[:] = scenario.start
            cut.ops = 0
            cut.plan_cut(n, torn=torn, seed=seed)
            try:
                boot(cut, layout, _quiet, variant)
            except PowerCut:
                pass
        else:
            work[:] = cursor_bytes
            cut.ops = n
            cut.plan_cut(n, torn=torn, seed=seed)
            try:
                cut.replay(op)
            except PowerCut:
                pass
            cursor.replay(op)
        cut.cancel_cut()
        yield n, op, cut


def sweep(layout: FlashLayout, scenarios: list[Scenario], torn: bool = False, seed: int = 0,
          variant: str = "mcuboot", stop_at_first: bool = True, replay_prefix: bool = False,
          progress: Callable[[str], None] | None = None, stride: int = 1) -> SweepReport:
    """Cut at every op (every `stride`-th: a bounded sample) of every scenario; a failure records the op and state."""
    report = SweepReport()
    started = time.perf_counter()
    for scenario in scenarios:
        cuts_before = report.cuts
        for n, op, flash in cut_states(layout, scenario, torn, seed, variant, replay_prefix, stride):
            report.cuts += 1
            problem, state = check_recovery(flash, layout, scenario, variant, torn)
            if not problem:
                report.recovered += 1
                continue
            report.failures.append(SweepFailure(scenario.name, n, op, torn, problem, state))
            if stop_at_first:
                break
        report.ops[scenario.name] = report.cuts - cuts_before
        if progress:
            progress(f"{scenario.name}: {report.ops[scenario.name]} cuts")
        if report.failures and stop_at_first:
            break
    report.seconds = time.perf_counter() - started
    return report
