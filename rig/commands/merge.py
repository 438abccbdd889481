"""`rig merge DIR... -o OUT`: join the reports of a campaign's shards (`rig run --shard I/N`) into one.

Exit 0 only if every shard is there and every case passed.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("merge", help="merge the reports of a campaign's shards into one",
                              description=__doc__)
    p.add_argument("dirs", nargs="+", type=Path, metavar="DIR", help="report directories of `rig run --shard I/N`")
    p.add_argument("-o", "--output", type=Path, default=Path("rig-results-merged"),
                   help="where the merged report.json, junit.xml and report.html go (rig-results-merged)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rig.campaign.merge import merge_reports  # noqa: PLC0415 -- start-up cost: the report writers load only for `rig merge`

    body = merge_reports(args.dirs, args.output)
    summary, run_info = body["summary"], body["run"]
    for shard in run_info["shards"]:
        print(f"shard {shard['shard']} on {shard['place']}: {shard['cases']} cases from {shard['source']}")
    print(f"{summary['total']} cases: {summary['pass']} passed, {summary['fail']} failed, {summary['error']} errors"
          + (f" ({run_info['stopped']})" if run_info.get("stopped") else ""))
    out = args.output
    print(f"report: {out / 'report.html'}  json: {out / 'report.json'}  junit: {out / 'junit.xml'}")
    bad = summary["fail"] or summary["error"] or not run_info["complete"] or not summary["total"]
    return 1 if bad else 0
