"""The application's side of MCUboot (bootutil_public.c), as the virtual device's firmware does it.

boot_set_pending_multi and boot_set_confirmed_multi, in their write order: a
power cut between two of these writes is one of the cases the rig checks.
"""

from __future__ import annotations

from typing import Any

from rig.sim.bootutil.area import Area
from rig.sim.bootutil.trailer import FLAG_UNSET, MAGIC_BAD, MAGIC_GOOD, MAGIC_UNSET, TYPE_PERM, TYPE_TEST, Geometry


class TrailerRefused(Exception):
    """boot_set_pending/confirmed returned an error (BOOT_EBADIMAGE / BOOT_EBADVECT)."""


def slot_area(flash: Any, layout: Any, name: str) -> Area:
    return Area(flash, layout.partition(name), layout.sector_size)


def set_pending(flash: Any, layout: Any, permanent: bool = False) -> None:
    """boot_set_pending_multi: magic, image_ok when permanent, then swap_info (test or perm)."""
    geo, fa = Geometry(layout), slot_area(flash, layout, "secondary")
    magic = geo.read_magic(fa)
    if magic == MAGIC_GOOD:
        return  # swap already scheduled
    if magic == MAGIC_BAD:
        fa.erase_all()
        raise TrailerRefused("secondary slot trailer is corrupt; the slot was erased")
    geo.write_magic(fa)
    if permanent:
        geo.write_image_ok(fa)
    geo.write_swap_info(fa, TYPE_PERM if permanent else TYPE_TEST)


def set_confirmed(flash: Any, layout: Any) -> bool:
    """boot_set_confirmed_multi; True if it wrote image_ok."""
    geo, fa = Geometry(layout), slot_area(flash, layout, "primary")
    state = geo.read_swap_state(fa)
    if state.magic == MAGIC_UNSET:
        return False  # already confirmed
    if state.magic == MAGIC_BAD:
        raise TrailerRefused("primary slot trailer has a bad magic; cannot confirm the running image")
    if state.image_ok != FLAG_UNSET:
        return False
    geo.write_image_ok(fa)
    return True


def running_unconfirmed(flash: Any, layout: Any) -> bool:
    """The primary trailer asks for a revert at the next boot (magic good, image_ok unset)."""
    geo, fa = Geometry(layout), slot_area(flash, layout, "primary")
    state = geo.read_swap_state(fa)
    return state.magic == MAGIC_GOOD and state.image_ok == FLAG_UNSET
