"""pyocd target type "rig_virtual": the virtual board's memory map, with flash programmed by its supervisor.

A real target type carries a flash algorithm that pyocd loads into RAM and runs
on the core. The virtual board has no core to run it, so its Flash class sends
erase and program straight to the supervisor's flash file when the probe is the
rig's own (in this process), and otherwise (a `pyocd server` probe reached as
`remote:HOST:PORT`) stages the data in SRAM and drives the board's flash
controller registers (rig.sim.flash_controller); everything around it
(FileProgrammer, FlashBuilder's sector analysis, `pyocd flash`, `pyocd erase`)
is pyocd's own code. The map is the board's: flash geometry from the
supervisor's `info` (the target file the board was started with), else from
targets/virtual.toml; RAM is the plugin's modelled SRAM that holds RTT.

The default connect mode is attach, not pyocd's usual halt: a probe that
freezes the MCU on every look would change what the rig is testing. Pass
`-M halt` (connect_mode="halt") to halt on connect.
"""

from __future__ import annotations

import logging
from typing import Any

from pyocd.core import exceptions
from pyocd.core.memory_map import FlashRegion, MemoryMap, RamRegion
from pyocd.coresight.coresight_target import CoreSightTarget
from pyocd.flash.flash import Flash

from rig.sim.cortex_m_model import RAM_BASE, RAM_SIZE, DebugAccessError

LOG = logging.getLogger(__name__)


class SupervisorFlash(Flash):
    """Flash operations as supervisor requests (no flash algorithm, no code run on the target)."""

    def __init__(self, target: Any) -> None:
        super().__init__(target, flash_algo=None)
        self.is_valid = True

    @property
    def is_erase_all_supported(self) -> bool:
        return True

    def _core(self) -> Any:
        """The in-process board model, or a stand-in that drives the flash controller over the memory bus."""
        core = getattr(self.target.session.probe, "core", None)
        return core if core is not None else ControllerFlash(self.target)

    def init(self, operation: Any, address: int | None = None, clock: int = 0, reset: bool = False) -> None:
        current = getattr(self.target.session.context_state, "current_flash_algo", None)
        if current is not None and current is not self:
            current.cleanup()
        if self._active_operation is None:
            # As a flash algorithm would: the core must not run (and write flash) while it is programmed.
            if reset:
                self.target.reset_and_halt()
            else:
                self.target.halt()
        self.target.session.context_state.current_flash_algo = self
        self._active_operation = operation

    def uninit(self) -> None:
        self._active_operation = None

    def cleanup(self) -> None:
        self.uninit()
        if getattr(self.target.session.context_state, "current_flash_algo", None) is self:
            self.target.session.context_state.current_flash_algo = None

    def erase_all(self) -> None:
        region = self.region
        try:
            self._core().erase(region.start, region.length)
        except DebugAccessError as exc:
            raise exceptions.FlashEraseFailure(f"chip erase failed: {exc}", address=region.start) from None

    def erase_sector(self, address: int) -> None:
        try:
            self._core().erase(address, self.region.sector_size)
        except DebugAccessError as exc:
            raise exceptions.FlashEraseFailure(f"sector erase failed: {exc}", address=address) from None

    def program_page(self, address: int, bytes: Any) -> None:  # noqa: A002 - pyocd's parameter name
        data = bytearray(bytes)
        data += bytearray([self.region.erased_byte_value]) * (-len(data) % self.region.phrase_size)
        try:
            self._core().program(address, data)
        except DebugAccessError as exc:
            raise exceptions.FlashProgramFailure(f"program failed: {exc}", address=address) from None

    program_phrase = program_page


class ControllerFlash:
    """Erase and program through the flash controller's registers: works over any probe, remote ones too."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def _command(self, command: int, addr: int, length: int, src: int = 0) -> None:
        from rig.sim import flash_controller as fc  # noqa: PLC0415 -- import order: loaded while pyocd imports its targets (rig.sim.pyocd_entry)

        base = fc.FLASH_CTL_BASE
        self.target.write_memory_block32(base + fc.ADDR, [addr, length, src])
        self.target.write32(base + fc.CMD, command)
        if self.target.read32(base + fc.STAT) & fc.STAT_ERROR:
            errno = self.target.read32(base + fc.ERRNO)
            self.target.write32(base + fc.STAT, fc.STAT_ERROR)
            raise DebugAccessError(f"flash controller: {fc.error_text(errno)} at 0x{addr:08x}+{length}")

    def erase(self, addr: int, length: int) -> None:
        from rig.sim.flash_controller import CMD_ERASE  # noqa: PLC0415 -- import order: loaded while pyocd imports its targets (rig.sim.pyocd_entry)

        self._command(CMD_ERASE, addr, length)

    def program(self, addr: int, data: bytes) -> None:
        from rig.sim.flash_controller import BUFFER_BASE, BUFFER_SIZE, CMD_PROGRAM  # noqa: PLC0415 -- import order: loaded while pyocd imports its targets (rig.sim.pyocd_entry)

        for offset in range(0, len(data), BUFFER_SIZE):
            chunk = list(data[offset:offset + BUFFER_SIZE])  # pyocd passes lists of ints (a remote probe sends JSON)
            self.target.write_memory_block8(BUFFER_BASE, chunk)
            self._command(CMD_PROGRAM, addr + offset, len(chunk), BUFFER_BASE)


def board_flash_geometry(session: Any) -> dict[str, int]:
    """Flash base/size/sector/write size/erased value: from the live board, else targets/virtual.toml."""
    entry = getattr(session.probe, "entry", None)
    if entry is not None:
        from rig.sim.control import SupervisorClient, SupervisorError  # noqa: PLC0415 -- import order: loaded while pyocd imports its targets (rig.sim.pyocd_entry)

        try:
            with SupervisorClient(entry.control_port, entry.host, timeout=5.0) as client:
                info = client.info()
            return {"base": info.flash_base, "size": info.flash_size, "sector": info.sector_size,
                    "write": info.write_size, "erased": info.erased_value}
        except SupervisorError as exc:
            LOG.warning("virtual board %s: %s; using targets/virtual.toml", entry.unique_id, exc)
    from rig.flash_layout import load_layout  # noqa: PLC0415 -- import order: loaded while pyocd imports its targets (rig.sim.pyocd_entry)
    from rig.sim.board_cli import default_target  # noqa: PLC0415 -- import order: loaded while pyocd imports its targets (rig.sim.pyocd_entry)

    layout = load_layout(default_target())
    return {"base": layout.base, "size": layout.size, "sector": layout.sector_size,
            "write": layout.write_size, "erased": layout.erased_value}


def memory_map_for(geometry: dict[str, int]) -> MemoryMap:
    return MemoryMap(
        FlashRegion(start=geometry["base"], length=geometry["size"], blocksize=geometry["sector"],
                    page_size=geometry["sector"], phrase_size=geometry["write"],
                    erased_byte_value=geometry["erased"], is_boot_memory=True, flash_class=SupervisorFlash,
                    name="flash"),
        RamRegion(start=RAM_BASE, length=RAM_SIZE, name="sram"),
    )


class RigVirtual(CoreSightTarget):
    """The virtual board as pyocd sees it: a Cortex-M4 with supervisor-programmed flash."""

    VENDOR = "rig"

    def __init__(self, session: Any) -> None:
        super().__init__(session, memory_map_for(board_flash_geometry(session)))

    def perform_halt_on_connect(self) -> None:
        if not self.session.options.is_set("connect_mode"):
            LOG.debug("rig_virtual: attaching without halting (connect_mode not set)")
            return
        super().perform_halt_on_connect()
