"""Which swap MCUboot will do on the next boot, from the trailers alone.

Two tables decide it, copied in meaning from MCUboot:
- boot_status_tables (swap_scratch.c): where the status of an interrupted swap lives
  (primary slot, scratch, or nowhere);
- boot_swap_tables (bootutil_public.c): with no swap to resume, which swap the
  trailers of the two slots ask for (test, perm, revert, else none).
A swap the tables ask for needs a valid image in the secondary slot; an invalid
one is refused ("fail": MCUboot erases it and boots the primary slot).
A state that matches no row of the swap table is reported with matched=False:
MCUboot then does nothing, and after a completed swap that is a warning sign.
"""

from __future__ import annotations

from dataclasses import dataclass

from rig.mcuboot.trailer import (
    BAD, GOOD, SET, SWAP_NAMES, SWAP_NONE, SWAP_PERM, SWAP_REVERT, SWAP_TEST, UNSET, Trailer,
)

ANY, NOTGOOD = "any", "notgood"

# (primary magic, secondary magic, primary image_ok, secondary image_ok, primary copy_done) -> swap
SWAP_TABLE = (
    ((ANY, GOOD, ANY, UNSET, ANY), SWAP_TEST),
    ((ANY, GOOD, ANY, SET, ANY), SWAP_PERM),
    ((GOOD, UNSET, UNSET, ANY, SET), SWAP_REVERT),
)
# (primary magic, scratch magic, primary copy_done) -> status source
STATUS_TABLE = (
    ((GOOD, NOTGOOD, SET), "none"),
    ((GOOD, NOTGOOD, UNSET), "primary"),
    ((ANY, GOOD, ANY), "scratch"),
    ((UNSET, ANY, UNSET), "primary"),
)


def _match(want: str, have: str) -> bool:
    return want == ANY or want == have or (want == NOTGOOD and have != GOOD)


def status_source(primary: Trailer, scratch: Trailer | None) -> str:
    """swap_status_source: "primary", "scratch" or "none"."""
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
    """What the bootloader will do: swap (none/test/perm/revert/fail), and whether it resumes one."""

    swap: str
    resume: bool
    source: str
    matched: bool
    reason: str

    def describe(self) -> str:
        verb = f"resume {self.swap} swap" if self.resume else (
            "no swap" if self.swap == "none" else f"{self.swap} swap")
        return f"{verb} ({self.reason})"


def _clean(primary: Trailer, secondary: Trailer) -> bool:
    """A state with no swap asked for that is also not a half-written trailer."""
    return primary.magic != BAD and secondary.magic != BAD and BAD not in (
        primary.image_ok, primary.copy_done)


def next_boot(primary: Trailer, secondary: Trailer, scratch: Trailer | None,
              secondary_valid: bool, secondary_erased: bool = False) -> NextBoot:
    """Predict the next boot from decoded trailers and whether the secondary image validates."""
    source = status_source(primary, scratch)
    status_trailer = {"primary": primary, "scratch": scratch}.get(source)
    if status_trailer is not None:
        kind = status_trailer.swap_type
        if status_trailer.status.found:
            st = status_trailer.status
            return NextBoot(SWAP_NAMES[kind], True, source, True,
                            f"status in {source} stops at idx {st.idx} state {st.state}")
        if kind != SWAP_NONE:
            if not secondary_valid:
                return NextBoot("fail", False, source, True, f"{source} trailer asks for {SWAP_NAMES[kind]}, "
                                                             "secondary image invalid")
            return NextBoot(SWAP_NAMES[kind], False, source, True,
                            f"{source} trailer holds swap_type {SWAP_NAMES[kind]}, no step done yet")
    kind, matched = table_swap(primary, secondary)
    if kind == SWAP_NONE:
        reason = "trailers ask for nothing" if matched or _clean(primary, secondary) else \
            "trailer state matches no swap-table row"
        return NextBoot("none", False, source, matched or _clean(primary, secondary), reason)
    if not secondary_valid:
        why = "secondary slot erased" if secondary_erased else "secondary image invalid"
        return NextBoot("none" if secondary_erased else "fail", False, source, True,
                        f"table asks for {SWAP_NAMES[kind]}, {why}")
    return NextBoot(SWAP_NAMES[kind], False, source, True, f"swap table: {SWAP_NAMES[kind]}")
