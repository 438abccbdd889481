"""The debug port's memory operations on the virtual board's flash: read, erase, program by address.

Kept apart from the supervisor (which owns power and the MCU process): this is the
probe's view of the chip, addresses over the target's memory map, checked against it.
"""

from __future__ import annotations

from typing import Any

from rig.errors import RigError
from rig.sim import control
from rig.sim.flash import FlashError


def offset_of(layout: Any, addr: Any, length: Any) -> int:
    """The flash offset of [addr, addr+length); RigError names a range outside the flash."""
    if not isinstance(addr, int) or not isinstance(length, int) or length < 0:
        raise RigError(f"address {addr!r} / length {length!r} must be non-negative integers")
    offset = addr - layout.base
    if offset < 0 or offset + length > layout.size:
        raise RigError(f"range 0x{addr:x}+0x{length:x} outside flash 0x{layout.base:x}..0x{layout.base + layout.size:x}")
    return offset


def memory_op(flash: Any, layout: Any, op: str, request: dict[str, Any]) -> dict[str, Any]:
    """One of read/erase/program, as the control channel answers it."""
    if op == "read":
        length = request.get("length")
        return {"data": control.pack_data(flash.read(offset_of(layout, request.get("addr"), length), length))}
    if op == "erase":
        sector = layout.sector_size
        length = request.get("length", sector)
        offset = offset_of(layout, request.get("addr"), length)
        if offset % sector or length % sector:
            raise RigError(f"erase range 0x{offset:x}+0x{length:x} is not aligned to sectors of 0x{sector:x}")
        flash.erase(offset, length)
    else:
        data = control.unpack_data(str(request.get("data", "")))
        offset = offset_of(layout, request.get("addr"), len(data))
        try:
            flash.program(offset, data)
        except FlashError as exc:  # the probe's request broke a flash rule: an answer, not a dropped connection
            raise RigError(f"program refused: {exc}") from None
    flash.flush()
    return {}


def layout_info(layout: Any) -> dict[str, Any]:
    return {
        "base": layout.base, "size": layout.size, "sector_size": layout.sector_size,
        "write_size": layout.write_size, "erased_value": layout.erased_value,
        "partitions": {n: [p.offset, p.size] for n, p in layout.partitions.items()},
    }


def armed_cut(request: dict[str, Any]) -> dict[str, Any]:
    """The `arm-cut` request checked: {"flash_op": N >= 0, "torn": bool, "seed": int}."""
    op, torn, seed = request.get("flash_op"), request.get("torn", False), request.get("seed", 0)
    if not isinstance(op, int) or isinstance(op, bool) or op < 0:
        raise RigError(f"arm-cut flash_op {op!r} must be a flash operation number >= 0")
    if not isinstance(torn, bool):
        raise RigError(f"arm-cut torn {torn!r} must be true or false")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise RigError(f"arm-cut seed {seed!r} must be an integer")
    return {"flash_op": op, "torn": torn, "seed": seed}
