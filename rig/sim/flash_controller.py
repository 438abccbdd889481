"""The virtual board's flash controller: erase and program commands as memory-mapped registers.

A real MCU's flash is programmed through a peripheral (NXP's FTFE, ST's FLASH_CR):
the debugger writes address, length and a command into its registers and the
controller does the work. The virtual board has one too, so pyocd can program it
over any path that reaches memory, a `pyocd server` on another machine included
(`remote:HOST:PORT`, what a labgrid exporter serves): the data goes into SRAM
first, as a flash algorithm's buffer would, then PROGRAM copies it into flash.

Registers (32-bit, at FLASH_CTL_BASE):
  +0x00 CMD   write 1 = erase ADDR..ADDR+LEN, 2 = program LEN bytes from SRC (in SRAM) to ADDR
  +0x04 ADDR  +0x08 LEN  +0x0C SRC
  +0x10 STAT  bit 0 READY (always 1 after a command returns), bit 1 ERROR (write 1 to clear)
  +0x14 ERRNO  the last error, as an index into ERRORS (0 = none)
"""

from __future__ import annotations

from typing import Callable

FLASH_CTL_BASE = 0x4002_0000
FLASH_CTL_SIZE = 0x100
CMD, ADDR, LEN, SRC, STAT, ERRNO = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14
CMD_ERASE, CMD_PROGRAM = 1, 2
STAT_READY, STAT_ERROR = 1 << 0, 1 << 1
ERRORS = ("", "unknown command", "source outside SRAM", "flash operation refused", "target unpowered")
BUFFER_BASE = 0x2000_8000  # where a programmer stages data: above the RTT block, inside the modelled SRAM
BUFFER_SIZE = 0x8000


class FlashController:
    """Register file of the controller; `run` carries a command out through the callbacks the core gives it."""

    def __init__(self, erase: Callable[[int, int], None], program: Callable[[int, bytes], None],
                 read_sram: Callable[[int, int], bytes | None]) -> None:
        self._erase, self._program, self._read_sram = erase, program, read_sram
        self.regs = {ADDR: 0, LEN: 0, SRC: 0, STAT: STAT_READY, ERRNO: 0}

    @staticmethod
    def contains(addr: int, length: int) -> bool:
        return FLASH_CTL_BASE <= addr and addr + length <= FLASH_CTL_BASE + FLASH_CTL_SIZE

    def read_word(self, offset: int) -> int:
        return self.regs.get(offset, 0)

    def write_word(self, offset: int, value: int, refused: type[Exception], unpowered: type[Exception]) -> None:
        if offset == STAT:
            if value & STAT_ERROR:
                self.regs[STAT] = STAT_READY
                self.regs[ERRNO] = 0
        elif offset == CMD:
            self._run(value, refused, unpowered)
        elif offset in (ADDR, LEN, SRC):
            self.regs[offset] = value & 0xFFFF_FFFF

    def _run(self, command: int, refused: type[Exception], unpowered: type[Exception]) -> None:
        addr, length = self.regs[ADDR], self.regs[LEN]
        try:
            if command == CMD_ERASE:
                self._erase(addr, length)
            elif command == CMD_PROGRAM:
                data = self._read_sram(self.regs[SRC], length)
                if data is None:
                    return self._fail(2)
                self._program(addr, data)
            else:
                return self._fail(1)
        except unpowered:
            return self._fail(4)
        except refused:
            return self._fail(3)
        self.regs[STAT] = STAT_READY

    def _fail(self, errno: int) -> None:
        self.regs[STAT] = STAT_READY | STAT_ERROR
        self.regs[ERRNO] = errno


def error_text(errno: int) -> str:
    return ERRORS[errno] if 0 <= errno < len(ERRORS) else f"error {errno}"
