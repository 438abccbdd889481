"""What a debug probe sees behind the virtual board's AHB-AP: the memory map of a Cortex-M4.

The MCU is a Python process, not an emulated CPU, but pyocd's normal connect reads
a ROM table, CPUID, DHCSR, DEMCR and AIRCR and drives run control through them.
This model answers those reads with a Cortex-M4's values (no FPU, 8 MPU regions,
SCS/DWT/FPB in the ROM table) and maps the effects onto the supervisor:
C_HALT stops the MCU process, clearing it resumes, AIRCR.SYSRESETREQ restarts it
(held at the "reset vector" when DEMCR.VC_CORERESET is set). Flash reads go to
the supervisor's flash file; RAM is kept here (it holds the RTT control block,
see rig.sim.rtt) and is lost, with the debug registers, when power goes.
"""

from __future__ import annotations

import threading
from typing import Any

from rig.sim.control import SupervisorClient, SupervisorError
from rig.sim.flash_controller import FLASH_CTL_BASE, FlashController
from rig.sim.rtt import RttLayout, RttLog

RAM_BASE, RAM_SIZE = 0x2000_0000, 0x1_0000
RTT_BASE = RAM_BASE + 0x400  # where the "firmware" keeps its RTT control block (.bss)
PPB_BASE, PPB_END = 0xE000_0000, 0xE010_0000
ROM_TABLE, SCS, DWT, FPB = 0xE00F_F000, 0xE000_E000, 0xE000_1000, 0xE000_2000

CPUID, AIRCR, DFSR = 0xE000_ED00, 0xE000_ED0C, 0xE000_ED30
DHCSR, DCRSR, DCRDR, DEMCR = 0xE000_EDF0, 0xE000_EDF4, 0xE000_EDF8, 0xE000_EDFC
DBGKEY, VECTKEY = 0xA05F, 0x05FA
C_DEBUGEN, C_HALT, C_STEP = 1 << 0, 1 << 1, 1 << 2
S_REGRDY, S_HALT, S_RETIRE_ST, S_RESET_ST = 1 << 16, 1 << 17, 1 << 24, 1 << 25
VECTRESET, SYSRESETREQ = 1 << 0, 1 << 2
VC_CORERESET = 1 << 0
DFSR_HALTED, DFSR_VCATCH = 1 << 0, 1 << 3
XPSR_THUMB = 1 << 24

CONSTANT_REGISTERS = {
    CPUID: 0x410F_C241,  # Arm Cortex-M4 r0p1
    0xE000_E004: 0x0000_0001,  # ICTR: 64 interrupt lines
    0xE000_ED6C: 0x0111_1131,  # ID_ISAR3: SIMD (DSP extension)
    0xE000_ED78: 0x0000_0000,  # CLIDR: no caches
    0xE000_ED90: 0x0000_0800,  # MPU_TYPE: 8 regions
    0xE000_EF40: 0x0000_0000,  # MVFR0: no FPU
    0xE000_EF44: 0x0000_0000,
    0xE000_EF48: 0x0000_0000,
    DWT: 0x4000_0000,  # DWT_CTRL: 4 comparators
}
ROM_ENTRIES = [  # offsets from the ROM table, "present" and "32-bit format" set
    (SCS - ROM_TABLE) & 0xFFFF_F000 | 0x3,
    (DWT - ROM_TABLE) & 0xFFFF_F000 | 0x3,
    (FPB - ROM_TABLE) & 0xFFFF_F000 | 0x3,
    0,  # end of table
]
FP_CTRL_NUM = 0x0000_0260  # FPB v1: 6 code comparators, 2 literal comparators


class DebugAccessError(Exception):
    """An access the debug port cannot complete (the probe turns these into pyocd errors)."""


class BusFault(DebugAccessError):
    """Nothing answers at this address, or it refuses the access (e.g. a bus write to flash)."""


class Unpowered(DebugAccessError):
    """The target has no power: a real probe gets no answer from the debug port."""


class BoardGone(DebugAccessError):
    """The supervisor process is gone: the probe was unplugged."""


