"""What a case established besides the timeline: readings the invariants are checked against."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CaseFacts:
    base_version: str
    new_version: str
    cut_phase: str | None = None
    came_back: bool | None = None  # None: there was no cut
    nested_cut: bool = False  # a nested plan's second cut landed in the recovery boot
    recover_time: float | None = None
    stuck_in: str | None = None  # "downloading" / "updating" when a timeout ran out there
    reached_updating: bool = False
    fresh_update_ok: bool | None = None  # None: not needed (new image already running)
    final_version: str | None = None
    final_state: int | None = None
    final_result: int | None = None
    flash_state: str | None = None  # "intact" etc. of the primary slot
    flash_version: str | None = None
    flash_problem: str | None = None
    not_applicable: str | None = None  # why the plan does not apply to this device (the case is a skip)
    notes: list[str] = field(default_factory=list)
    version_compare: str = "semver"  # the target's [version] compare: how final_version meets base/new
