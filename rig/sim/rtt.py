"""SEGGER RTT in the virtual board's RAM: the MCU's log as up channel 0, found and read by pyocd.

On a Zephyr board that logs over RTT, the firmware places a control block
("SEGGER RTT", then buffer descriptors) in RAM and writes each log line into an
up-channel ring buffer; the debugger finds the block by scanning RAM, reads from
RdOff to WrOff and writes RdOff back. The virtual MCU is a separate Python
process whose RAM the debug port cannot see, so the probe plugin keeps the RAM
image and plays the firmware's part here: it lays out the control block when
the MCU starts and appends each console line the supervisor reports on its
control channel's `events` stream (chosen over the console TCP port because the
same stream says when power goes and when the MCU restarts, which is when a
real firmware's RAM and RTT state are lost and re-initialised).

Lines logged before the probe attached are not in the buffer (the plugin was not
there to see them); everything after is, until the ring fills. A full ring drops
whole lines, as SEGGER's default NO_BLOCK_SKIP mode does, so the host never reads
half a line.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Protocol

CONTROL_BLOCK_ID = b"SEGGER RTT"
CB_HEADER = struct.Struct("<16sii")  # acID, MaxNumUpBuffers, MaxNumDownBuffers
DESCRIPTOR = struct.Struct("<IIIIII")  # sName, pBuffer, SizeOfBuffer, WrOff, RdOff, Flags
WROFF_AT = 12  # offset of WrOff in a descriptor; RdOff follows
MODE_NO_BLOCK_SKIP = 0


class RamLike(Protocol):
    def read(self, addr: int, length: int) -> bytes: ...

    def write(self, addr: int, data: bytes) -> None: ...


@dataclass(frozen=True)
class RttLayout:
    """Where the firmware's RTT structures sit in RAM (one up and one down channel, like SEGGER's defaults)."""

    base: int  # control block address
    up_size: int = 4096
    down_size: int = 16
    channel_name: bytes = b"Terminal\0"

    @property
    def up_descriptor(self) -> int:
        return self.base + CB_HEADER.size

    @property
    def down_descriptor(self) -> int:
        return self.up_descriptor + DESCRIPTOR.size

    @property
    def name_address(self) -> int:
        return self.down_descriptor + DESCRIPTOR.size

    @property
    def up_buffer(self) -> int:
        return (self.name_address + len(self.channel_name) + 7) & ~7

    @property
    def down_buffer(self) -> int:
        return self.up_buffer + self.up_size

    @property
    def end(self) -> int:
        return self.down_buffer + self.down_size


class RttLog:
    """The firmware side of RTT over a RAM image: init at MCU start, then append log lines."""

    def __init__(self, ram: RamLike, layout: RttLayout) -> None:
        self.ram = ram
        self.layout = layout
        self.dropped = 0  # lines skipped because the host had not read enough

    def init(self) -> None:
        """What SEGGER_RTT_Init does at boot: descriptors first, the id string last."""
        lay = self.layout
        self.ram.write(lay.name_address, lay.channel_name)
        self.ram.write(lay.up_descriptor, DESCRIPTOR.pack(lay.name_address, lay.up_buffer, lay.up_size, 0, 0,
                                                          MODE_NO_BLOCK_SKIP))
        self.ram.write(lay.down_descriptor, DESCRIPTOR.pack(lay.name_address, lay.down_buffer, lay.down_size, 0, 0,
                                                            MODE_NO_BLOCK_SKIP))
        self.ram.write(lay.base, CB_HEADER.pack(b"\0" * 16, 1, 1))
        self.ram.write(lay.base, CONTROL_BLOCK_ID)

    def is_initialised(self) -> bool:
        return self.ram.read(self.layout.base, len(CONTROL_BLOCK_ID)) == CONTROL_BLOCK_ID

    def write(self, data: bytes) -> bool:
        """Append `data` to up channel 0 if it fits whole; False (and counted) if the ring is too full."""
        if not self.is_initialised():
            return False
        lay = self.layout
        wr, rd = struct.unpack("<II", self.ram.read(lay.up_descriptor + WROFF_AT, 8))
        size = lay.up_size
        if wr >= size or rd >= size:
            wr = rd = 0  # a corrupt descriptor: firmware would misbehave; start over rather than crash
        free = (rd - wr - 1) % size
        if len(data) > free:
            self.dropped += 1
            return False
        first = min(len(data), size - wr)
        self.ram.write(lay.up_buffer + wr, data[:first])
        if first < len(data):
            self.ram.write(lay.up_buffer, data[first:])
        self.ram.write(lay.up_descriptor + WROFF_AT, struct.pack("<I", (wr + len(data)) % size))
        return True

    def write_line(self, line: str) -> bool:
        return self.write(line.encode("utf-8", "replace") + b"\n")
