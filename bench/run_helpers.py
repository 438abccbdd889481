"""Shared pieces of the benches: start `rig run` as a real subprocess, read its report and timelines.

Benches are run by hand (not by pytest); they share this so that each bench is
only its measurement and its printed figure.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

IMAGE_SIZE = "256K"  # the figure: the virtual target's 288 KiB slots take it with header and trailer
SUITE = "power-cut"  # cut-and-verify cycles only; `standard` adds the conformance cases


@dataclass
class RunOutcome:
    report_dir: Path
    wall_s: float
    started_mono: float
    returncode: int
    report: dict[str, Any]

    @property
    def results(self) -> list[dict[str, Any]]:
        return self.report.get("results", [])

    def case_timeline(self, result: dict[str, Any]) -> list[dict[str, Any]]:
        return read_jsonl(self.report_dir / result["timeline_file"])

    def run_timeline(self) -> list[dict[str, Any]]:
        return read_jsonl(self.report_dir / "timeline.jsonl")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as src:
        return [json.loads(line) for line in src if line.strip()]


def rig_run_cmd(report_dir: Path, points: int, image_size: str = IMAGE_SIZE, extra: tuple[str, ...] = ()) -> list[str]:
    return [sys.executable, "-m", "rig.cli", "run", SUITE, "--report-dir", str(report_dir),
            "--image-size", image_size, "--points", str(points), *extra]


def start_rig_run(report_dir: Path, points: int, image_size: str = IMAGE_SIZE,
                  extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen, float]:
    t0 = time.monotonic()
    proc = subprocess.Popen(rig_run_cmd(report_dir, points, image_size, extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, t0


def finish_rig_run(proc: subprocess.Popen, t0: float, report_dir: Path, timeout: float = 900) -> RunOutcome:
    out, _ = proc.communicate(timeout=timeout)
    wall = time.monotonic() - t0
    report_path = report_dir / "report.json"
    if not report_path.is_file():
        raise SystemExit(f"rig run wrote no report in {report_dir}:\n{out}")
    outcome = RunOutcome(report_dir, wall, t0, proc.returncode, json.loads(report_path.read_text()))
    if proc.returncode != 0:
        print(f"warning: rig run exited {proc.returncode}; last lines:\n" + "\n".join(out.splitlines()[-6:]), file=sys.stderr)
    return outcome


def rig_run(report_dir: Path, points: int, image_size: str = IMAGE_SIZE, extra: tuple[str, ...] = ()) -> RunOutcome:
    proc, t0 = start_rig_run(report_dir, points, image_size, extra)
    return finish_rig_run(proc, t0, report_dir)


def load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"
