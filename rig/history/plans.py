"""What makes two cases of two nights "the same case": the plan's kind and position, not its name alone.

A download cut is its block number, a flash-op cut its operation index (whole or
torn), a swap cut on hardware its fraction of the measured swap window (names
since issue 18 carry it: boards of different speed agree), or its delay when a
plan has no fraction; a conformance case its id and name; a nested plan both of
its cuts; network faults are part of the plan too. A `rig narrow` probe at op 39
is thus the same case as a nightly's swap-op-00039.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_FRACTION = re.compile(r"swap-(\d+(?:\.\d+)?)pct$")


@dataclass(frozen=True)
class PlanIdentity:
    kind: str  # block | flash-op | after-execute | state | console | conformance | none
    at: float | None  # the position along that kind's axis (None: not ordered)
    key: str  # kind and position in one string: equal keys are the same case


def _cut_key(cut: dict[str, Any], name: str = "") -> tuple[str, float | None, str]:
    kind = str(cut.get("kind"))
    if kind == "block":
        return kind, _num(cut.get("block")), f"block@{cut.get('block')}"
    if kind == "flash-op":
        torn = "/torn" if cut.get("torn") else ""
        return kind, _num(cut.get("flash_op")), f"flash-op@{cut.get('flash_op')}{torn}"
    if kind in ("after-execute", "after-power-on"):
        fraction = _FRACTION.search(name)
        if fraction:
            return kind, float(fraction.group(1)), f"{kind}@{float(fraction.group(1)):.4f}pct"
        return kind, _num(cut.get("delay_ms")), f"{kind}@{cut.get('delay_ms')}ms"
    if kind == "state":
        return kind, _num(cut.get("state")), f"state@{cut.get('state')}"
    return kind, None, f"{kind}@{cut.get('pattern')}"


def plan_identity(name: str, plan: dict[str, Any] | None) -> PlanIdentity:
    """The identity of case `name` with `plan` (report.json's "plan" of the case)."""
    plan = plan if isinstance(plan, dict) else {}
    if plan.get("conformance"):
        return PlanIdentity("conformance", None, f"conformance:{plan['conformance']}:{name}")
    cut = plan.get("cut")
    if not isinstance(cut, dict):
        return PlanIdentity("none", None, f"none:{name}" if not plan.get("network") else f"none:{name}{_net(plan)}")
    kind, at, key = _cut_key(cut, name)
    then = plan.get("then")
    if isinstance(then, dict):
        key += "+then:" + _cut_key(then)[2]
    return PlanIdentity(kind, at, key + _net(plan))


def _net(plan: dict[str, Any]) -> str:
    faults = plan.get("network") or []
    parts = [f"{f.get('kind')}@{f.get('block')}" + (f"/{f.get('delay_ms')}ms" if f.get("delay_ms") else "")
             for f in faults if isinstance(f, dict)]
    return "+net:" + ",".join(parts) if parts else ""


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None
