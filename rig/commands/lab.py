"""`rig lab`: a lab of many Pis on labgrid (hardware/README.md, "A lab of many Pis").

  rig lab release --stale        give back places that killed rig jobs on this machine left acquired
  rig lab release PLACE [--kick] give back one place
  rig lab exporter YAML [-c C]   labgrid-exporter with the rig's resources (pyocd server, relay outlet)
  rig lab run N -- RUN OPTIONS   N shards of one campaign on N places reserved by --lg-tags, then merged
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from rig.errors import RigError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("lab", help="labgrid lab: stale places, the exporter, sharded runs",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="lab_command", metavar="LAB_COMMAND")
    rel = sub.add_parser("release", help="release labgrid places")
    rel.add_argument("place", nargs="?", help="a labgrid place to release")
    rel.add_argument("--stale", action="store_true", help="every place a killed rig job on this machine left acquired")
    rel.add_argument("--kick", action="store_true", help="release PLACE even if another user holds it")
    rel.set_defaults(func=release)
    exp = sub.add_parser("exporter", help="run labgrid-exporter with the rig's export classes (RigPyocdServer, RigRelay)")
    exp.add_argument("config", help="the exporter's resources (YAML; a Jinja template: comments start with ##)")
    exp.add_argument("-c", "--coordinator", help="coordinator HOST:PORT (default $LG_COORDINATOR)")
    exp.add_argument("-n", "--name", help="this exporter's name (default: the host name)")
    exp.add_argument("--hostname", help="host name or address clients reach the resources at")
    exp.add_argument("-i", "--isolated", action="store_true", help="labgrid's isolated mode (SSH forwards)")
    exp.set_defaults(func=exporter)
    run_ = sub.add_parser("run", help="N shards of one campaign on N labgrid places, merged into one report")
    run_.add_argument("shards", type=int, help="how many places (and shards)")
    run_.add_argument("--report-dir", type=Path, default=Path("rig-results"), help="shard-I/ and the merged report")
    run_.add_argument("run_args", nargs=argparse.REMAINDER,
                      help="`rig run` options, with --lg-tags KEY=VALUE choosing the places")
    run_.set_defaults(func=lab_run)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def release(args: argparse.Namespace) -> int:
    if args.stale == bool(args.place):
        raise RigError("rig lab release: give --stale or a PLACE (one of them)")
    if args.place:
        from rig.lab.client import LabgridClient  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

        LabgridClient().release(args.place, kick=args.kick)
        print(f"released {args.place}")
        return 0
    from rig.place.lab_stale import release_stale  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

    outcomes = release_stale()
    for o in outcomes:
        print(f"{o.place}: {o.action}")
    if not outcomes:
        print("no places left by rig jobs on this machine")
    return 1 if any(o.action.startswith("failed") for o in outcomes) else 0


def exporter(args: argparse.Namespace) -> int:
    """Exec labgrid's Python on rig/lab/exporter_plugin.py (labgrid stays out of the rig's venv)."""
    from rig.lab.client import find_labgrid_bin  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

    program = find_labgrid_bin("labgrid-exporter")
    first = program.read_text(encoding="utf-8", errors="replace").splitlines()[0] if program.is_file() else ""
    python = first[2:].strip().split()[0] if first.startswith("#!") else ""
    if not python or not Path(python).is_file():
        raise RigError(f"{program}: cannot tell labgrid's Python from its first line {first!r}")
    plugin = Path(__file__).resolve().parent.parent / "lab" / "exporter_plugin.py"
    env = dict(os.environ)
    env.setdefault("RIG_PYOCD", str(Path(sys.executable).parent / "pyocd"))  # the rig's pyocd, with its probe plugins
    argv = [*(("-c", args.coordinator) if args.coordinator else ()), *(("-n", args.name) if args.name else ()),
            *(("--hostname", args.hostname) if args.hostname else ()), *(("-i",) if args.isolated else ()), args.config]
    os.execve(python, [python, str(plugin), *argv], env)
    return 0  # not reached


def _split_report_dir(args: argparse.Namespace) -> list[str]:
    """argparse hands everything after N to run_args: take `--report-dir DIR` (before a `--`) back out of it."""
    rest = list(args.run_args)
    cut = rest.index("--") if "--" in rest else len(rest)
    head, tail = rest[:cut], rest[cut + 1:]
    if "--report-dir" in head:
        at = head.index("--report-dir")
        if at + 1 >= len(head):
            raise RigError("rig lab run: --report-dir needs a directory")
        args.report_dir = Path(head[at + 1])
        del head[at:at + 2]
    return head + tail


def lab_run(args: argparse.Namespace) -> int:
    """Start the shards as `rig run ... --shard I/N --report-dir DIR/shard-I` processes, wait, merge."""
    if args.shards < 1:
        raise RigError(f"rig lab run {args.shards}: the number of shards must be 1 or more")
    run_args = _split_report_dir(args)
    if "--lg-tags" not in run_args and "--lg-place" not in run_args:
        raise RigError("rig lab run: give the places by --lg-tags KEY=VALUE (each shard reserves one)")
    if any(a in ("--shard", "--report-dir") or a.startswith(("--shard=", "--report-dir=")) for a in run_args):
        raise RigError("rig lab run: --shard and --report-dir are set per shard; leave them out")
    dirs = [args.report_dir / f"shard-{i}" for i in range(1, args.shards + 1)]
    procs = [subprocess.Popen([sys.executable, "-m", "rig.cli", "run", *run_args, "--shard", f"{i}/{args.shards}",
                               "--report-dir", str(d)]) for i, d in enumerate(dirs, 1)]
    try:
        codes = [p.wait() for p in procs]
    except BaseException:
        for p in procs:
            p.terminate()  # each shard applies its safe state and releases its place on SIGTERM
        for p in procs:
            p.wait()
        raise
    from rig.campaign.merge import merge_reports  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

    done = [d for d in dirs if (d / "report.json").is_file()]
    if not done:
        raise RigError(f"rig lab run: no shard wrote a report (exit codes {codes})")
    body = merge_reports(done, args.report_dir)
    summary = body["summary"]
    print(f"merged {len(done)} of {args.shards} shards: {summary['total']} cases, {summary['pass']} passed, "
          f"{summary['fail']} failed, {summary['error']} errors; report: {args.report_dir / 'report.html'}")
    return 0 if not any(codes) and body["run"]["complete"] else 1
