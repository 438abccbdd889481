"""A probe for host-process targets, whose "flash" is one file in the working directory (native_sim's --flash).

It behaves like a debug probe on NOR flash so the same bench commands work:
program erases the sectors it touches and writes the image; erase sets
erased_value; reads and writes outside the flash range are errors. Use it while
the process is off, as you would not reflash a running MCU either.
"""

from __future__ import annotations

from pathlib import Path

from rig.flash_layout import FlashLayout
from rig.probe.base import ProbeBase, ProbeError, image_format
from rig.timeline import Timeline


def load_image(path: Path, address: int | None) -> list[tuple[int, bytes]]:
    """(address, data) segments of a bin (at `address`), Intel HEX or ELF (their own load addresses)."""
    kind = image_format(path)
    try:
        if kind == "bin":
            if address is None:
                raise ProbeError(f"{path}: a .bin image has no address; give one (e.g. the primary slot's)")
            return [(address, Path(path).read_bytes())]
        if kind == "hex":
            from intelhex import IntelHex  # noqa: PLC0415 -- only for .hex images

            hexfile = IntelHex(str(path))
            return [(start, hexfile.tobinstr(start, end - 1)) for start, end in hexfile.segments()]
        from elftools.elf.elffile import ELFFile  # noqa: PLC0415 -- only for .elf images

        with open(path, "rb") as src:
            elf = ELFFile(src)
            return [
                (seg["p_paddr"], seg.data()[: seg["p_filesz"]])
                for seg in elf.iter_segments()
                if seg["p_type"] == "PT_LOAD" and seg["p_filesz"] > 0
            ]
    except FileNotFoundError:
        raise ProbeError(f"image {path} not found") from None
    except ProbeError:
        raise
    except Exception as exc:  # intelhex / elftools parse errors
        raise ProbeError(f"{path}: not a valid {kind} image: {exc}") from exc


class FileProbe(ProbeBase):
    backend = "file"

    resets_target = False  # the process restarts by a power cycle, not through its flash file
    takes_layout = True

    def __init__(self, flash_file: Path, layout: FlashLayout, *, name: str = "", timeline: Timeline | None = None) -> None:
        super().__init__(name=name, timeline=timeline)
        self.path = Path(flash_file)
        self.layout = layout

    def _check(self, address: int, length: int) -> int:
        offset = address - self.layout.base
        if offset < 0 or length < 0 or offset + length > self.layout.size:
            raise ProbeError(
                f"range 0x{address:x}+0x{length:x} is outside flash 0x{self.layout.base:x}..0x{self.layout.base + self.layout.size:x}"
            )
        return offset

    def _image(self) -> bytearray:
        if self.path.exists():
            data = bytearray(self.path.read_bytes())
            if len(data) < self.layout.size:
                data += bytes([self.layout.erased_value]) * (self.layout.size - len(data))
            return data
        return bytearray([self.layout.erased_value]) * self.layout.size

    def _store(self, data: bytearray) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".rig-tmp")
        tmp.write_bytes(data)
        tmp.replace(self.path)  # never a half-written flash file

    def program(self, path: Path, address: int | None = None) -> None:
        segments = load_image(path, address)
        flash = self._image()
        sector = self.layout.sector_size
        for seg_address, blob in segments:
            offset = self._check(seg_address, len(blob))
            first = offset - offset % sector
            last = -(-(offset + len(blob)) // sector) * sector
            flash[first:last] = bytes([self.layout.erased_value]) * (last - first)
            flash[offset : offset + len(blob)] = blob
        self._store(flash)
        self._event("program", file=str(path), segments=[[a, len(b)] for a, b in segments])

    def erase(self, address: int, length: int) -> None:
        offset = self._check(address, length)
        sector = self.layout.sector_size
        if offset % sector or length % sector:
            raise ProbeError(f"erase 0x{address:x}+0x{length:x} is not aligned to the 0x{sector:x} sector size")
        flash = self._image()
        flash[offset : offset + length] = bytes([self.layout.erased_value]) * length
        self._store(flash)
        self._event("erase", address=address, length=length)

    def read(self, address: int, length: int, path: Path) -> None:
        offset = self._check(address, length)
        Path(path).write_bytes(bytes(self._image()[offset : offset + length]))
        self._event("read", address=address, length=length, file=str(path))

    def reset(self, halt: bool = False) -> None:
        self._event("reset", halt=halt)  # a process target resets by a power cycle; nothing to do on the file

    def halt(self) -> None:
        self._event("halt")
