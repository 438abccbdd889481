"""`rig merge DIR... -o OUT`: the shards of one campaign (`rig run --shard I/N` on several places) as one report.

Each case appears once, with the place that ran it; every shard's baseline (each
shard measures its own board) is kept as `baseline-no-cut@PLACE`
(`@PLACE-shard-I` when one place ran several shards). The shards
must be of one campaign (same suite, points, seed, spread, images ...): a
report that is not is refused with the first difference, and a missing shard
makes the merged report partial, saying which. The shards' case files are
copied under OUT/shard-I/ so the merged report.html links work when OUT is
moved. report.json, junit.xml and report.html are written as `rig run` writes them.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rig.campaign.shard import Shard, shard_of
from rig.campaign.suite import baseline_plans
from rig.errors import RigError
from rig.report.atomic import write_atomic
from rig.report.html import write_html_report
from rig.report.json_report import REPORT_FILE, load_report, report_body, run_table, write_report_body
from rig.report.junit import write_junit
from rig.results import CaseResult
from rig.verdict import rules

# What makes two shards one campaign; per-board measurements, places and timestamps may differ.
SAME_CAMPAIGN = ("suite", "mode", "scheme", "block_size", "image_size", "points", "seed", "spread", "dense_around",
                 "swap_cuts", "defects", "keyword", "images")
FILE_KEYS = ("console_log", "timeline_file", "flash_dump")


@dataclass
class ShardReport:
    source: Path
    report: dict[str, Any]
    shard: Shard
    place: str

    @property
    def run(self) -> dict[str, Any]:
        return run_table(self.report)


def load_shard(source: Path) -> ShardReport:
    report = load_report(Path(source))
    run = run_table(report)
    try:
        shard = shard_of(run.get("shard"))
    except ValueError as exc:
        raise RigError(f"{source}/report.json: run.shard: {exc}") from None
    place = str(run.get("ran_on") or run.get("place") or report.get("target") or "?")
    return ShardReport(Path(source), report, shard, place)


def check_one_campaign(shards: list[ShardReport]) -> None:
    first = shards[0]
    for other in shards[1:]:
        for key in SAME_CAMPAIGN:
            if first.run.get(key) != other.run.get(key):
                raise RigError(f"{other.source} is not a shard of the campaign in {first.source}: "
                               f"{key} is {other.run.get(key)!r} there and {first.run.get(key)!r} here")
        if other.shard.count != first.shard.count:
            raise RigError(f"{other.source}: shard {other.shard} of {first.source}'s campaign in "
                           f"{first.shard.count} shards")
    seen: dict[int, Path] = {}
    for s in shards:
        if s.shard.index in seen:
            raise RigError(f"{s.source} and {seen[s.shard.index]} are both shard {s.shard}: merge each shard once")
        seen[s.shard.index] = s.source


def merge_reports(sources: list[Path], out: Path) -> dict[str, Any]:
    """Write the merged report into `out`; returns the merged report.json body."""
    if not sources:
        raise RigError("rig merge: name the shards' report directories")
    out = Path(out)
    for source in sources:
        if out.resolve() == Path(source).resolve():
            raise RigError(f"rig merge: -o {out} is one of the shards; write the merged report elsewhere")
    shards = sorted((load_shard(Path(s)) for s in sources), key=lambda s: s.shard.index)
    check_one_campaign(shards)
    out.mkdir(parents=True, exist_ok=True)
    everywhere = {p.name for p in baseline_plans()}
    places = [s.place for s in shards]
    results: list[dict[str, Any]] = []
    ran_in: dict[str, ShardReport] = {}
    for shard in shards:
        prefix = f"shard-{shard.shard.index}"
        _copy_cases(shard.source, out / prefix)
        for result in shard.report.get("results") or []:
            result = dict(result)
            name = str(result.get("name"))
            if name in everywhere:  # each shard's own baseline: named by its place (and shard, if places repeat)
                tag = shard.place if places.count(shard.place) == 1 else f"{shard.place}-shard-{shard.shard.index}"
                result["name"] = f"{name}@{tag}"
            elif name in ran_in:
                raise RigError(f"case {name} ran in {ran_in[name].source} (shard {ran_in[name].shard}) and in "
                               f"{shard.source} (shard {shard.shard}): not disjoint shards of one campaign")
            ran_in[name] = shard
            result["place"], result["shard"] = shard.place, str(shard.shard)
            for key in FILE_KEYS:
                if result.get(key):
                    result[key] = f"{prefix}/{result[key]}"
            results.append(result)
    body = _merged_body(shards, results)
    write_report_body(out / REPORT_FILE, body)
    _write_junit(out / "junit.xml", body["target"], results)
    write_html_report(out, describe_rule=rules.describe)
    return body


def _copy_cases(source: Path, dest: Path) -> None:
    if (source / "cases").is_dir() and source.resolve() != dest.resolve():  # `rig lab run` writes shards in place
        shutil.copytree(source / "cases", dest / "cases", dirs_exist_ok=True)


def _merged_body(shards: list[ShardReport], results: list[dict[str, Any]]) -> dict[str, Any]:
    count = shards[0].shard.count
    present = {s.shard.index for s in shards}
    missing = [f"{i}/{count}" for i in range(1, count + 1) if i not in present]
    stopped = [f"shard {s.shard} on {s.place}: {s.run.get('stopped')}" for s in shards if s.run.get("stopped")]
    if missing:
        stopped.insert(0, f"shard{'s' if len(missing) > 1 else ''} {', '.join(missing)} not merged")
    run = {k: v for k, v in shards[0].run.items() if k not in ("shard", "ran_on", "host", "swap_window_ms",
                                                              "swap_flash_ops", "resumed_after")}
    run.update({
        "shards": [{"shard": str(s.shard), "place": s.place, "host": s.run.get("host"), "source": str(s.source),
                    "cases": len(s.report.get("results") or []), "complete": bool(s.run.get("complete")),
                    "swap_window_ms": s.run.get("swap_window_ms")} for s in shards],
        "stopped": "; ".join(stopped) or None,
        "complete": not stopped,
    })
    conformance = [row for s in shards for row in s.report.get("conformance") or []]
    return report_body(shards[0].report.get("target"), run, results, {"conformance": conformance} if conformance else None)


def _write_junit(path: Path, target: Any, results: list[dict[str, Any]]) -> None:
    """junit.xml as rig run writes it, each testcase with a `place` property (as pytest's record_property)."""
    write_junit(path, f"rig.{target}", [CaseResult.from_dict(r) for r in results])
    tree = ET.parse(path)
    for case, result in zip(tree.getroot().iter("testcase"), results):
        props = ET.Element("properties")
        for key in ("place", "shard"):
            ET.SubElement(props, "property", name=key, value=str(result.get(key)))
        case.insert(0, props)
    ET.indent(tree.getroot())
    write_atomic(path, ET.tostring(tree.getroot(), encoding="unicode", xml_declaration=True) + "\n")
