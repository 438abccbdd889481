"""What MCUboot will do on the next boot, from the trailers alone (loader.c boot_prepare_image_for_update).

1. Where the status of an interrupted swap lives (swap_status_source):
   swap-scratch: boot_status_tables of swap_scratch.c (primary slot, scratch or none);
   swap-move: the primary slot when its magic is good and copy_done unset; else,
   when neither slot's magic is good but the fallback trailer's is, MCUboot rewrites
   the primary trailer as a revert and resumes from it; else none.
2. With a status found, the swap is resumed with the raw swap type of swap_info
   (swap_read_status keeps any low nibble: a type no case knows is still swapped,
   but then no image_ok/copy_done is written).
3. With no status but a swap type in that trailer (set up, no step done), the
   secondary is validated: invalid -> BOOT_SWAP_TYPE_FAIL (MCUboot writes the
   primary's image_ok); valid -> that swap (test/perm/revert), FAIL -> only image_ok,
   anything else -> panic.
4. Otherwise boot_swap_tables (bootutil_public.c boot_swap_type_multi) decide, and
   an upgrade needs a valid secondary (boot_validated_swap_type): an erased one is
   "none" (its trailer erased), an invalid one is "none" too (the slot erased).
A state that matches no row of the swap table is reported with matched=False:
MCUboot then does nothing, and after a completed swap that is a warning sign.
"""

from __future__ import annotations

from dataclasses import dataclass

from rig.mcuboot.trailer import (
    BAD, GOOD, SET, SWAP_FAIL, SWAP_NONE, SWAP_PERM, SWAP_REVERT, SWAP_TEST, UNSET, UPGRADES, Trailer, swap_name,
)

ANY, NOTGOOD = "any", "notgood"

# (primary magic, secondary magic, primary image_ok, secondary image_ok, primary copy_done) -> swap
SWAP_TABLE = (
    ((ANY, GOOD, ANY, UNSET, ANY), SWAP_TEST),
    ((ANY, GOOD, ANY, SET, ANY), SWAP_PERM),
    ((GOOD, UNSET, UNSET, ANY, SET), SWAP_REVERT),
)
# (primary magic, scratch magic, primary copy_done) -> status source (swap_scratch.c)
STATUS_TABLE = (
    ((GOOD, NOTGOOD, SET), "none"),
    ((GOOD, NOTGOOD, UNSET), "primary"),
    ((ANY, GOOD, ANY), "scratch"),
    ((UNSET, ANY, UNSET), "primary"),
)
FALLBACK = "fallback"  # swap-move: the primary trailer is rewritten from the fallback trailer


def _match(want: str, have: str) -> bool:
    return want == ANY or want == have or (want == NOTGOOD and have != GOOD)


def status_source(primary: Trailer, scratch: Trailer | None, mode: str = "swap-scratch",
                  secondary: Trailer | None = None, fallback_magic: str = UNSET) -> str:
    """swap_status_source: "primary", "scratch", "fallback" (swap-move, rewritten as a revert) or "none"."""
    if mode == "swap-move":
        if primary.magic == GOOD and primary.copy_done == UNSET:
            return "primary"
        if primary.magic != GOOD and (secondary is None or secondary.magic != GOOD) and fallback_magic == GOOD:
            return FALLBACK
        return "none"
    scratch_magic = scratch.magic if scratch is not None else UNSET
    for (p_magic, s_magic, p_done), source in STATUS_TABLE:
        if scratch is None and source == "scratch":
            continue
        if _match(p_magic, primary.magic) and _match(s_magic, scratch_magic) and _match(p_done, primary.copy_done):
            return source
    return "none"


def table_swap(primary: Trailer, secondary: Trailer) -> tuple[int, bool]:
    """boot_swap_type_multi: (swap type, whether a row matched)."""
    have = (primary.magic, secondary.magic, primary.image_ok, secondary.image_ok, primary.copy_done)
    for want, swap in SWAP_TABLE:
        if all(_match(w, h) for w, h in zip(want, have)):
            return swap, True
    return SWAP_NONE, False


