"""The virtual board's SW-DP and AHB-AP at register level, plus the fast memory path pyocd prefers.

pyocd connects through DP and AP registers even with a memory-level probe: it
reads DPIDR, powers the debug domain up through CTRL/STAT, scans APs by their
IDR, reads the AHB-AP's CSW/CFG/BASE and then the ROM table behind BASE. These
registers are answered here like a Cortex-M4's SW-DP v1 and AHB-AP; memory goes
to rig.sim.cortex_m_model. A power cut resets the real DP, so a session that
connected before the cut gets transfer errors until it connects again, even if
power is back: exactly what a debugger sees on a board.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from pyocd.core import exceptions
from pyocd.core.memory_interface import MemoryInterface

from rig.sim.cortex_m_model import BoardGone, BusFault, CortexM4, DebugAccessError

DPIDR_VALUE = 0x2BA0_1477  # Arm SW-DP v1 (Cortex-M3/M4)
AHB_AP_IDR = 0x2477_0011  # Arm AHB-AP of a Cortex-M3/M4
ROM_BASE_VALUE = 0xE00F_F003  # ROM table at 0xE00FF000, ADIv5 format, present
DP_IDR, DP_CTRL_STAT, DP_SELECT, DP_RDBUFF = 0x0, 0x4, 0x8, 0xC
CDBGPWRUPREQ, CSYSPWRUPREQ = 1 << 28, 1 << 30
AP_CSW, AP_TAR, AP_DRW, AP_CFG, AP_BASE, AP_IDR = 0x00, 0x04, 0x0C, 0xF4, 0xF8, 0xFC
CSW_DEVICEEN = 1 << 6
CSW_SIZE_BYTES = {0: 1, 1: 2, 2: 4}


class DebugPort:
    """DP and AP registers of one probe connection; errors come out as pyocd exceptions."""

    def __init__(self, core: CortexM4, name: str) -> None:
        self.core = core
        self.name = name  # the board's unique id, for messages
        self._epoch: int | None = None  # power epoch at the last DPIDR read (line reset + IDCODE)
        self._ctrl_stat = 0
        self._csw = 0x2300_0052  # HPROT data/privileged, DEVICEEN, auto-increment, 32-bit
        self._tar = 0
        self._rdbuff = 0

    # --- error mapping ------------------------------------------------------

    def error(self, exc: DebugAccessError, addr: int | None = None, length: int | None = None) -> Exception:
        if isinstance(exc, BusFault):
            return exceptions.TransferFaultError(f"virtual board {self.name}: {exc}", fault_address=addr,
                                                 length=length)
        if isinstance(exc, BoardGone):
            return exceptions.ProbeDisconnected(f"virtual board {self.name}: {exc}")
        return exceptions.TransferError(f"virtual board {self.name}: {exc} (power it on, then connect again)")

    def _require_session(self) -> None:
        """Accesses after a power change fail until the DP is reconnected (DPIDR read)."""
        core = self.core
        if core.gone:
            raise exceptions.ProbeDisconnected(f"virtual board {self.name}: the supervisor has exited")
        if not core.powered:
            raise exceptions.TransferError(f"virtual board {self.name}: target unpowered (power it on, then connect again)")
        if self._epoch != core.power_epoch:
            raise exceptions.TransferError(
                f"virtual board {self.name}: the target lost power since this session connected; open a new session")

    # --- memory --------------------------------------------------------------

    def read(self, addr: int, length: int) -> bytes:
        self._require_session()
        try:
            return self.core.read(addr & 0xFFFF_FFFF, length)
        except DebugAccessError as exc:
            raise self.error(exc, addr, length) from None

    def write(self, addr: int, data: bytes) -> None:
        self._require_session()
        try:
            self.core.write(addr & 0xFFFF_FFFF, data)
        except DebugAccessError as exc:
            raise self.error(exc, addr, len(data)) from None

    # --- DP registers -----------------------------------------------------------

    def read_dp(self, addr: int) -> int:
        if addr == DP_IDR:
            try:
                self.core.halted()  # a round trip: does the target answer at all?
            except DebugAccessError as exc:
                raise self.error(exc) from None
            self._epoch = self.core.power_epoch
            return DPIDR_VALUE
        self._require_session()
        if addr == DP_CTRL_STAT:
            return self._ctrl_stat | ((self._ctrl_stat & (CDBGPWRUPREQ | CSYSPWRUPREQ)) << 1)
        if addr == DP_RDBUFF:
            return self._rdbuff
        return 0

    def write_dp(self, addr: int, value: int) -> None:
        if addr == DP_CTRL_STAT:
            self._ctrl_stat = value & (CDBGPWRUPREQ | CSYSPWRUPREQ | 0x0F00)
        # ABORT and SELECT need no emulation: the probe manages AP selection

    # --- AP registers (APSEL in bits 31:24; only AP #0 exists) -----------------

    def read_ap(self, addr: int) -> int:
        self._require_session()
        apsel, reg = addr >> 24, addr & 0xFC
        if apsel != 0:
            return 0  # no AP here: IDR reads as zero and the scan stops
        value = {AP_CSW: self._csw | CSW_DEVICEEN, AP_TAR: self._tar, AP_CFG: 0, AP_BASE: ROM_BASE_VALUE,
                 AP_IDR: AHB_AP_IDR}.get(reg)
        if reg == AP_DRW:
            size = CSW_SIZE_BYTES[self._csw & 0x7]
            lane = self._tar & 3  # the AHB-AP puts data on the byte lanes of its address
            value = int.from_bytes(self.read(self._tar, size), "little") << (8 * lane)
            self._advance(size)
        self._rdbuff = value or 0
        return self._rdbuff

    def write_ap(self, addr: int, value: int) -> None:
        self._require_session()
        apsel, reg = addr >> 24, addr & 0xFC
        if apsel != 0:
            return
        if reg == AP_CSW:
            size = value & 0x7
            self._csw = (value & ~0x7) | (size if size in CSW_SIZE_BYTES else 2)
        elif reg == AP_TAR:
            self._tar = value & 0xFFFF_FFFF
        elif reg == AP_DRW:
            size = CSW_SIZE_BYTES[self._csw & 0x7]
            lane = self._tar & 3
            self.write(self._tar, ((value >> (8 * lane)) & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))
            self._advance(size)

    def _advance(self, size: int) -> None:
        if self._csw & 0x30 == 0x10:  # single auto-increment, wrapping in a 1 KB page like the AHB-AP
            self._tar = (self._tar & ~0x3FF) | ((self._tar + size) & 0x3FF)


class BusMemoryInterface(MemoryInterface):
    """The accelerated memory path: whole blocks per call instead of TAR/DRW pairs."""

    def __init__(self, port: DebugPort) -> None:
        self.port = port

    def write_memory(self, addr: int, data: int, transfer_size: int = 32, **attrs: Any) -> None:
        self.port.write(addr, (data & ((1 << transfer_size) - 1)).to_bytes(transfer_size // 8, "little"))

    def read_memory(self, addr: int, transfer_size: int = 32, now: bool = True, **attrs: Any) -> int | Callable[[], int]:
        value = int.from_bytes(self.port.read(addr, transfer_size // 8), "little")
        return value if now else (lambda: value)

    def write_memory_block32(self, addr: int, data: Sequence[int], **attrs: Any) -> None:
        self.port.write(addr, b"".join((w & 0xFFFF_FFFF).to_bytes(4, "little") for w in data))

    def read_memory_block32(self, addr: int, size: int, **attrs: Any) -> Sequence[int]:
        raw = self.port.read(addr, size * 4)
        return [int.from_bytes(raw[i:i + 4], "little") for i in range(0, len(raw), 4)]

    def write_memory_block8(self, addr: int, data: Sequence[int], **attrs: Any) -> None:
        self.port.write(addr, bytes(data))

    def read_memory_block8(self, addr: int, size: int, **attrs: Any) -> Sequence[int]:
        return list(self.port.read(addr, size))
