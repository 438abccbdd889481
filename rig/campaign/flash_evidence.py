"""Flash evidence for a case that failed or errored: the slots read through the probe, kept raw and decoded.

"The board did not come back" is half a bug report; the other half is what the
flash holds: which slot is intact, whether a swap was half done, whether the
bootloader should have resumed it. So when a case does not pass and the probe
answers, primary, secondary and scratch (trailers included) are read, saved as
cases/NAME/flash/<slot>.bin, decoded into slots.txt, and summed up in one line
("primary: 1.1.0 hash mismatch, secondary: 1.0.0 intact, scratch: swap status at
idx 3 state 1; next boot: resume test swap (...)").

Blocking (probe calls): run it in a thread. A probe that does not answer raises
ProbeError (or the power backend's PowerError); the caller turns that into the
outcome rule "the probe could not read the flash".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rig.place.session import PlaceSession
from rig.mcuboot import ImageInfo, SlotsReport, inspect_slots

SLOTS = ("primary", "secondary", "scratch")


@dataclass(frozen=True)
class FlashEvidence:
    directory: Path | None  # None: decoded only, nothing saved (a case run outside a report directory)
    report: SlotsReport
    summary: dict[str, Any]  # what report.json keeps
    words: str  # the one line a failure message quotes

    @property
    def intact_image(self) -> bool:
        """Can the bootloader run anything: an intact primary, or an intact secondary it would swap in
        (never when MCUboot would panic on the trailer state)."""
        if self.report.next_boot.swap == "panic":
            return False
        return self.report.primary.intact or (self.report.secondary.intact and self.report.next_boot.swap != "none")

    @property
    def verdict(self) -> str:
        """The matrix cell: the primary slot in a few words."""
        return slot_words(self.report.primary)


def capture_flash(session: PlaceSession, case_dir: Path | None) -> FlashEvidence:
    """Read and decode the slots of `session`'s board; saved into case_dir/flash when a case_dir is given."""
    powered_here = _power_for_probe(session)
    try:
        dumps = {name: session.read_partition(name) for name in SLOTS if name in session.layout.partitions}
    finally:
        if powered_here:
            session.power.off()
    report = inspect_slots(_reader(session, dumps), session.layout)
    words = describe_slots(report)
    directory = None if case_dir is None else case_dir / "flash"
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        for name, data in dumps.items():
            (directory / f"{name}.bin").write_bytes(data)
        (directory / "slots.txt").write_text(slots_text(report, words, dumps), encoding="utf-8")
    return FlashEvidence(directory, report, summarize(report, words), words)


def _power_for_probe(session: PlaceSession) -> bool:
    """Power the board for the probe, stopped before it can write (halted at reset where the power can);
    True when the power was off and is switched on here (the caller switches it off again)."""
    probe, power = session.probe, session.power
    if not probe.resets_target:
        return False  # a file probe reads the "flash" of a stopped process: no power wanted
    powered_here = not power.is_on()
    if powered_here:
        if power.powers_on_halted:
            power.on_halted()
            return True
        power.on()
    probe.halt()  # a bootloader still at work must not change the slots while they are read
    return powered_here


def _reader(session: PlaceSession, dumps: dict[str, bytes]):
    """inspect_slots' read(offset, length) over the dumps (offsets relative to the flash base)."""
    parts = {name: session.layout.partition(name) for name in dumps}

    def read(offset: int, length: int) -> bytes:
        for name, part in parts.items():
            if part.offset <= offset and offset + length <= part.offset + part.size:
                start = offset - part.offset
                return dumps[name][start:start + length]
        raise ValueError(f"0x{offset:x}+0x{length:x} lies outside the slots read")

    return read


def slot_words(image: ImageInfo) -> str:
    """'1.1.0 intact', '1.1.0 hash mismatch', 'erased', 'no image header'."""
    if image.state == "erased":
        return "erased"
    version = (image.version or "").split("+")[0]
    state = {"bad-hash": "hash mismatch", "bad-magic": "no image header"}.get(image.state, image.state)
    return f"{version} {state}".strip()


def _status_words(trailer: Any) -> str:
    status = trailer.status
    if status.found:
        return f"swap status at idx {status.idx} state {status.state}"
    return "no swap status" if trailer.magic == "good" else "empty"


def describe_slots(report: SlotsReport) -> str:
    """The one line for a failure message."""
    parts = [f"primary: {slot_words(report.primary)}", f"secondary: {slot_words(report.secondary)}"]
    if report.scratch_trailer is not None:
        parts.append(f"scratch: {_status_words(report.scratch_trailer)}")
    primary_status = report.primary_trailer.status
    if primary_status.found:
        parts.append(f"primary trailer: {_status_words(report.primary_trailer)}")
    return ", ".join(parts) + f"; next boot: {report.next_boot.describe()}"


def _trailer(trailer: Any) -> dict[str, Any]:
    status = trailer.status
    return {
        "magic": trailer.magic, "image_ok": trailer.image_ok, "copy_done": trailer.copy_done,
        "swap_type": trailer.swap_type_name, "swap_info": f"0x{trailer.raw_swap_info:02x}",
        "status": {"idx": status.idx, "state": status.state, "entries": status.written} if status.found else None,
    }


def _hash_ok(image: ImageInfo) -> bool | None:
    """None when the image never got as far as a hash check (erased, no header, broken TLVs)."""
    if image.computed_hash is None or image.hash_tlv is None:
        return None
    return image.computed_hash == image.hash_tlv


def _image(image: ImageInfo) -> dict[str, Any]:
    return {"state": image.state, "version": image.version, "hash_ok": _hash_ok(image), "problem": image.problem or None}


def summarize(report: SlotsReport, words: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "words": words,
        "primary": {**_image(report.primary), "trailer": _trailer(report.primary_trailer)},
        "secondary": {**_image(report.secondary), "trailer": _trailer(report.secondary_trailer)},
        "next_boot": report.next_boot.describe(),
        "resume_pending": report.next_boot.resume,
    }
    if report.scratch_trailer is not None:
        out["scratch"] = {"trailer": _trailer(report.scratch_trailer)}
    return out


def slots_text(report: SlotsReport, words: str, dumps: dict[str, bytes]) -> str:
    """slots.txt: per slot the header version, hash, trailer magic, image_ok, copy_done, swap_info, status index."""
    lines = [words, ""]
    for name, image, trailer in (("primary", report.primary, report.primary_trailer),
                                 ("secondary", report.secondary, report.secondary_trailer),
                                 ("scratch", None, report.scratch_trailer)):
        if trailer is None:
            continue
        lines.append(f"{name} ({len(dumps.get(name, b''))} bytes, {name}.bin)")
        if image is not None:
            hashed = {True: "ok", False: "bad", None: "not checked"}[_hash_ok(image)]
            lines.append(f"  header version: {image.version or '-'}  state: {image.state}  hash: {hashed}"
                         + (f"  ({image.problem})" if image.problem else ""))
        t = _trailer(trailer)
        status = t["status"]
        lines.append(f"  trailer magic: {t['magic']}  image_ok: {t['image_ok']}  copy_done: {t['copy_done']}  "
                     f"swap_info: {t['swap_info']} ({t['swap_type']})")
        lines.append("  status: " + (f"idx {status['idx']} state {status['state']} ({status['entries']} entries)"
                                     if status else "none"))
    lines += ["", f"next boot: {report.next_boot.describe()}", "", report.describe(), ""]
    return "\n".join(lines)
