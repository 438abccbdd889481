"""Cut precision: do event cuts land on the planned block or flash operation, and how late do timed cuts fire?

From two `rig run power-cut` runs (swap cuts timed, then swap cuts at flash
operations), or existing reports with --report DIR: a block cut is exact when
block N was held (its "-dropped" event names N) and no block numbered N or more
went out before the cut; a flash-op cut is exact when the board reports the
power cut at flash operation N; a timed cut's error is the power-off event's
call's time (the power event's "called", when the rig commanded the switch) minus (the Execute
answer's time + the planned delay); the backend's own switching time is printed apart. Prints the figure
last: exact event cuts (target 100%) and timed-cut error p50/p99 (target p99 <=
1 ms).

    .venv/bin/python bench/cut_precision.py [--points 40] [--image-size 32K] [--report DIR ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_helpers import RunOutcome, load_average, read_jsonl, rig_run  # noqa: E402


def block_cut_exact(events: list[dict], block: int) -> tuple[bool, str]:
    cut_i = next((i for i, e in enumerate(events) if e["kind"] == "cut"), None)
    if cut_i is None:
        return False, "no cut event"
    before = events[:cut_i + 2]  # the "-dropped" event follows the cut
    sent = [e["data"]["num"] for e in before[:cut_i] if e["kind"] in ("block1", "block2")]
    held = [e["data"]["num"] for e in before if e["kind"] in ("block1-dropped", "block2-dropped")]
    if any(n >= block for n in sent):
        return False, f"block {max(sent)} went out before the cut at {block}"
    if held != [block]:
        return False, f"held {held}, planned {block}"
    if events[cut_i]["data"].get("why") != f"block {block}":
        return False, f"cut fired for {events[cut_i]['data'].get('why')!r}"
    return True, ""


NOT_REACHED = "not reached: the plan named a flash operation past the last one that happened"


def flash_cut_exact(events: list[dict], flash_op: int) -> tuple[bool, str]:
    said = [e["data"]["line"] for e in events if e["kind"] == "console" and "power cut at flash op" in e["data"].get("line", "")]
    if not said:
        return False, NOT_REACHED
    if f"power cut at flash op {flash_op} " not in said[0] + " ":
        return False, f"board said {said[0]!r}, planned op {flash_op}"
    return True, ""


def timed_cut_error_ms(events: list[dict], delay_ms: float) -> tuple[float, float] | None:
    """(power call - planned instant, backend switching time) in ms for the first power-off after Execute."""
    execute = next((e for e in events if e["kind"] == "request" and e["data"].get("op") == "execute"
                    and e["data"].get("path") == "/5/0/2" and str(e["data"].get("code", "")).startswith("2.")), None)
    if execute is None:
        return None
    off = next((e for e in events if e["t"] > execute["t"] and e["kind"] == "power" and e["data"].get("action") == "off"), None)
    if off is None:
        return None
    called = off["data"].get("called", off["t"])  # the power call; the event itself is logged once the switch confirmed
    return (called - (execute["t"] + delay_ms / 1000.0)) * 1000.0, (off["t"] - called) * 1000.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=40)
    ap.add_argument("--image-size", default="32K")
    ap.add_argument("--report", type=Path, action="append", help="read this report directory instead of running")
    args = ap.parse_args()
    exact, misses, errors, switches = 0, [], [], []
    events_total = timed = not_reached = 0
    with tempfile.TemporaryDirectory() as tmp:
        if args.report:
            runs = [(d, json.loads((d / "report.json").read_text())["results"]) for d in args.report]
        else:
            runs = []
            for swap in ("time", "flash-op"):
                run: RunOutcome = rig_run(Path(tmp) / swap, args.points // 2, args.image_size, ("--swap-cuts", swap))
                runs.append((run.report_dir, run.results))
        for report_dir, results in runs:
            for r in results:
                cut = r.get("cut") or {}
                events = read_jsonl(report_dir / r["timeline_file"])
                if cut.get("kind") in ("block", "flash-op"):
                    events_total += 1
                    ok, why = (block_cut_exact(events, cut["block"]) if cut["kind"] == "block"
                               else flash_cut_exact(events, cut["flash_op"]))
                    exact += ok
                    if why == NOT_REACHED:
                        not_reached += 1
                    if not ok:
                        misses.append(f"{r['name']}: {why}")
                elif cut.get("kind") == "after-execute":
                    timed += 1
                    measured = timed_cut_error_ms(events, cut["delay_ms"])
                    if measured is None:
                        misses.append(f"{r['name']}: no power-off after the Execute answer (the plan came after the device had finished?)")
                    else:
                        errors.append(measured[0])
                        switches.append(measured[1])
    print(f"{events_total} event cuts (block, flash op), {timed} timed cuts; load average {load_average()}")
    for miss in misses:
        print(f"  miss: {miss}")
    if switches:
        print(f"  backend switching time (power call -> confirmed off), apart from the error: p50 "
              f"{percentile(switches, 0.5):.3f} ms, p99 {percentile(switches, 0.99):.3f} ms")
    if errors:
        print(f"  timed cut error (power call - planned time): min {min(errors):.3f} ms, "
              f"p50 {percentile(errors, 0.5):.3f} ms, p99 {percentile(errors, 0.99):.3f} ms, max {max(errors):.3f} ms")
    fired = events_total - not_reached
    share = 100.0 * exact / fired if fired else 0.0
    p50 = percentile(errors, 0.5) if errors else float("nan")
    p99 = percentile(errors, 0.99) if errors else float("nan")
    unfired = f", {not_reached} planned but never reached" if not_reached else ""
    print(f"cut precision: event cuts exact {exact}/{fired} of those that fired ({share:.0f}%, target 100%{unfired}); "
          f"timed cuts error p50 {p50:.3f} ms, p99 {p99:.3f} ms (target p99 <= 1 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
