"""The one rule that turns what a case did and saw into pass | fail | error | skip, with the reason.

A nightly report is only worth reading if each word means one thing:
  pass  everything the case checked held;
  fail  the device broke a rule, with evidence; a board that does not come back
        after a cut (or comes back with no intact image) is the failure a power-cut
        rig exists to find, so it is a fail whenever the rig itself worked: the
        power switched and the probe could still read the flash;
  error the rig could not do the case (a power switch, the probe, the server, a
        plan that never fired), naming which part;
  skip  the case does not apply to this target, or never ran, saying why.
A case that did not run is never a fail, and a skip is never a pass.

Pure: no board, no I/O; callers describe what happened in an `Observed` and get a
`Decision`. Every rule is a row of `decide` and is tested on its own
(tests/test_verdict_outcome.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rig.results import Violation

OUTCOMES = ("pass", "fail", "error", "skip")
BRICKED = "bricked-after-cut"
BRICKED_BY_UPDATE = "bricked-after-update"  # no cut: the update itself left a board that never came back
# Parts of the rig a case can fail on; "plan" is a plan that was not carried out (its cut never came).
RIG_PARTS = ("power", "probe", "server", "console", "known-start", "plan", "rig")


@dataclass(frozen=True)
class RigFault:
    """The rig itself failed: `part` is one of RIG_PARTS, `detail` the one-line reason."""

    part: str
    detail: str

    def describe(self) -> str:
        return f"{self.part}: {self.detail}"


@dataclass(frozen=True)
class Observed:
    """What the rig did and what it saw in one case.

    ran: False when the case never started (the run stopped first).
    not_applicable: why the case does not apply to this target (None: it does).
    faults: the rig's own failures, in the order they happened.
    violations: rules the device broke (oracle, invariants, conformance checks).
    cut: True when the plan's power cut happened, None when the plan has none.
    came_back: after the cut (or the update's reboot) the device registered again (None: not asked).
    probe_reachable: the probe read the flash after the case (None: nobody asked).
    intact_image: the flash holds an image the bootloader can run (None: not read).
    """

    ran: bool = True
    not_run_reason: str = "the run stopped before this case"
    not_applicable: str | None = None
    faults: tuple[RigFault, ...] = ()
    violations: tuple[Violation, ...] = ()
    cut: bool | None = None
    came_back: bool | None = None
    probe_reachable: bool | None = None
    probe_problem: str | None = None
    intact_image: bool | None = None
    flash_words: str | None = None


@dataclass(frozen=True)
class Decision:
    outcome: str
    reason: str
    rule: str | None = None  # the rule a fail rests on (e.g. bricked-after-cut)
    added: tuple[Violation, ...] = field(default_factory=tuple)  # violations the decision itself establishes


def decide(seen: Observed) -> Decision:
    """pass | fail | error | skip for one case; the first matching row wins."""
    if not seen.ran:
        return Decision("skip", f"not run: {seen.not_run_reason}")
    if seen.not_applicable is not None:
        return Decision("skip", f"skipped: {seen.not_applicable}")
    broken = [f for f in seen.faults if f.part != "plan"]
    if broken:
        return Decision("error", f"rig error ({broken[0].describe()})")
    if seen.came_back is False:
        return _not_back(seen)
    if seen.cut and seen.intact_image is False:
        detail = "after the cut the device registered, but its flash holds no intact image to boot" + _flash(seen)
        return Decision("fail", f"[{BRICKED}] {detail}", BRICKED, (Violation(BRICKED, detail),))
    if seen.violations:
        first = seen.violations[0]
        return Decision("fail", f"[{first.rule}] {first.detail}", first.rule)
    plan = [f for f in seen.faults if f.part == "plan"]
    if plan:
        return Decision("error", f"rig error ({plan[0].describe()})")
    return Decision("pass", "as required")


def _not_back(seen: Observed) -> Decision:
    """A board that did not come back: a brick if the probe could look at it, else the rig cannot tell."""
    if seen.probe_reachable is not True:
        why = seen.probe_problem or "the place has no probe to read the flash"
        return Decision("error", f"rig error (probe: the board did not come back after the cut and the probe "
                                 f"could not read its flash: {why})")
    rule = BRICKED if seen.cut else BRICKED_BY_UPDATE
    given = next((v for v in seen.violations if v.rule == rule), None)
    if given is not None:
        return Decision("fail", f"[{rule}] {given.detail}", rule)
    after = "the cut" if seen.cut else "the update"
    detail = f"after {after} the board never registered again although its power was switched" + _flash(seen)
    return Decision("fail", f"[{rule}] {detail}", rule, (Violation(rule, detail),))


def _flash(seen: Observed) -> str:
    return f"; flash: {seen.flash_words}" if seen.flash_words else ""