def component_ids(part: int, component_class: int) -> dict[int, int]:
    """The CoreSight PIDR/CIDR words at 0xFD0..0xFFC of an Arm component (JEP106 0x43B, 4 KB)."""
    pidr = [part & 0xFF, ((part >> 8) & 0xF) | 0xB0, 0x0B, 0x00]  # Arm: id 0x3B, JEDEC, rev 0
    cidr = [0x0D, (component_class << 4) & 0xF0, 0x05, 0xB1]
    words = {0xFD0: 0x04, 0xFD4: 0, 0xFD8: 0, 0xFDC: 0}  # PIDR4: continuation code 4, size 4 KB
    words.update({0xFE0 + 4 * i: v for i, v in enumerate(pidr)})
    words.update({0xFF0 + 4 * i: v for i, v in enumerate(cidr)})
    return words


ID_REGISTERS = {
    ROM_TABLE: component_ids(0x4C4, 0x1),  # Cortex-M4 ROM table (class 1)
    SCS: component_ids(0x00C, 0xE),
    DWT: component_ids(0x002, 0xE),
    FPB: component_ids(0x003, 0xE),
}


class Ram:
    """Byte-addressed SRAM shared by the probe's thread and the event thread that writes RTT."""

    def __init__(self, base: int, size: int) -> None:
        self.base, self.size = base, size
        self._data = bytearray(size)
        self._lock = threading.Lock()

    def contains(self, addr: int, length: int) -> bool:
        return self.base <= addr and addr + length <= self.base + self.size

    def read(self, addr: int, length: int) -> bytes:
        with self._lock:
            return bytes(self._data[addr - self.base:addr - self.base + length])

    def write(self, addr: int, data: bytes) -> None:
        with self._lock:
            self._data[addr - self.base:addr - self.base + len(data)] = data

    def clear(self) -> None:
        with self._lock:
            self._data[:] = bytes(self.size)


def _status(client: SupervisorClient) -> dict[str, Any]:
    try:
        status = client.status()
    except SupervisorError as exc:
        raise BoardGone(str(exc)) from None
    if status.get("power") != "on":
        raise Unpowered("target unpowered")
    return status