@dataclass(frozen=True)
class NextBoot:
    """What the bootloader will do: swap (none/test/perm/revert/fail/panic or 0x..), and whether it resumes one.

    writes: trailer fields MCUboot writes besides any swap (e.g. "primary image_ok" for a failed swap).
    """

    swap: str
    resume: bool
    source: str
    matched: bool
    reason: str
    writes: tuple[str, ...] = ()

    def describe(self) -> str:
        verb = f"resume {self.swap} swap" if self.resume else (
            "no swap" if self.swap == "none" else ("bootloader panic" if self.swap == "panic" else
                                                   f"{self.swap} swap"))
        extra = f"; writes {', '.join(self.writes)}" if self.writes else ""
        return f"{verb} ({self.reason}{extra})"


def _clean(primary: Trailer, secondary: Trailer) -> bool:
    """A state with no swap asked for that is also not a half-written trailer."""
    return primary.magic != BAD and secondary.magic != BAD and BAD not in (primary.image_ok, primary.copy_done)


def next_boot(primary: Trailer, secondary: Trailer, scratch: Trailer | None, secondary_valid: bool,
              secondary_erased: bool = False, mode: str = "swap-scratch", fallback_magic: str = UNSET) -> NextBoot:
    """Predict the next boot from decoded trailers and whether the secondary image validates."""
    source = status_source(primary, scratch, mode, secondary, fallback_magic)
    if source == FALLBACK:
        return _from_trailer(SWAP_REVERT, "primary", secondary_valid, secondary_erased,
                             "primary trailer rewritten as a revert from the fallback trailer")
    status_trailer = {"primary": primary, "scratch": scratch}.get(source)
    if status_trailer is not None:
        kind = status_trailer.status_swap_type
        if status_trailer.status.found:
            why = f"status in {source} stops at {status_trailer.status.describe()}"
            if kind not in UPGRADES:
                why += f"; swap_info type {swap_name(kind)}: swapped, but no image_ok/copy_done written after"
            return NextBoot(swap_name(kind), True, source, True, why)
        if kind != SWAP_NONE:
            return _from_trailer(kind, source, secondary_valid, secondary_erased,
                                 f"{source} trailer set up for a {swap_name(kind)} swap, no step done yet")
    kind, matched = table_swap(primary, secondary)
    if kind == SWAP_NONE:
        clean = matched or _clean(primary, secondary)
        reason = "trailers ask for nothing" if clean else "trailer state matches no swap-table row"
        return NextBoot("none", False, source, clean, reason)
    if not secondary_valid:
        why = ("secondary slot erased: its trailer is erased" if secondary_erased else
               "secondary image invalid: the slot is erased")
        return NextBoot("none", False, source, True, f"table asks for {swap_name(kind)}, {why}")
    return NextBoot(swap_name(kind), False, source, True, f"swap table: {swap_name(kind)}")


def _from_trailer(kind: int, source: str, secondary_valid: bool, secondary_erased: bool, why: str) -> NextBoot:
    """boot_prepare_image_for_update with bs->swap_type set, then context_boot_go's switch on it."""
    if not secondary_valid:
        what = "secondary slot erased" if secondary_erased else "secondary image invalid"
        return NextBoot("fail", False, source, True, f"{why}; {what}: the swap is marked failed",
                        ("primary image_ok",))
    if kind in UPGRADES:
        return NextBoot(swap_name(kind), False, source, True, why)
    if kind == SWAP_FAIL:
        return NextBoot("fail", False, source, True, f"{why}: only the primary image_ok is written",
                        ("primary image_ok",))
    return NextBoot("panic", False, source, False, f"{why}: swap type {swap_name(kind)} matches no case, MCUboot halts")
