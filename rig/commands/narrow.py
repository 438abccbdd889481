"""`rig narrow DIR/report.json#CASE`: where does the failure of a cut case start?

Binary search between the failing cut and the nearest passing cut of the same
kind (rig.campaign.narrow), each probe replayed with the run's images and seed
on one place session (a narrow costs cases, not board starts), at most
--max-cases probes. Prints the boundary in words ("passes at op 39, fails at
op 40: erase of scratch sector 0") and writes the probes into the run's report,
marked as narrow probes (their own files under DIR/narrow-CASE/). Exit 0 when a
boundary was found with both sides replayed, 1 when not (the line says why).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Callable

from rig.campaign.narrow import Search, start_search
from rig.campaign.narrow_words import boundary_words
from rig.campaign.previous_run import load_previous_run, parse_replay_ref
from rig.commands.history_options import add_history_options, history_choice
from rig.commands.place_args import add_psk_option
from rig.commands.run import previous_place
from rig.config import load_target
from rig.errors import RigError
from rig.faults import FaultPlan
from rig.results import CaseResult

DEFAULT_MAX_CASES = 10


class Probing:
    """The search as run_campaign's plan source, with something done after each probe."""

    def __init__(self, search: Search, after: Callable[[CaseResult], None]) -> None:
        self.search, self.after = search, after
        self.narrow_of = search.narrow_of

    def next(self) -> FaultPlan | None:
        return self.search.next()

    def seen(self, result: CaseResult) -> None:
        self.search.seen(result)
        self.after(result)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("narrow", help="binary-search the first failing point of a failing cut case")
    p.add_argument("ref", metavar="DIR/report.json#CASE", help="a failing case of an earlier run")
    p.add_argument("--max-cases", type=int, default=DEFAULT_MAX_CASES, metavar="N",
                   help=f"probe at most N cases (default {DEFAULT_MAX_CASES})")
    p.add_argument("--resolution", type=float, default=1.0, metavar="MS",
                   help="timed cuts: stop when the boundary is this narrow (default 1 ms)")
    p.add_argument("--rig", type=Path, help="the rig file of the run's place (default $RIG_FILE or ./rig.toml)")
    add_psk_option(p)
    add_history_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rig.run.campaign import run_campaign  # noqa: PLC0415 -- start-up cost: aiocoap, the server and the board (~1 s) load when a run starts, not for every `rig` command
    from rig.run.narrow_report import add_probes  # noqa: PLC0415 -- start-up cost, as above: the report writers

    if not args.ref.partition("#")[2]:
        raise RigError(f"{args.ref!r}: name the failing case after '#', e.g. rig-results/report.json#swap-op-00040")
    run_dir, case = parse_replay_ref(args.ref)
    prev = load_previous_run(run_dir)
    failing, plan = prev.case(case), prev.plan(case)
    search = start_search(failing, plan, prev.results, args.max_cases, args.resolution,
                          prev.params.get("swap_window_ms"))
    firmware = Path(prev.params.get("firmware_dir") or run_dir / "firmware")
    if not firmware.is_dir():
        raise RigError(f"{args.ref}: the run's images are gone ({firmware}); its cases cannot be repeated exactly")
    layout = load_target(Path(prev.spec.target_file)).layout
    out = run_dir / f"narrow-{case}"
    if out.is_dir():
        shutil.rmtree(out)  # an earlier narrow of this case: its probes are replaced in the run's report too
    low, high = search.bounds()
    print(f"narrowing {case} ({failing.outcome} at {search.describe_at(high.at)}) from "
          + (f"{search.describe_at(low.at)} ({low.name}: pass)" if low else
             f"the start of the range ({search.describe_at(search.axis_start)}, probed first)")
          + f", at most {args.max_cases} cases", flush=True)

    def summary() -> dict:
        low, high = search.bounds()
        return {"case": case, "dir": out.name, "boundary": boundary_words(search, out, layout),
                "converged": search.converged(), "pass_at": low.at if low else None, "fail_at": high.at,
                "probes": [p.name for p in search.ran]}

    def after_probe(result: CaseResult) -> None:
        """Each probe is in the run's report as soon as it ended, so a Ctrl-C keeps what was learnt."""
        at = search.describe_at(search.ran[-1].at)
        mark = result.outcome if result.outcome == "pass" else result.outcome.upper()
        print(f"  probe {len(search.ran)}/{args.max_cases}: {at:<24} {mark:<5} {result.duration:5.1f} s  {result.name}",
              flush=True)
        add_probes(run_dir, case, out, [p.result for p in search.ran if p.result is not None], summary())

    place = previous_place(prev, args.rig, out, args.psk)
    spec = replace(prev.spec, exitfirst=False, keyword=None)  # a failing probe is what the search looks for
    asyncio.run(run_campaign(spec, out, None, probes=Probing(search, after_probe), firmware=firmware,
                             measured=prev.measured, place=place,
                             extra_params={"narrow_of": f"{run_dir / 'report.json'}#{case}"},
                             history=history_choice(args, source="narrow")))
    words = boundary_words(search, out, layout)
    print(f"\n{case}: {words}")
    print(f"probes: {', '.join(p.name + ' ' + p.outcome for p in search.ran) or 'none'}; in {run_dir / 'report.json'} "
          f"(marked narrow_of {case}) and {out}")
    return 0 if search.converged() else 1
