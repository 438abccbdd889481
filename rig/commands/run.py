"""`rig run`: the power-cut suite on a place (the virtual board when no target is given).

Prints a line per case and a one-screen summary; exit 0 only if every case passed.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from rig.config import DEFAULT_TARGETS_DIR
from rig.errors import RigError
from rig.results import CaseResult

if TYPE_CHECKING:
    from rig.campaign.runner import RunRecord

SUITES = ("power-cut",)


def _size(text: str) -> int:
    t = text.strip().upper()
    mult = 1024 if t.endswith("K") else 1024 * 1024 if t.endswith("M") else 1
    try:
        return int(t.rstrip("KM")) * mult
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 32K") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("run", help="run the power-cut suite on a place (default: the virtual board)")
    p.add_argument("suite", nargs="?", default="power-cut", choices=SUITES, help="suite to run (default power-cut)")
    p.add_argument("--target", type=Path, help="target file (default targets/virtual.toml)")
    p.add_argument("--points", type=int, default=None, help="number of cut points (default 6)")
    p.add_argument("--report-dir", type=Path, default=Path("rig-results"), help="where report.json, junit.xml and logs go")
    p.add_argument("-k", dest="keyword", help="only cases whose name contains this (or 'not WORD')")
    p.add_argument("--sim-defect", action="append", default=[], metavar="NAME", help="switch on a virtual-board defect")
    p.add_argument("--mode", choices=("push", "pull"), default="pull", help="how the package travels (default pull)")
    p.add_argument("--block-size", type=int, default=512, choices=(16, 32, 64, 128, 256, 512, 1024))
    p.add_argument("--image-size", type=_size, default=32 * 1024, help="payload size of the generated images (32K)")
    p.add_argument("--seed", type=int, default=0, help="seed recorded with every plan")
    p.add_argument("--spread", choices=("even", "random"), default="even", help="how download cuts are placed")
    p.set_defaults(func=run)


def _progress(done: int, total: int, result: CaseResult) -> None:
    mark = {"pass": "pass", "fail": "FAIL", "error": "ERROR"}[result.outcome]
    bar = "#" * int(20 * done / max(total, 1))
    print(f"[{bar:<20}] {done:>3}/{total} {result.name:<28} {mark:<5} {result.duration:5.1f} s", flush=True)
    if result.outcome != "pass":
        print(f"      {result.message}", flush=True)


def run(args: argparse.Namespace) -> int:
    target = args.target or DEFAULT_TARGETS_DIR / "virtual.toml"
    if not target.is_file():
        raise RigError(f"--target {target}: no such target file")
    if args.points is not None and args.points < 0:
        raise RigError(f"--points {args.points}: must be 0 or more")
    from rig.campaign.run_virtual import run_virtual

    return _summary(asyncio.run(run_virtual(args, target, _progress)))


def _summary(record: "RunRecord") -> int:
    results = record.results
    counts = {o: sum(r.outcome == o for r in results) for o in ("pass", "fail", "error")}
    print(f"\n{len(results)} cases: {counts['pass']} passed, {counts['fail']} failed, {counts['error']} errors"
          + (f" ({record.stopped})" if record.stopped else ""))
    for r in results:
        if r.outcome != "pass":
            print(f"  {r.outcome.upper():5} {r.name}: {r.message}")
            for v in r.violations[1:4]:
                print(f"        [{v.rule}] {v.detail}")
    print(f"report: {record.report_dir / 'report.json'}  junit: {record.report_dir / 'junit.xml'}")
    ok = bool(results) and counts["fail"] == 0 and counts["error"] == 0 and record.stopped is None
    return 0 if ok else 1
