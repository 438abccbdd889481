"""`rig run`: power cuts and conformance cases on a place (the virtual board when none is given).

Prints a line per case and a one-screen summary that counts pass, fail, error
and skip apart; exit 0 only when nothing failed or errored and the run is
complete. A run whose conformance cases were all skipped tested nothing: it
says so in one line and exits 1 (unless --allow-skips).
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from rig.campaign.previous_run import load_previous_run, parse_replay_ref
from rig.campaign.spec import DENSE_AROUND, SPREADS, SUITES, CampaignSpec
from rig.campaign.suite import DEFAULT_POINTS
from rig.commands.history_options import add_history_options, history_choice
from rig.commands.run_lab_options import add_lab_options, lab_place_of, lab_params
from rig.commands.place_args import add_place_options, place_from_args, served_at, with_psk
from rig.config import load_target
from rig.errors import RigError
from rig.target_files import find_target, shipped
from rig.results import CaseResult

if TYPE_CHECKING:
    from rig.run.record import RunRecord  # noqa: PLC0415 -- start-up cost: rig --help loads no place code


def _size(text: str) -> int:
    t = text.strip().upper()
    mult = 1024 if t.endswith("K") else 1024 * 1024 if t.endswith("M") else 1
    try:
        return int(t.rstrip("KM")) * mult
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 32K") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("run", help="power cuts and conformance cases on a place (default: the virtual board)")
    p.add_argument("suite", nargs="?", default="standard", choices=SUITES,
                   help="standard (power cuts + conformance, the default), power-cut, or conformance")
    # --place/--rig/--target/--sim-dir/--work-dir/--psk/--host/--port, as the bench commands take them
    add_place_options(p, server=True, host=None, work_dir=None)
    p.add_argument("--base-image", type=Path, help="your signed MCUboot image to start each case from (hardware)")
    p.add_argument("--new-image", type=Path, help="your signed MCUboot image to update to (hardware)")
    p.add_argument("--points", type=int, default=None, help="number of cut points (default 8)")
    p.add_argument("--report-dir", type=Path, default=None, help="where report.json, junit.xml and logs go (rig-results)")
    p.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first case that does not pass")
    p.add_argument("-k", dest="keyword", help="only cases whose name contains this (or 'not WORD')")
    p.add_argument("--sim-defect", action="append", default=[], metavar="NAME", help="switch on a virtual-board defect")
    p.add_argument("--sim-queue-mode", action="store_true",
                   help="the virtual board registers in queue mode and sleeps between wake-ups (2 s awake, an Update "
                        "every 4.5 s); the rig holds its requests until it wakes")
    p.add_argument("--sim-bootstrap", action="store_true",
                   help="the virtual board bootstraps through the rig's bootstrap server at every boot (adds cuts "
                        "during the bootstrap after the update's reboot)")
    p.add_argument("--mode", choices=("push", "pull"), default="pull", help="how the package travels (default pull)")
    p.add_argument("--scheme", choices=("coap", "coaps"), default="coap", help="coaps: DTLS with a per-run PSK")
    p.add_argument("--block-size", type=int, default=512, choices=(16, 32, 64, 128, 256, 512, 1024))
    p.add_argument("--image-size", type=_size, default=32 * 1024, help="payload size of the generated images (32K)")
    p.add_argument("--seed", type=int, default=0, help="seed recorded with every plan")
    p.add_argument("--spread", choices=SPREADS, default="even", help="cut points evenly spread, random from --seed, or dense")
    p.add_argument("--dense-around", choices=DENSE_AROUND, default="download-end", help="where --spread dense packs the cuts")
    p.add_argument("--swap-cuts", choices=("time", "flash-op"), default=None,
                   help="swap cuts by time after Execute, or at exact flash operations (the virtual board's default)")
    p.add_argument("--nested", type=int, default=0, metavar="N",
                   help="add N plans that cut the swap and then the recovery boot that resumes it")
    p.add_argument("--allow-skips", action="store_true",
                   help="exit 0 even when every conformance case was skipped (nothing applied to this target)")
    add_lab_options(p)  # --shard, --lg-tags, --lg-place, --lg-wait
    add_history_options(p)  # --history PATH, --no-history
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", type=Path, metavar="DIR", help="continue the interrupted run in DIR with its own parameters")
    again.add_argument("--replay", metavar="DIR/report.json#CASE", help="rerun one case of an earlier run, same plan and seed")
    p.set_defaults(func=run)


def _note(text: str) -> None:
    print(f"      {text}", flush=True)


def _progress(done: int, total: int, result: CaseResult) -> None:
    mark = {"pass": "pass", "fail": "FAIL", "error": "ERROR", "skip": "skip"}[result.outcome]
    bar = "#" * int(20 * done / max(total, 1))
    print(f"[{bar:<20}] {done:>3}/{total} {result.name:<36} {mark:<5} {result.duration:5.1f} s", flush=True)
    if result.outcome != "pass":
        print(f"      {result.message}", flush=True)


def run(args: argparse.Namespace) -> int:
    from rig.run.campaign import run_campaign  # noqa: PLC0415 -- start-up cost: aiocoap, the server and the board (~1 s) load when a run starts, not for every `rig` command

    if args.resume is not None:
        return _resume(args)
    if args.replay is not None:
        return _replay(args)

    report_dir = args.report_dir or Path("rig-results")
    args.work_dir = args.work_dir or report_dir / "place"
    with lab_place_of(args, report_dir / "place") as lab_place:  # --lg-tags: reserved for the run, then given back
        place = _keyed(served_at(lab_place, args) if lab_place else _place_of(args), args)
        if place is not None and (args.sim_queue_mode or args.sim_bootstrap):
            raise RigError("--sim-queue-mode and --sim-bootstrap are for the virtual board; a place's target file says "
                           "whether its device sleeps or bootstraps ([lwm2m] queue_mode, bootstrap)")
        target = place.target_file if place else (find_target(args.target) if args.target else shipped("virtual"))
        if not target.is_file():
            raise RigError(f"--target {target}: no such target file")
        if args.swap_cuts is None:
            args.swap_cuts = "time" if place else "flash-op"  # exact flash operations exist on the virtual board only
        spec = CampaignSpec.from_args(args, target, DEFAULT_POINTS)
        return _summary(asyncio.run(run_campaign(spec, report_dir, _progress, place=place, notes=_note,
                                                 extra_params=lab_params(place), history=history_choice(args))))


def _keyed(place, args: argparse.Namespace):
    """The place with --psk applied, checked for a key when the run is over coaps (before anything starts)."""
    from rig.place.server_values import require_key  # noqa: PLC0415 -- start-up cost: rig --help loads no place code

    if place is None:
        if getattr(args, "psk", None):
            raise RigError("--psk: the virtual board makes its own key for each coaps run; --psk is for a "
                           "--target place (or put the key in the rig file for --place)")
        return None
    place = with_psk(place, getattr(args, "psk", None))
    require_key(place, getattr(args, "scheme", "coap"))
    return place


def _place_of(args: argparse.Namespace):
    """None for the self-started virtual board; else the place the options name (rig.commands.place_args)."""
    if args.sim_dir is None and _self_started(args.place, args.rig, args.target):
        if args.host is not None or args.port is not None:
            raise RigError("--host/--port: the virtual board the rig starts itself listens on a free port; they are "
                           "for a place the rig does not start (--place, --target, --sim-dir)")
        return None
    return place_from_args(args)


def _self_started(name: str | None, rig_file: Path | None, target: Path | None) -> bool:
    """No place named and a virtual target (or none): the run starts the virtual board itself."""
    target = find_target(target) if target is not None else None
    if target is not None and not target.is_file():
        raise RigError(f"--target {target}: no such target file (`rig targets` lists the shipped ones)")
    return name is None and rig_file is None and (target is None or load_target(target).starts_own_board)


def _place(name: str | None, rig_file: Path | None, target: Path | None, report_dir: Path):
    """None for the self-started virtual board; else the place (rig file, or a non-virtual target file)."""
    if _self_started(name, rig_file, target):
        return None
    target = find_target(target) if target is not None else None
    from rig.place.resolve import resolve_place  # noqa: PLC0415 -- start-up cost: rig --help loads no place code

    return resolve_place(name, rig_file, target, report_dir / "place")


def previous_place(prev, rig_file: Path | None, report_dir: Path, psk: str | None = None):
    """The place an earlier run ran on: its rig-file place again, or its target file (with --psk applied, and
    checked for a key when the run was over coaps)."""
    spec = prev.spec
    if spec.sim_dir or spec.server_host or spec.server_port:  # the same `rig sim` board, the server where it was
        again = argparse.Namespace(place=spec.place, rig=rig_file, target=None if spec.place or spec.sim_dir else
                                   Path(spec.target_file), sim_dir=Path(spec.sim_dir) if spec.sim_dir else None,
                                   host=spec.server_host, port=spec.server_port, work_dir=report_dir / "place", psk=psk, serves=True)
        return _keyed(place_from_args(again), argparse.Namespace(psk=None, scheme=spec.scheme))
    place = _place(spec.place, rig_file, None if spec.place else Path(spec.target_file), report_dir)
    return _keyed(place, argparse.Namespace(psk=psk, scheme=spec.scheme))


def _resume(args: argparse.Namespace) -> int:
    from rig.run.campaign import run_campaign  # noqa: PLC0415 -- start-up cost: aiocoap, the server and the board (~1 s) load when a run starts, not for every `rig` command

    prev = load_previous_run(args.resume)
    if prev.params.get("complete"):
        print(f"{args.resume}: that run is complete ({len(prev.results)} cases); nothing to resume")
        return _summary_of_previous(prev)
    if args.allow_skips and not prev.spec.allow_skips:
        prev.spec = replace(prev.spec, allow_skips=True)
    print(f"resuming {args.resume}: {len(prev.results)} cases done, stopped: {prev.params.get('stopped')}")
    place = previous_place(prev, args.rig, args.resume, args.psk)
    history = history_choice(args, resume=prev.params.get("history"))
    record = asyncio.run(run_campaign(prev.spec, args.resume, _progress, previous=prev.results, measured=prev.measured,
                                      extra_params={"resumed_after": prev.params.get("stopped"), **lab_params(place)},
                                      place=place,
                                      history=history, notes=_note))
    return _summary(record)


def _replay(args: argparse.Namespace) -> int:
    from rig.run.campaign import run_campaign  # noqa: PLC0415 -- start-up cost: aiocoap, the server and the board (~1 s) load when a run starts, not for every `rig` command

    source_dir, case = parse_replay_ref(args.replay)
    prev = load_previous_run(source_dir)
    original, plan = prev.case(case), prev.plan(case)
    out = args.report_dir or source_dir / f"replay-{case}"
    firmware = Path(prev.params.get("firmware_dir") or source_dir / "firmware")
    if not firmware.is_dir():
        raise RigError(f"--replay: the original run's images are gone ({firmware}); the case cannot be repeated exactly")
    place = previous_place(prev, args.rig, out, args.psk)
    record = asyncio.run(run_campaign(prev.spec, out, _progress, replay=plan, firmware=firmware, measured=prev.measured,
                                      extra_params={"replay_of": f"{source_dir / 'report.json'}#{case}", **lab_params(place)},
                                      place=place,
                                      history=history_choice(args, source="replay")))
    again = record.results[-1] if record.results else None
    if again is not None:
        same = "reproduced" if again.outcome == original.outcome else "NOT reproduced"
        print(f"replay of {case}: {again.outcome} (originally {original.outcome}): {same}")
    return _summary(record)


def _summary_of_previous(prev) -> int:
    return exit_code(prev.results, prev.params.get("complete", False), prev.spec.allow_skips)[0]


def exit_code(results: list[CaseResult], complete: bool, allow_skips: bool) -> tuple[int, str | None]:
    """0 only when nothing failed or errored, the run is complete and something was tested; and the one line
    that says why not when every conformance case was skipped."""
    bad = any(r.outcome in ("fail", "error") for r in results)
    conformance = [r for r in results if (r.plan or {}).get("conformance")]
    all_skipped = bool(conformance) and all(r.outcome == "skip" for r in conformance)
    note = None
    if all_skipped:
        note = (f"every conformance case was skipped ({len(conformance)}): nothing of Object 5 was tested on this "
                "target" + ("; accepted (--allow-skips)" if allow_skips else "; exit 1 (--allow-skips accepts this)"))
    tested = any(r.outcome != "skip" for r in results)
    ok = bool(results) and complete and not bad and (allow_skips or (tested and not all_skipped))
    return (0 if ok else 1), note


def _summary(record: "RunRecord") -> int:
    results = record.results
    counts = {o: sum(r.outcome == o for r in results) for o in ("pass", "fail", "error", "skip")}
    not_run = record.not_run()
    print(f"\n{len(results)} cases: {counts['pass']} passed, {counts['fail']} failed, {counts['error']} errors, "
          f"{counts['skip']} skipped" + (f"; {len(not_run)} not run" if not_run else "")
          + (f" ({record.stopped})" if record.stopped else ""))
    merged = record.params.get("cut_points")
    if isinstance(merged, dict) and merged.get("why"):
        print(f"  {merged['why']}")
    for r in results:
        if r.outcome in ("fail", "error"):
            print(f"  {r.outcome.upper():5} {r.name}: {r.message}")
            for v in r.violations[1:4]:
                print(f"        [{v.rule}] {v.detail}")
    code, note = exit_code(results, record.complete, bool(record.params.get("allow_skips")))
    if note:
        print(note)
    print(f"report: {record.report_dir / 'report.html'}  json: {record.report_dir / 'report.json'}  "
          f"junit: {record.report_dir / 'junit.xml'}")
    return code
