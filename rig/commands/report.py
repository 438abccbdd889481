"""`rig report DIR`: (re)write report.html from a run's report directory, e.g. after copying it off the Pi."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("report", help="write report.html (cut matrix, timelines) from a report directory")
    p.add_argument("dir", type=Path, metavar="DIR", help="a directory written by `rig run --report-dir`")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rig.report.html import write_html_report  # noqa: PLC0415 -- start-up cost: loaded only when the command runs
    from rig.verdict import rules  # noqa: PLC0415 -- start-up cost: like the line above, loaded only when `rig report` runs

    print(write_html_report(args.dir, describe_rule=rules.describe))
    return 0
