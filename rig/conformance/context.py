"""What every conformance case gets (images, bad packages, transfer mode) and how it reports.

A case records what it checked in a Checks object: each broken expectation is a
Violation naming the rule (the enabler test case and what it requires) and the
evidence (what the device answered), so a report reader needs no log to see why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from rig.campaign.case import CaseImages
from rig.campaign.negative_images import NegativeImage
from rig.errors import RigError
from rig.results import CaseResult, Violation
from rig.verdict.outcome import Observed, decide

MODES = ("push", "pull")


@dataclass
class ConformanceContext:
    """images: base/new; negative: the bad packages made for the target, by kind (rig.packages), and
    negative_missing: why each kind that was not made is missing; mode: the transfer mode for cases
    that work either way; abilities: what the target can exercise, filled by rig.run.conformance.run_conformance
    from the device (delivery method, object version) and its profile."""

    images: CaseImages
    negative: dict[str, NegativeImage]
    mode: str = "push"
    block_size: int = 512
    abilities: set[str] = field(default_factory=set)
    negative_missing: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise RigError(f"conformance mode {self.mode!r} is not one of {', '.join(MODES)}")
        if self.block_size not in (16, 32, 64, 128, 256, 512, 1024):
            raise RigError(f"conformance block size {self.block_size} is not a CoAP block size (16..1024, a power of 2)")


@dataclass(frozen=True)
class ConformanceCase:
    """id: the enabler test case number (or "cancel-idle", "resume" for 1.1 additions);
    needs: abilities the target must have (see rig.conformance.abilities); slug: the name's tail."""

    id: str
    title: str
    needs: frozenset[str]
    run: Callable[[Any, ConformanceContext], Awaitable[CaseResult]]
    slug: str = ""

    @property
    def name(self) -> str:
        tail = self.slug or "-".join(self.title.lower().split())
        return f"conf-{self.id}-{tail}"


class Checks:
    """Collects a case's verdicts while it runs; `result()` turns them into the CaseResult
    (the runner stamps the registered name and title on it)."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        self.violations: list[Violation] = []
        self.notes: list[str] = []
        self.started = time.monotonic()
        self.state: int | None = None
        self.result_value: int | None = None
        self.version: str | None = None

    def expect(self, ok: bool, rule: str, evidence: str) -> bool:
        if not ok:
            self.violations.append(Violation(f"{self.case_id}:{rule}", evidence))
        return ok

    def note(self, text: str) -> None:
        self.notes.append(text)

    def add(self, violations: list[Violation]) -> None:
        self.violations.extend(violations)

    def result(self) -> CaseResult:
        decision = decide(Observed(violations=tuple(self.violations)))
        message = decision.reason if self.violations else "; ".join(self.notes) or "as required"
        return CaseResult(
            name=f"conf-{self.case_id}", outcome=decision.outcome, plan={"conformance": self.case_id},
            violations=list(self.violations), booted_version=self.version, state=self.state,
            update_result=self.result_value, duration=time.monotonic() - self.started, message=message,
        )


def skipped(case: ConformanceCase, why: str) -> CaseResult:
    """A case the target cannot exercise: outcome "skip", the reason in the message and in plan["skipped"]."""
    decision = decide(Observed(not_applicable=why))
    return CaseResult(
        name=case.name, outcome=decision.outcome, plan={"conformance": case.id, "title": case.title, "skipped": why},
        message=decision.reason,
    )
