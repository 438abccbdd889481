"""`rig history`: what the nights said, per place and target, and what changed since the night before.

For each place/target: the last N runs as a table (pass / fail / error / skip,
overall and by the phase reached), then the cases failing now that passed at
their plan's previous run ("new"), the ones passing now that failed ("fixed"),
plans that ended differently with the same images ("flaky"), and for each rule
broken now the run its streak began in, with the image versions then.
`--json` prints the same as JSON; `--html FILE` writes a trend page.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rig.commands.history_options import add_history_options
from rig.history.paths import history_path

OUTCOMES = ("pass", "fail", "error", "skip")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("history", help="the last runs per place, new failures, fixes, flaky plans (SQLite)")
    p.add_argument("--place", help="only this place (\"virtual\": the self-started virtual board)")
    p.add_argument("--target", help="only this target (its name, as in report.json)")
    p.add_argument("--last", type=int, default=10, metavar="N", help="runs per place in the table (default 10)")
    p.add_argument("--json", action="store_true", help="print the same as JSON")
    p.add_argument("--html", type=Path, metavar="FILE", help="also write a self-contained trend page")
    add_history_options(p, writes=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rig.errors import RigError  # noqa: PLC0415 -- start-up cost: loaded only when the command runs
    from rig.history import store  # noqa: PLC0415 -- start-up cost: loaded only when the command runs
    from rig.history.changes import place_history  # noqa: PLC0415 -- start-up cost: loaded only when the command runs
    from rig.history.queries import places  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

    if args.last < 1:
        raise RigError(f"--last {args.last}: give 1 or more runs")
    path = history_path(args.history)
    found = store.read(path, lambda conn: [place_history(conn, p, t, args.last)
                                           for p, t in places(conn, args.place, args.target)])
    if not found:
        what = " ".join(f"--{k} {v}" for k, v in (("place", args.place), ("target", args.target)) if v)
        print(f"{path}: no runs{' for ' + what if what else ''} yet")
        return 0
    if args.html is not None:
        from rig.report.atomic import write_atomic  # noqa: PLC0415 -- start-up cost: loaded only when the command runs
        from rig.report.html_trend import trend_page  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

        write_atomic(args.html, trend_page(str(path), found))
    if args.json:
        print(json.dumps({"history": str(path), "places": [h.to_dict() for h in found]}, indent=2, default=str))
        return 0
    print(f"history: {path}")
    for history in found:
        print()
        for line in _place_lines(history):
            print(line)
    if args.html is not None:
        print(f"\ntrend page: {args.html}")
    return 0


def _place_lines(h) -> list[str]:
    probes = sorted({r.probe_uid for r in h.runs if r.probe_uid})
    lines = [f"== place {h.place} · target {h.target}" + (f" · probe {', '.join(probes)}" if probes else "")]
    lines.append("(state: complete; stopped (Ctrl-C, -x, a rig error); no end: running, or killed)")
    lines.append(f"{'run':>5}  {'started (UTC)':<19}  {'kind':<7} {'suite':<11} {'images':<17} {'state':<9}"
                 f"{'pass':>5}{'fail':>5}{'err':>5}{'skip':>5}   by phase reached: pass/fail/error/skip")
    for r in h.runs:
        state = "complete" if r.complete else ("no end" if r.ended is None else "stopped")
        phases = " · ".join(f"{phase} {'/'.join(str(cell.get(o, 0)) for o in OUTCOMES)}"
                            for phase, cell in sorted(r.by_phase.items()))
        lines.append(f"{'#' + str(r.id):>5}  {r.started[:19].replace('T', ' '):<19}  {r.source:<7} {str(r.suite):<11} "
                     f"{r.versions():<17} {state:<9}" + "".join(f"{r.counts.get(o, 0):>5}" for o in OUTCOMES)
                     + f"   {phases}")
    if h.latest is None:
        return lines + ["no campaign run here yet (only replays or narrows)"]
    lines.append(f"new since the previous run (run #{h.latest.id} against each plan's last earlier run here):")
    lines += [f"  {c.outcome.upper():5} {c.name} [{', '.join(c.rules) or '-'}] ({c.phase or 'no cut'}): " + (
        f"{c.before['outcome']} in run #{c.before['run']} ({c.before['images']})" if c.before
        else "no earlier run of this plan here") for c in h.new] or ["  none"]
    lines.append("fixed (passing now, failing at the plan's last earlier run):")
    lines += [f"  pass  {c.name}: {c.before['outcome']} in run #{c.before['run']} ({c.before['images']})"
              for c in h.fixed] or ["  none"]
    lines.append("flaky (same plan, same images, different outcomes):")
    lines += [f"  {f.names[0]} ({f.plan_key}), images {f.images}: "
              + ", ".join(f"{n} {o}" for o, n in sorted(f.outcomes.items())) + f" in runs {_ids(f.runs)}"
              for f in h.flaky] or ["  none"]
    lines.append(f"rules broken in run #{h.latest.id}, and since when:")
    for r in h.rules:
        first = r.first_run
        cases = ", ".join(r.cases[:4]) + (f" and {len(r.cases) - 4} more" if len(r.cases) > 4 else "")
        clean = (f"; before that {r.last_clean['outcome']} in run #{r.last_clean['run']} ({r.last_clean['images']})"
                 if r.last_clean else "; no earlier run of these plans here")
        lines.append(f"  [{r.rule}] {len(r.cases)} case(s) ({cases}): first appeared in run #{first['run']} "
                     f"({str(first['started'])[:19].replace('T', ' ')}, images {first['images']}){clean}")
    if not h.rules:
        lines.append("  none")
    return lines


def _ids(ids: list[int]) -> str:
    return ", ".join(f"#{i}" for i in ids)
