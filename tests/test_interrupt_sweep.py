"""SIGTERM or SIGINT to `rig run` in the middle of a case: the board ends powered off, the run ends promptly and says where.

test_campaign_run.py checks that Ctrl-C between cases leaves a partial report;
this sends the signal while a cut case is under way (after the board's power
came on for it) and watches the board's own event stream, from a second
connection to the supervisor, to see the last power state it had before it went
away.
"""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

import pytest

from rig.netutil import default_sigint
from rig.sim.control import SupervisorClient, SupervisorError

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

PROMPT_S = 30.0  # from the signal to the process gone, under a loaded CI machine


def _lines(stream) -> "queue.Queue[str | None]":
    out: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in stream:
            out.put(line)
        out.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return out


def _wait_line(lines: "queue.Queue[str | None]", pattern: str, seen: list[str], timeout: float = 120.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        if line is None:
            raise AssertionError(f"rig run ended before {pattern!r}: {''.join(seen[-10:])}")
        seen.append(line)
        if re.search(pattern, line):
            return line


def _board_events(port: int) -> tuple["queue.Queue[dict | None]", list[dict]]:
    """The supervisor's events, live (queue) and all of them (list); None once the supervisor is gone."""
    stream = SupervisorClient(port).events()
    live: queue.Queue[dict | None] = queue.Queue()
    everything: list[dict] = []

    def pump() -> None:
        try:
            for event in stream:
                everything.append(event)
                live.put(event)
        except (SupervisorError, OSError):
            pass
        live.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return live, everything


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_mid_case_powers_the_board_off_and_writes_a_partial_report(tmp_path, signum):
    out = tmp_path / "R"
    proc = subprocess.Popen([sys.executable, "-m", "rig.cli", "run", "power-cut", "--report-dir", str(out), "--points", "6"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=default_sigint)
    seen: list[str] = []
    try:
        lines = _lines(proc.stdout)
        _wait_line(lines, r"\b1/\d+ baseline-no-cut", seen)
        control = re.search(r"^control: 127\.0\.0\.1:(\d+)$", (out / "board" / "supervisor.log").read_text(), re.M)
        assert control, "the board's supervisor log names its control port"
        port = int(control.group(1))
        live, events = _board_events(port)
        # The next case starts with a known start: power on; the signal lands while that case runs.
        deadline = time.monotonic() + 60
        while True:
            event = live.get(timeout=max(deadline - time.monotonic(), 0.01))
            assert event is not None, "the supervisor went away before the next case started"
            if event.get("event") == "mcu-start":
                break
        assert SupervisorClient(port).is_on()
        proc.send_signal(signum)
        t0 = time.monotonic()
        proc.wait(timeout=PROMPT_S)
        took = time.monotonic() - t0
        while live.get(timeout=PROMPT_S) is not None:  # the stream ends when the supervisor is gone
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0, "".join(seen)
    assert took < PROMPT_S
    powers = [e["state"] for e in events if e.get("event") == "power"]
    assert powers and powers[-1] == "off", f"last power state the board reported: {powers}"
    with pytest.raises(SupervisorError):
        SupervisorClient(port, timeout=2).status()

    report = json.loads((out / "report.json").read_text())
    run = report["run"]
    assert run["complete"] is False and "interrupted" in run["stopped"]
    names = [r["name"] for r in report["results"]]
    assert names[0] == "baseline-no-cut"
    stopped_in = re.search(r"during case '([^']+)'", run["stopped"])
    assert stopped_in and stopped_in.group(1) not in names, run["stopped"]
    interrupted = out / "cases" / stopped_in.group(1)
    assert (interrupted / "timeline.jsonl").is_file() and (interrupted / "console.log").is_file()
    for r in report["results"]:
        assert (out / r["console_log"]).is_file() and (out / r["timeline_file"]).is_file()
    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")  # the cases not run are there, and it is red
    assert suite.get("tests") == str(len(names) + len(run["not_run"]) + 1) and int(suite.get("errors")) >= 1
    assert stopped_in.group(1) in run["not_run"]
    timeline = [json.loads(line) for line in (out / "timeline.jsonl").read_text().splitlines()]
    last_case = max(i for i, e in enumerate(timeline) if e["kind"] == "case-start")
    safe = [e for e in timeline[last_case:] if e["kind"] == "power" and e["data"].get("reason") == "safe-state"]
    assert safe and safe[-1]["data"]["action"] == "off"  # the rig's own record agrees with the board's
    assert timeline[-1]["kind"] == "server-stop"
