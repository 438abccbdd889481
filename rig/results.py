"""Case results: what the verdict says about one case, in the shape report.json carries."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Violation:
    rule: str
    detail: str


@dataclass
class CaseResult:
    name: str
    outcome: str  # "pass" | "fail" | "error" | "skip" (rig.verdict.outcome decides)
    phase: str | None = None  # the phase the device had actually reached when the power went
    cut: dict[str, Any] | None = None
    plan: dict[str, Any] | None = None
    violations: list[Violation] = field(default_factory=list)
    booted_version: str | None = None
    state: int | None = None
    update_result: int | None = None
    error: str | None = None
    duration: float = 0.0
    recover_time: float | None = None
    flash_verdict: str | None = None
    console_log: str | None = None
    console_dropped: int = 0  # console lines past the log cap (rig.console.base): counted, not kept
    timeline_file: str | None = None
    flash_dump: str | None = None  # cases/NAME/flash/slots.txt: raw dumps beside it (fail and error only)
    flash: dict[str, Any] | None = None  # the decoded slots of that dump (rig.campaign.flash_evidence)
    message: str | None = None
    narrow_of: str | None = None  # a probe of `rig narrow`: the case whose first failing point it looked for

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["violations"] = [asdict(v) for v in self.violations]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CaseResult":
        data = dict(data)
        data["violations"] = [Violation(**v) for v in data.get("violations", [])]
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})