class CortexM4:
    """The memory map and debug registers of the virtual board's core."""

    def __init__(self, client: SupervisorClient, flash_base: int, flash_size: int) -> None:
        self.client = client
        self.flash_base, self.flash_size = flash_base, flash_size
        self.ram = Ram(RAM_BASE, RAM_SIZE)
        self.rtt = RttLog(self.ram, RttLayout(RTT_BASE))
        self.powered = False
        self.power_epoch = 0  # bumped at every power change: a debug session does not survive one
        self.gone = False
        self._lock = threading.RLock()
        self.flash_ctl = FlashController(self.erase, self.program, self._sram)
        self._power_on_reset()

    def _power_on_reset(self) -> None:
        self.ram.clear()
        self.dhcsr_ctrl = 0
        self.demcr = 0
        self.dfsr = 0
        self.dcrdr = 0
        self.stored: dict[int, int] = {}
        self._core_reset()
        self._reset_seen = True
        self._last_pid: int | None = None

    def _core_reset(self) -> None:
        self.core_regs = {13: RAM_BASE + RAM_SIZE, 15: self.flash_base, 16: XPSR_THUMB, 17: RAM_BASE + RAM_SIZE}
        self._reset_seen = True

    # --- what the supervisor reports (event thread) -----------------------

    def attach(self, power: str, run_state: str) -> None:
        """The state at probe open: a running MCU has long since set up its RTT block."""
        with self._lock:
            self.powered = power == "on"
            if self.powered and run_state != "reset":
                self.rtt.init()

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        with self._lock:
            if kind == "power":
                self.powered = event.get("state") == "on"
                self.power_epoch += 1
                self._power_on_reset()
            elif kind == "mcu-start":
                self.rtt.init()  # the firmware's startup code zeroes .bss and sets RTT up again
            elif kind == "console":
                self.rtt.write_line(str(event.get("line", "")))
            elif kind == "gone":
                self.gone, self.powered = True, False
                self.power_epoch += 1

    # --- bus accesses -----------------------------------------------------

    def _check_local(self) -> None:
        if self.gone:
            raise BoardGone("the virtual board's supervisor has exited")
        if not self.powered:
            raise Unpowered("target unpowered")

    def _in_flash(self, addr: int, length: int) -> bool:
        return self.flash_base <= addr and addr + length <= self.flash_base + self.flash_size

    def read(self, addr: int, length: int) -> bytes:
        if self._in_flash(addr, length):
            return self._flash_read(addr, length)
        with self._lock:
            self._check_local()
            if self.ram.contains(addr, length):
                return self.ram.read(addr, length)
            if PPB_BASE <= addr and addr + length <= PPB_END or self.flash_ctl.contains(addr, length):
                start = addr & ~3
                words = b"".join(self._read_word(a).to_bytes(4, "little") for a in range(start, addr + length, 4))
                return words[addr - start:addr - start + length]
        raise BusFault(f"no memory at 0x{addr:08x}+{length}")

    def write(self, addr: int, data: bytes) -> None:
        if self._in_flash(addr, len(data)):
            raise BusFault(f"flash at 0x{addr:08x} is not writable over the bus; program it through the flash interface")
        with self._lock:
            self._check_local()
            if self.ram.contains(addr, len(data)):
                self.ram.write(addr, data)
                return
            if PPB_BASE <= addr and addr + len(data) <= PPB_END or self.flash_ctl.contains(addr, len(data)):
                for word_addr in range(addr & ~3, addr + len(data), 4):
                    lo, hi = max(addr, word_addr), min(addr + len(data), word_addr + 4)
                    if hi - lo == 4:
                        value = int.from_bytes(data[lo - addr:hi - addr], "little")
                    else:  # a byte or halfword store: merge into the word
                        word = bytearray(self._read_word(word_addr, for_write=True).to_bytes(4, "little"))
                        word[lo - word_addr:hi - word_addr] = data[lo - addr:hi - addr]
                        value = int.from_bytes(word, "little")
                    self._write_word(word_addr, value)
                return
        raise BusFault(f"no memory at 0x{addr:08x}+{len(data)}")

    def _flash_read(self, addr: int, length: int) -> bytes:
        try:
            return self.client.read(addr, length)
        except SupervisorError as exc:
            raise self._translate(exc) from None

    def _translate(self, exc: SupervisorError) -> DebugAccessError:
        text = str(exc)
        if "unpowered" in text:
            return Unpowered(text)
        if "closed the connection" in text or "no virtual board supervisor" in text or "control channel" in text:
            self.gone = True
            return BoardGone(text)
        return BusFault(text)

    # --- the private peripheral bus ---------------------------------------

    def _read_word(self, addr: int, for_write: bool = False) -> int:
        if self.flash_ctl.contains(addr, 4):
            return self.flash_ctl.read_word(addr - FLASH_CTL_BASE)
        for base, ids in ID_REGISTERS.items():
            if base <= addr < base + 0x1000 and (addr - base) in ids:
                return ids[addr - base]
        if ROM_TABLE <= addr < ROM_TABLE + 4 * len(ROM_ENTRIES):
            return ROM_ENTRIES[(addr - ROM_TABLE) // 4]
        if addr == ROM_TABLE + 0xFCC:
            return 0x1  # MEMTYPE: system memory present
        if addr == DHCSR:
            return self._dhcsr() if not for_write else self.dhcsr_ctrl
        if addr == DEMCR:
            return self.demcr
        if addr == DFSR:
            return self.dfsr
        if addr == DCRDR:
            return self.dcrdr
        if addr == AIRCR:
            return 0xFA05_0000 | (self.stored.get(AIRCR, 0) & 0x700)
        if addr == FPB:
            return FP_CTRL_NUM | (self.stored.get(FPB, 0) & 0x1)
        if addr in CONSTANT_REGISTERS:
            return CONSTANT_REGISTERS[addr]
        return self.stored.get(addr, 0)

    def _write_word(self, addr: int, value: int) -> None:
        if self.flash_ctl.contains(addr, 4):
            self.flash_ctl.write_word(addr - FLASH_CTL_BASE, value, BusFault, Unpowered)
        elif addr == DHCSR:
            self._write_dhcsr(value)
        elif addr == AIRCR:
            self._write_aircr(value)
        elif addr == DEMCR:
            self.demcr = value
        elif addr == DFSR:
            self.dfsr &= ~value  # write one to clear
        elif addr == DCRDR:
            self.dcrdr = value
        elif addr == DCRSR:
            reg = value & 0x7F
            if value & (1 << 16):
                self.core_regs[reg] = self.dcrdr
            else:
                self.dcrdr = self.core_regs.get(reg, 0)
        elif addr not in CONSTANT_REGISTERS:
            self.stored[addr] = value

    # --- run control --------------------------------------------------------

    def _dhcsr(self) -> int:
        status = self._run_status()
        halted = status["run_state"] in ("halted", "reset")
        value = self.dhcsr_ctrl | S_REGRDY
        if halted:
            value |= S_HALT | C_HALT | C_DEBUGEN
        else:
            value |= S_RETIRE_ST
        if self._reset_seen or (status.get("pid") not in (None, self._last_pid) and self._last_pid is not None):
            value |= S_RESET_ST  # sticky "reset since last read", cleared by this read
        self._reset_seen = False
        self._last_pid = status.get("pid") or self._last_pid
        return value

    def _run_status(self) -> dict[str, Any]:
        try:
            return _status(self.client)
        except BoardGone:
            self.gone = True
            raise

    def halted(self) -> bool:
        with self._lock:
            return self._run_status()["run_state"] in ("halted", "reset")

    def _supervisor(self, op: str, **args: Any) -> None:
        try:
            getattr(self.client, op)(**args)
        except SupervisorError as exc:
            raise self._translate(exc) from None

    def _write_dhcsr(self, value: int) -> None:
        if value >> 16 != DBGKEY:
            return  # writes without the key are ignored by the core
        ctrl = value & 0x2F
        halted = self._run_status()["run_state"] in ("halted", "reset")
        self.dhcsr_ctrl = ctrl & ~C_HALT
        if not ctrl & C_DEBUGEN:
            if halted:
                self._supervisor("resume")
        elif ctrl & C_HALT:
            if not halted:
                self._supervisor("halt")
                self.dfsr |= DFSR_HALTED
        elif halted and not ctrl & C_STEP:
            self._supervisor("resume")
        elif halted:
            self.dfsr |= DFSR_HALTED  # no CPU to step: the "instruction" completes at once

    def _write_aircr(self, value: int) -> None:
        if value >> 16 != VECTKEY:
            return
        self.stored[AIRCR] = value & 0x700
        if value & (SYSRESETREQ | VECTRESET):
            self.system_reset()

    def system_reset(self, hold: bool | None = None) -> None:
        """Reset the MCU; it stays at the reset vector if vector catch is on (or `hold`)."""
        with self._lock:
            catch = bool(self.demcr & VC_CORERESET) if hold is None else hold
            self._supervisor("reset", halt=catch)
            self._core_reset()
            if catch:
                self.dfsr |= DFSR_VCATCH

    def release_reset(self) -> None:
        """nRESET released: the core runs unless vector catch holds it."""
        with self._lock:
            if not self.demcr & VC_CORERESET:
                self._supervisor("resume")

    # --- flash through the supervisor (the target's Flash class calls these) ---

    def erase(self, addr: int, length: int) -> None:
        self._supervisor("erase", addr=addr, length=length)

    def program(self, addr: int, data: bytes) -> None:
        self._supervisor("program", addr=addr, data=data)

    def _sram(self, addr: int, length: int) -> bytes | None:
        """SRAM bytes for the flash controller's PROGRAM (None when the range is not all SRAM)."""
        return self.ram.read(addr, length) if self.ram.contains(addr, length) else None
