"""The one case wrapper (rig.run.case): cut plans and conformance cases get the same start/end, timing and outcomes.

No board: the place is a real PlaceSession whose power is a real command
backend that fails (a process that exits 3), whose probe is a real file probe
over the virtual target's layout (a flash file never written: all erased), and
an LwM2M server that is not started (nothing to cancel); the cases are a real
cut plan and conformance cases built with rig.conformance.context's Checks.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from rig.config import load_target
from rig.conformance.context import Checks, ConformanceCase, ConformanceContext
from rig.faults import Cut, FaultPlan
from rig.lwm2m.server import Lwm2mServer
from rig.packages.base import CaseImages
from rig.place.session import PlaceSession
from rig.power.command import CommandPower
from rig.probe.base import ProbeError
from rig.probe.file_probe import FileProbe
from rig.run.case import record_case, run_case
from rig.run.conformance import BoundCase
from rig.run.cut_plans import run_cut_plans
from rig.run.record import RunRecord
from rig.target_files import shipped
from rig.timeline import Timeline

FAILS = [sys.executable, "-c", "raise SystemExit(3)"]


def _place(tmp_path: Path) -> PlaceSession:
    timeline = Timeline()
    power = CommandPower(on=FAILS, off=FAILS, name="bench", timeline=timeline)
    layout = load_target(shipped("virtual")).layout
    probe = FileProbe(tmp_path / "flash.bin", layout, name="bench", timeline=timeline)
    return PlaceSession(name="bench", endpoint="ep", layout=layout, profile=None, boot_timeout=1.0, power=power,
                        probe=probe, console=None, server=Lwm2mServer(timeline, tmp_path), timeline=timeline)


def _images(tmp_path: Path) -> CaseImages:
    return CaseImages(tmp_path / "base.bin", "1.0.0", tmp_path / "new.bin", "1.1.0")


def _conformance(run) -> ConformanceCase:
    return ConformanceCase("999", "A case of the wrapper's test", frozenset(), run, "wrapper")


def _kinds(timeline: Timeline) -> list[str]:
    return [e.kind for e in timeline.events() if e.kind in ("case-start", "case-end")]


def test_a_cut_plan_whose_power_fails_is_an_error_naming_the_power(tmp_path):
    session, record = _place(tmp_path), RunRecord("t", tmp_path / "run", {})
    plan = FaultPlan("download-block-00003", Cut("block", block=3))

    asyncio.run(run_cut_plans(session, [plan], _images(tmp_path), record, "pull", 512))

    result = record.results[0]
    assert result.outcome == "error" and "power" in result.error and "exit code 3" in result.error
    assert result.flash is not None  # an error carries the flash, read through the probe
    assert result.duration is not None and result.duration >= 0
    starts = [e for e in session.timeline.events() if e.kind == "case-start"]
    assert [e.data["plan"]["name"] for e in starts] == [plan.name] and starts[0].data["block_size"] == 512
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert [c["outcome"] for c in report["results"]] == ["error"]
    assert (tmp_path / "run" / result.timeline_file).is_file()


def test_a_conformance_case_whose_probe_fails_is_an_error_from_the_wrapper(tmp_path):
    session = _place(tmp_path)

    async def probe_gives_up(s, ctx):
        raise ProbeError("SWD: no ACK from the target")

    case = _conformance(probe_gives_up)
    result = asyncio.run(run_case(session, BoundCase(case, ConformanceContext(_images(tmp_path), {}))))

    assert result.outcome == "error" and result.name == case.name
    assert "probe" in result.error and "no ACK" in result.error
    assert [v.rule for v in result.violations] == ["case-error"]
    assert result.duration is not None
    assert _kinds(session.timeline) == ["case-start", "case-end"]
    assert session.timeline.events()[0].data["conformance"] == "999"


def test_a_device_that_breaks_a_rule_fails_and_the_record_says_why(tmp_path):
    session, record = _place(tmp_path), RunRecord("t", tmp_path / "run", {})

    async def state_wrong(s, ctx):
        checks = Checks("999")
        checks.expect(False, "state", "State read 3 (Updating), expected 0 (Idle)")
        return checks.result()

    case = _conformance(state_wrong)
    bound = BoundCase(case, ConformanceContext(_images(tmp_path), {}))
    asyncio.run(record_case(session, record, case.name, lambda: run_case(session, bound), 1))

    result = record.results[0]
    assert result.outcome == "fail" and result.name == case.name
    assert [v.rule for v in result.violations] == ["999:state"]
    assert result.flash is not None and "flash:" in result.message  # a fail carries the flash
    assert result.duration is not None
    assert _kinds(session.timeline) == ["case-start", "case-end"]


def test_a_cancelled_case_is_not_run_never_a_result(tmp_path):
    session, record = _place(tmp_path), RunRecord("t", tmp_path / "run", {})

    async def body() -> None:
        entered = asyncio.Event()

        async def waits_for_ever(s, ctx):
            entered.set()
            await asyncio.Event().wait()

        case = _conformance(waits_for_ever)
        bound = BoundCase(case, ConformanceContext(_images(tmp_path), {}))
        record.plan([case.name])
        task = asyncio.ensure_future(record_case(session, record, case.name, lambda: run_case(session, bound), 1))
        await asyncio.wait_for(entered.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(body())
    record.close()

    name = "conf-999-wrapper"
    assert record.results == [] and record.not_run() == [name]
    assert record.stopped == f"interrupted during case {name!r}"
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["run"]["complete"] is False and report["run"]["not_run"] == [name]
    saved = [json.loads(line)["kind"] for line in (tmp_path / "run" / "cases" / name / "timeline.jsonl").open()]
    assert "case-start" in saved and "case-end" not in saved
