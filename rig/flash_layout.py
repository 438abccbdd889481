"""Flash geometry and partitions of a target, read from its targets/*.toml file.

Every piece that touches flash (the flash model, the bootloader, the MCUboot
decoder, the probe, `rig inspect`) takes its numbers from here, so a board's
sector size or slot offsets are written down once, in the target file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rig.errors import RigError

MCUBOOT_MODES = ("swap-scratch", "swap-move")
MCUBOOT_KEYS = ("mode", "header_size", "max_align", "max_sectors")
REQUIRED_PARTITIONS = ("primary", "secondary")


@dataclass(frozen=True)
class Partition:
    """A named region; offset is relative to the flash base."""

    name: str
    offset: int
    size: int

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass(frozen=True)
class FlashLayout:
    """What a flash chip and its MCUboot configuration look like on one target."""

    base: int
    size: int
    sector_size: int
    write_size: int
    rewrite_allowed: bool
    erased_value: int
    partitions: dict[str, Partition]
    mcuboot_mode: str
    header_size: int
    max_align: int
    # MCUboot's BOOT_MAX_IMG_SECTORS: sizes the status area of a slot trailer
    # (imgtool's --max-sectors). 0 means MCUboot's automatic rule
    # (Zephyr's CONFIG_BOOT_MAX_IMG_SECTORS_AUTO, the default since MCUboot 2.2):
    # the sector count of the larger slot.
    max_sectors: int = 0
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.max_sectors:
            object.__setattr__(self, "max_sectors", self.auto_max_sectors())

    def auto_max_sectors(self) -> int:
        """BOOT_MAX_IMG_SECTORS_AUTO: the larger slot's size in sectors."""
        slots = [self.partitions[n].size for n in ("primary", "secondary") if n in self.partitions]
        return max(slots, default=0) // self.sector_size

    def slot_sectors(self, name: str) -> int:
        return self.partition(name).size // self.sector_size

    def partition(self, name: str) -> Partition:
        try:
            return self.partitions[name]
        except KeyError:
            known = ", ".join(sorted(self.partitions)) or "none"
            where = f" in {self.source}" if self.source else ""
            raise RigError(f"no partition {name!r}{where} (partitions: {known})") from None

    @classmethod
    def from_target(cls, data: dict[str, Any], source: str) -> "FlashLayout":
        """Validate the [flash] and [mcuboot] tables of a parsed target file; errors name file and key."""
        flash = _table(data, "flash", source)
        mcuboot = data.get("mcuboot", {})
        if not isinstance(mcuboot, dict):
            raise RigError(f"{source}: [mcuboot] must be a table")
        size = _int(flash, "size", source, "flash")
        sector_size = _int(flash, "sector_size", source, "flash")
        write_size = _int(flash, "write_size", source, "flash")
        erased_value = _int(flash, "erased_value", source, "flash", default=0xFF)
        if sector_size <= 0 or size % sector_size:
            raise RigError(f"{source}: flash.size 0x{size:x} is not a multiple of flash.sector_size 0x{sector_size:x}")
        if write_size not in (1, 2, 4, 8, 16, 32):
            raise RigError(f"{source}: flash.write_size {write_size} must be one of 1, 2, 4, 8, 16, 32")
        if erased_value not in (0x00, 0xFF):
            raise RigError(f"{source}: flash.erased_value must be 0xff or 0x00, not 0x{erased_value:x}")
        rewrite = flash.get("rewrite_allowed", False)
        if not isinstance(rewrite, bool):
            raise RigError(f"{source}: flash.rewrite_allowed must be true or false")
        partitions = _partitions(flash, source, size, sector_size)
        # no [mcuboot] table and no scratch: a flash that holds no MCUboot images, nothing to require of it
        mode = mcuboot.get("mode", "swap-scratch" if "mcuboot" in data or "scratch" in partitions else "swap-move")
        if mode not in MCUBOOT_MODES:
            raise RigError(f"{source}: mcuboot.mode {mode!r} must be one of {', '.join(MCUBOOT_MODES)}")
        max_align = _int(mcuboot, "max_align", source, "mcuboot", default=max(8, write_size))
        if max_align not in (8, 16, 32) or max_align < write_size:
            raise RigError(f"{source}: mcuboot.max_align {max_align} must be 8, 16 or 32 and >= flash.write_size")
        if mode == "swap-scratch" and "scratch" not in partitions:
            raise RigError(f"{source}: mcuboot.mode swap-scratch needs a flash.partitions.scratch entry")
        unknown = sorted(set(mcuboot) - set(MCUBOOT_KEYS))
        if unknown:
            raise RigError(f"{source}: unknown key mcuboot.{unknown[0]} (known: {', '.join(MCUBOOT_KEYS)})")
        max_sectors = _int(mcuboot, "max_sectors", source, "mcuboot", default=0)
        slot_sectors = max(partitions[n].size for n in REQUIRED_PARTITIONS) // sector_size
        if max_sectors and max_sectors < slot_sectors:
            raise RigError(f"{source}: mcuboot.max_sectors {max_sectors} is less than the {slot_sectors} sectors "
                           f"of a slot: MCUboot would refuse every swap (\"more sectors than allowed\")")
        return cls(
            base=_int(flash, "base", source, "flash", default=0),
            size=size,
            sector_size=sector_size,
            write_size=write_size,
            rewrite_allowed=rewrite,
            erased_value=erased_value,
            partitions=partitions,
            mcuboot_mode=mode,
            header_size=_int(mcuboot, "header_size", source, "mcuboot", default=0x200),
            max_align=max_align,
            max_sectors=max_sectors,
            source=source,
        )


def load_layout(path: Path) -> FlashLayout:
    """Read a target file and return its flash layout (RigError when missing or malformed)."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise RigError(f"target file {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise RigError(f"{path}: not valid TOML: {exc}") from None
    return FlashLayout.from_target(data, str(path))


def _table(data: dict[str, Any], key: str, source: str) -> dict[str, Any]:
    table = data.get(key)
    if not isinstance(table, dict):
        raise RigError(f"{source}: missing [{key}] table")
    return table


def _int(table: dict[str, Any], key: str, source: str, prefix: str, default: int | None = None) -> int:
    value = table.get(key, default)
    if value is None:
        raise RigError(f"{source}: missing {prefix}.{key}")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RigError(f"{source}: {prefix}.{key} must be a non-negative integer, not {value!r}")
    return value


def _partitions(flash: dict[str, Any], source: str, size: int, sector_size: int) -> dict[str, Partition]:
    raw = flash.get("partitions")
    if not isinstance(raw, dict):
        raise RigError(f"{source}: missing [flash.partitions] table")
    parts: dict[str, Partition] = {}
    for name, value in raw.items():
        key = f"flash.partitions.{name}"
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
            raise RigError(f"{source}: {key} must be [offset, size], not {value!r}")
        offset, length = value
        if length <= 0 or offset % sector_size or length % sector_size:
            raise RigError(f"{source}: {key} = [0x{offset:x}, 0x{length:x}] is not sector-aligned (sector 0x{sector_size:x})")
        if offset + length > size:
            raise RigError(f"{source}: {key} ends at 0x{offset + length:x}, past the flash size 0x{size:x}")
        for other in parts.values():
            if offset < other.end and other.offset < offset + length:
                raise RigError(f"{source}: {key} overlaps flash.partitions.{other.name}")
        parts[name] = Partition(name, offset, length)
    for name in REQUIRED_PARTITIONS:
        if name not in parts:
            raise RigError(f"{source}: missing flash.partitions.{name}")
    return parts
