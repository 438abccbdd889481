"""The outcome of a narrow in words: "passes at op 39, fails at op 40: erase of scratch sector 0".

On the virtual board a cut at flash operation N is logged by the board itself
("[rig-sim] power cut at flash op 40 (whole erase 0xa0000+0x1000)"), so the
words can say what op N was: its kind, the partition and the sector. Elsewhere
the point is all there is (a block, a delay after Execute), with the phase the
device had reached.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from rig.campaign.narrow import Probe, Search
from rig.flash_layout import FlashLayout

_CUT_LINE = re.compile(r"power cut at flash op (\d+) \((whole|torn) (\w+) 0x([0-9a-fA-F]+)\+0x([0-9a-fA-F]+)\)")


def flash_op_words(kind: str, offset: int, length: int, layout: FlashLayout | None) -> str:
    """'erase of scratch sector 0', 'program of primary sector 3 (+0x3ff8, 8 bytes)'."""
    where = f"0x{offset:x}"
    if layout is not None:
        for part in layout.partitions.values():
            if part.offset <= offset < part.offset + part.size:
                inside = offset - part.offset
                sector = inside // layout.sector_size
                where = f"{part.name} sector {sector}"
                if kind != "erase" or inside % layout.sector_size or length != layout.sector_size:
                    where += f" (+0x{inside:x}, {length} bytes)"
                break
    return f"{kind} of {where}"


def op_of_case(report_dir: Path, timeline_file: str | None, layout: FlashLayout | None) -> str | None:
    """What the board logged for the flash op it was cut at, in a case's timeline file (None: not logged)."""
    if not timeline_file:
        return None
    try:
        lines = (Path(report_dir) / timeline_file).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        if "power cut at flash op" not in line:
            continue
        try:
            text = str(json.loads(line).get("data", {}).get("line", ""))
        except ValueError:
            continue
        match = _CUT_LINE.search(text)
        if match:
            words = flash_op_words(match.group(3), int(match.group(4), 16), int(match.group(5), 16), layout)
            return words + (" (torn)" if match.group(2) == "torn" else "")
    return None


def boundary_words(search: Search, report_dir: Path, layout: FlashLayout | None) -> str:
    """The sentence `rig narrow` ends with: the boundary, or how far it got and why it stopped."""
    low, high = search.bounds()

    def point(probe: Probe) -> str:
        at = search.describe_at(probe.at)
        if search.kind == "flash-op" and probe.result is not None:
            what = op_of_case(report_dir, probe.result.timeline_file, layout)
            return f"{at} ({what})" if what else at
        phase = probe.result.phase if probe.result is not None else None
        return f"{at} ({phase})" if phase else at

    if search.converged():
        failing = point(high)
        head, _, what = failing.partition(" (")
        tail = f": {what[:-1]}" if what else ""
        return f"passes at {point(low)}, fails at {head}{tail}" + _implied(search, low.at, high.at)
    span = (f"between {search.describe_at(low.at)} (passes) and {search.describe_at(high.at)} (fails)"
            if low is not None else f"at or below {search.describe_at(high.at)}")
    return f"no boundary: {search.stopped or 'the search did not converge'}; the first failing point lies {span}"


def _implied(search: Search, low: float, high: float) -> str:
    """What the search implies for the points it did not probe: all between its probes on each side alike."""
    probed = ", ".join(f"{p.at:g}" for p in sorted(search.ran, key=lambda p: p.at))
    if search.kind == "after-execute":
        return f" (to {search.resolution:g} ms; probed at {probed} ms)"
    start, end = int(search.span[0]), int(search.span[1])
    unit = search.unit + "s"
    return (f"; by the search every one of {unit} {start}..{int(low)} passes and {int(high)}..{end} fails "
            f"(probed: {unit} {probed})")
