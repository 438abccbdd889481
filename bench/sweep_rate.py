"""Sweep rate: complete cut-and-verify cycles per minute on the virtual board, and where a cycle's time goes.

Runs `rig run power-cut --image-size 256K --points N` (the issue's 256 KiB image; the
virtual target's slots are 288 KiB), reads case durations from
report.json and splits each case's time by the timeline events that bound each
activity. Prints the figure last: cycles/min and its ratio to the 30/min target.

    .venv/bin/python bench/sweep_rate.py [--points 8] [--keep DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_helpers import IMAGE_SIZE, RunOutcome, load_average, rig_run  # noqa: E402

TARGET_PER_MIN = 30.0


def activity_after(event: dict, current: str) -> str:
    """The activity a case is in after `event`: each marker event opens the next stretch of time."""
    kind, data = event["kind"], event["data"]
    line = data.get("line", "") if kind == "console" else ""
    if kind == "case-start":
        return "known start (reflash over the probe, reset)"
    if kind == "power":
        return {"on": "MCU process start after power on", "off": "power off (plan off time)"}.get(data.get("action"), current)
    if "power-on reset" in line:
        return "bootloader (swap when one is pending)"
    if "jumping to image" in line:
        return "application start + register"
    if line.startswith("[app] reboot"):
        return "MCU restart after a reboot (supervisor)"
    if kind == "register":
        return "DM after register (observe, read, write URI)"
    if kind in ("block2", "block1"):
        return "transfer"
    if kind in ("transfer-done", "push-ended"):
        return "DM after transfer (read state, execute)"
    if kind == "request" and data.get("op") == "execute" and str(data.get("path")) == "/5/0/2":
        return "application shutdown after Execute"
    return current


def breakdown(run: RunOutcome) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for result in run.results:
        events = run.case_timeline(result)
        current, last_t = "setup", events[0]["t"]
        for event in events:
            totals[current] += event["t"] - last_t
            last_t = event["t"]
            current = activity_after(event, current)
    return dict(totals)


def startup_cost(run: RunOutcome) -> float:
    """Process start, imports, images, server and board start: launch until the first case starts."""
    first = next(e for e in run.run_timeline() if e["kind"] == "case-start")
    return first["t"] - run.started_mono


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=8)
    ap.add_argument("--keep", type=Path, help="keep the report here instead of a temporary directory")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report_dir = args.keep or Path(tmp) / "run"
        run = rig_run(report_dir, args.points)
        durations = [r["duration"] for r in run.results]
        cut_durations = [r["duration"] for r in run.results if r.get("cut")]
        outcomes = [r["outcome"] for r in run.results]
        parts = breakdown(run)
        start = startup_cost(run)
    case_total = sum(durations)
    print(f"rig run --image-size {IMAGE_SIZE} --points {args.points}: {len(durations)} cases "
          f"({outcomes.count('pass')} pass), wall {run.wall_s:.1f} s, load average {load_average()}")
    print(f"  start-up before the first case (process, imports, images, server, board): {start:.2f} s")
    print(f"  case duration median {statistics.median(durations):.2f} s, cut cases median "
          f"{statistics.median(cut_durations) if cut_durations else 0:.2f} s")
    print("  where case time goes (all cases, summed):")
    for name, secs in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"    {name:<48} {secs:6.2f} s  {100 * secs / case_total:5.1f} %")
    per_min = 60.0 * len(durations) / case_total
    wall_per_min = 60.0 * len(durations) / run.wall_s
    print(f"  including start-up: {wall_per_min:.1f} cycles/min")
    print(f"sweep rate: {per_min:.1f} cycles/min (target {TARGET_PER_MIN:g}/min; ratio {per_min / TARGET_PER_MIN:.2f})")
    return 0 if run.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
