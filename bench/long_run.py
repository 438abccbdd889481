"""A night is long: does the thousandth case cost what the first did?

Runs N cases (default 1000) on the virtual board through run_campaign, the path
every `rig run` takes (report.json, junit.xml and report.html written as the run
goes, the history appended per case, the timeline streamed), with cheap cuts:
flash-op cuts at a few early ops of the swap that the board survives, cycling
so every window of 100 cases holds the same mix. A case's time is the wall time
from the end of the case before it to its own end, so it includes everything
the rig does between cases; the rig's own share (that time minus the case's
duration) is printed apart, as other load on the machine moves the case time
itself. Prints the memory (RSS) after the first window and at the end, and last
the ratio of the mean case time of the last 100 cases to that of the first 100
(target <= 1.1).

    .venv/bin/python bench/long_run.py [--cases 1000] [--window 100] [--keep DIR] [--history FILE]

`--rig-run "ARGS"` instead times the progress lines of `python -m rig.cli run ARGS`
as a subprocess (e.g. "power-cut --points 300"), for a comparison with another
checkout: PYTHONPATH=/path/to/other/checkout .venv/bin/python bench/long_run.py --rig-run ...
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPS = (3, 6, 9, 12, 15, 18, 21, 24, 27, 30)  # early ops of an 8K image's swap (63 ops): cuts the board survives


class CyclingPlans:
    """run_campaign's plan source: `count` flash-op cuts cycling over OPS, timing each case's end."""

    narrow_of = None

    def __init__(self, count: int, window: int) -> None:
        self.count, self.window = count, window
        self.ends: list[float] = [time.monotonic()]
        self.durations: list[float] = []  # each case's own time (run_case), without what the rig does around it
        self.rss: list[tuple[int, float]] = []

    def next(self):
        from rig.faults import Cut, FaultPlan

        i = len(self.ends) - 1
        if i >= self.count:
            return None
        op = OPS[i % len(OPS)]
        return FaultPlan(f"bench-{i:05d}-op-{op:05d}", Cut("flash-op", flash_op=op))

    def seen(self, result) -> None:
        self.ends.append(time.monotonic())
        self.durations.append(result.duration)
        done = len(self.ends) - 1
        if result.outcome != "pass":
            print(f"  case {done}: {result.outcome}: {result.message}", flush=True)
        if done % self.window == 0 or done == self.count:
            self.rss.append((done, rss_mb()))
            print(f"  {done:>5} cases  last {self.window}: {self.mean(done - self.window, done):.3f} s/case  "
                  f"RSS {self.rss[-1][1]:.0f} MB", flush=True)

    def overhead_ms(self, first: int, last: int) -> float:
        """Mean time per case the rig spent outside the case itself (reports, history, logs, bookkeeping)."""
        steps = [b - a - d for a, b, d in zip(self.ends[first:last], self.ends[first + 1:last + 1],
                                              self.durations[first:last])]
        return statistics.fmean(steps) * 1000

    def mean(self, first: int, last: int) -> float:
        steps = [b - a for a, b in zip(self.ends[max(0, first):last], self.ends[max(0, first) + 1:last + 1])]
        return statistics.fmean(steps) if steps else float("nan")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_process(args: argparse.Namespace, out: Path) -> tuple[float, float]:
    from rig.run.campaign import run_campaign
    from rig.run.history import HistoryChoice
    from rig.campaign.spec import CampaignSpec

    spec = CampaignSpec(suite="power-cut", target_file=str(ROOT / "targets" / "virtual.toml"), image_size=8 * 1024,
                        swap_cuts="flash-op")
    plans = CyclingPlans(args.cases, args.window)
    history = Path(args.history) if args.history else out / "history.sqlite"
    asyncio.run(run_campaign(spec, out, None, probes=plans, history=HistoryChoice(history, "bench")))
    first, last = plans.mean(0, args.window), plans.mean(args.cases - args.window, args.cases)
    print(f"the rig's own time around a case (wall time minus the case's duration): first {args.window} "
          f"{plans.overhead_ms(0, args.window):.1f} ms, last {args.window} "
          f"{plans.overhead_ms(args.cases - args.window, args.cases):.1f} ms (load moves the case time itself)")
    print(f"RSS: {plans.rss[0][1]:.0f} MB after {plans.rss[0][0]} cases, {plans.rss[-1][1]:.0f} MB after "
          f"{plans.rss[-1][0]}; report.json {(out / 'report.json').stat().st_size / 1e6:.1f} MB, "
          f"report.html {(out / 'report.html').stat().st_size / 1e6:.1f} MB")
    return first, last


def as_subprocess(args: argparse.Namespace, out: Path) -> tuple[float, float]:
    cmd = [sys.executable, "-m", "rig.cli", "run", *shlex.split(args.rig_run), "--report-dir", str(out)]
    print("running:", " ".join(cmd), flush=True)
    ends = [time.monotonic()]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}) as proc:
        for line in proc.stdout:
            if line.startswith("["):
                ends.append(time.monotonic())
    steps = [b - a for a, b in zip(ends[1:], ends[2:])]  # from the first case's end: no start-up in the figure
    window = min(args.window, len(steps) // 2)
    print(f"{len(steps) + 1} cases")
    return statistics.fmean(steps[:window]), statistics.fmean(steps[-window:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--keep", type=Path, help="keep the run's report directory here")
    parser.add_argument("--history", help="history file (default: one in the report directory)")
    parser.add_argument("--rig-run", metavar="ARGS", help="time `rig run ARGS` as a subprocess instead")
    args = parser.parse_args()
    if args.cases < 2 * args.window:
        parser.error("--cases must be at least twice --window")
    with tempfile.TemporaryDirectory(prefix="rig-long-run-") as tmp:
        out = args.keep or Path(tmp) / "R"
        load = os.getloadavg()[0]
        first, last = as_subprocess(args, out) if args.rig_run else in_process(args, out)
    print(f"load average {load:.2f} -> {os.getloadavg()[0]:.2f}")
    print(f"mean case time: first {args.window}: {first:.3f} s, last {args.window}: {last:.3f} s; "
          f"ratio last/first = {last / first:.3f} (target <= 1.1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
