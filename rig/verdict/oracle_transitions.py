"""The Object 5 state machine as sets of possible configurations (docs/object5.md, "The state machine").

The oracle never knows the device's exact state between samples, so every function
here maps one configuration to the SET of configurations it may become. Hidden facts
that decide what may come next (is the pushed package complete, which fault did the
rig inject, which firmware version runs) travel inside the configuration.

`Context.relax` switches on deliberately wrong extra transitions; the diagnosis uses
them to name the bug ("would be explained if an Update had been executed").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable

from rig.lwm2m.object5 import DOWNLOAD_ERRORS, State, UpdateResult, update_results
from rig.verdict.oracle_items import (
    BAD_PACKAGE_FAULTS,
    FAULTS,
    Cancel,
    Cause,
    DownloadFault,
    ExecuteUpdate,
    PushCompleted,
    PushStarted,
    WritePackageReset,
    WriteUri,
    code_ok,
)
from rig.lwm2m.profile import Profile

IDLE, DOWNLOADING, DOWNLOADED, UPDATING = State
INITIAL = UpdateResult.INITIAL

# Relaxations (diagnosis only).
FREE_EXECUTE = "free-execute"  # Downloaded -> Updating without Execute
FREE_SUCCESS = "free-success"  # anything -> Idle/1
IGNORE_FAULT = "ignore-fault"  # injected faults have no effect
PUSH_ANYTIME = "push-anytime"  # a pushed package may be complete before its last block
KEEP_RESULT = "keep-result"  # a download/update may start without resetting the result
ANY_RESULT = "any-result"  # failures may carry any result
FREE_DOWNLOAD = "free-download"  # Idle -> Downloading without a write
FREE_RESET = "free-reset"  # anything -> Idle/0
IGNORE_VERSIONS = "ignore-versions"  # registrations do not constrain the running firmware
RESULT_LOST = "result-lost"  # a reboot may reset Update Result to 0 (and lose an update's outcome)


@dataclass(frozen=True)
class Config:
    """One possible device configuration: the visible pair plus what decides its future.

    pull: the current package comes by Package URI (True), push (False), unknown (None).
    can_finish: the whole package can be there (a push only after its last block was
      acknowledged); an injected fault may still forbid Downloaded.
    fault: the FAULTS key the rig injected into the current package.
    target: version of the package being downloaded / stored; runs: the version running.
    """

    state: int
    result: int
    pull: bool | None = None
    can_finish: bool = True
    fault: str | None = None
    target: str | None = None
    runs: str | None = None

    @property
    def pair(self) -> tuple[int, int]:
        return (self.state, self.result)


@dataclass(frozen=True)
class Context:
    profile: Profile
    version: str  # object version in use: "1.0" | "1.1"
    relax: frozenset[str] = frozenset()

    @property
    def v11(self) -> bool:
        return self.version == "1.1"


def _idle(c: Config, result: int) -> Config:
    """Idle with the package gone (reset, cancel, failed download)."""
    return Config(IDLE, result, runs=c.runs)


def _fault_blocks(fault: str | None, ctx: Context) -> bool:
    return fault is not None and IGNORE_FAULT not in ctx.relax and not FAULTS[fault][1]


def _download(c: Config, pull: bool | None, target: str | None, fault: str | None, ctx: Context) -> set[Config]:
    """A download starts: Downloading/0 (Update Result is reset when a download starts)."""
    started = Config(DOWNLOADING, INITIAL, pull, pull is not False, fault, target, c.runs)
    out = {started}
    if KEEP_RESULT in ctx.relax:
        out.add(replace(started, result=c.result))
    return out


def update_outcomes(c: Config, ctx: Context) -> set[Config]:
    """How an update attempt ends: Idle/1 (new firmware runs), 8 to Idle or Downloaded per profile, 5 to Idle."""
    out: set[Config] = set()
    bad = c.fault in BAD_PACKAGE_FAULTS and IGNORE_FAULT not in ctx.relax
    if not bad:
        out.add(Config(IDLE, UpdateResult.SUCCESS, runs=c.target if c.target is not None else None))
    if ctx.profile.failure_returns_to == "idle":
        out.add(_idle(c, UpdateResult.UPDATE_FAILED))
    else:
        out.add(replace(c, state=DOWNLOADED, result=UpdateResult.UPDATE_FAILED))
    out.add(_idle(c, UpdateResult.INTEGRITY_FAILURE))
    if ANY_RESULT in ctx.relax:
        out.update(_idle(c, r) for r in update_results(ctx.version))
    return out


def spontaneous(c: Config, ctx: Context) -> set[Config]:
    """One step the device may take on its own (download progress, update outcome, deferral ends)."""
    out: set[Config] = set()
    relax = ctx.relax
    if c.state == DOWNLOADING:
        if (c.can_finish or PUSH_ANYTIME in relax) and not _fault_blocks(c.fault, ctx):
            out.add(replace(c, state=DOWNLOADED, result=INITIAL))
        if c.fault is not None and IGNORE_FAULT not in relax:
            errors = FAULTS[c.fault][0]
        else:
            errors = DOWNLOAD_ERRORS
        if ANY_RESULT in relax:
            errors = update_results(ctx.version)
        out.update(_idle(c, r) for r in errors)
    elif c.state == DOWNLOADED:
        if c.result == UpdateResult.DEFERRED or FREE_EXECUTE in relax:
            out.add(replace(c, state=UPDATING, result=INITIAL))
            if KEEP_RESULT in relax:
                out.add(replace(c, state=UPDATING))
    elif c.state == UPDATING:
        out |= update_outcomes(c, ctx)
    if FREE_SUCCESS in relax and c.pair != (IDLE, UpdateResult.SUCCESS):
        out.add(Config(IDLE, UpdateResult.SUCCESS, runs=c.target))
    if FREE_DOWNLOAD in relax and c.state == IDLE:
        out |= _download(c, None, None, None, ctx)
    if FREE_RESET in relax and c.pair != (IDLE, INITIAL):
        out.add(_idle(c, INITIAL))
    return out


def closure(configs: Iterable[Config], ctx: Context) -> frozenset[Config]:
    """Everything reachable by the device's own steps (sampled observations may skip any of them)."""
    seen = set(configs)
    todo = list(seen)
    while todo:
        for nxt in spontaneous(todo.pop(), ctx):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return frozenset(seen)


def power_loss(c: Config, ctx: Context) -> set[Config]:
    """Where a configuration may come back after a power cut or reboot (docs/object5.md, "Power loss")."""
    profile = ctx.profile
    lost = {replace(c, state=IDLE if c.state == UPDATING else c.state, result=INITIAL)} if RESULT_LOST in ctx.relax else set()
    if c.state == UPDATING:
        return update_outcomes(c, ctx) | lost  # hard invariant: the attempt ends with 1, 8 or 5
    if not profile.persists_state:
        return {_idle(c, INITIAL)}
    if c.state == DOWNLOADING:
        out: set[Config] = set()
        if profile.resumes_download and c.pull is not False:
            out.add(c)
        if not profile.resumes_download or c.pull is not True:
            out |= {_idle(c, INITIAL), _idle(c, UpdateResult.CONNECTION_LOST)}
        return out
    return {c} | lost  # Idle keeps its result, Downloaded keeps its package and result


def _reset(c: Config, code: str | None, ctx: Context) -> set[Config]:
    """Package URI "" or Package NUL: Idle/0 from anywhere (profile decides Downloading)."""
    if code is not None and not code_ok(code):
        return {c}
    if c.state == DOWNLOADING and ctx.profile.reset_in_downloading == "ignored":
        done = {c}
    elif c.state == UPDATING:
        done = {c, _idle(c, INITIAL)}  # the object text does not say whether an update in progress stops
    else:
        done = {_idle(c, INITIAL)}
    return done | ({c} if code is None else set())


def _write_uri(c: Config, w: WriteUri, ctx: Context) -> set[Config]:
    if not w.uri:
        return _reset(c, w.code, ctx)
    direct = ctx.profile.invalid_uri == "direct"
    if w.code is not None and not code_ok(w.code):
        out = {c}
        if c.state == IDLE and w.kind in ("unsupported", "unknown"):
            out.add(_idle(c, UpdateResult.UNSUPPORTED_PROTOCOL))
        if c.state == IDLE and w.kind in ("invalid", "unknown") and direct:
            out.add(_idle(c, UpdateResult.INVALID_URI))
        return out
    if c.state not in (IDLE, DOWNLOADING):
        out = {c}  # Downloaded / Updating: refused (4.00 typical), unchanged
    else:
        out = {c} if (c.state == DOWNLOADING or w.code is None) else set()
        if w.kind in ("valid", "unknown"):
            out |= _download(c, True, w.version, w.fault, ctx)
        if w.kind in ("unsupported", "unknown"):
            out.add(_idle(c, UpdateResult.UNSUPPORTED_PROTOCOL))
        if w.kind in ("invalid", "unknown"):
            if direct:
                out.add(_idle(c, UpdateResult.INVALID_URI))
            else:
                out |= _download(c, True, w.version, "invalid-uri", ctx)
    return out


def _execute(c: Config, e: ExecuteUpdate, ctx: Context) -> set[Config]:
    """Update is only executable in Downloaded; elsewhere the answer must be 4.05."""
    in_downloaded = c.state == DOWNLOADED
    started: set[Config] = set()
    if in_downloaded:
        started.add(replace(c, state=UPDATING, result=INITIAL))
        if KEEP_RESULT in ctx.relax:
            started.add(replace(c, state=UPDATING))
        if ctx.v11:
            started.add(replace(c, result=UpdateResult.DEFERRED))
    if e.code is None:
        return {c} | started
    if code_ok(e.code):
        return started  # empty outside Downloaded: a 2.04 there is a bug
    if e.code == "4.05":
        return set() if in_downloaded else {c}
    return {c}


def _cancel(c: Config, k: Cancel, ctx: Context) -> set[Config]:
    """Cancel (1.1): Downloading/Downloaded -> Idle/10; elsewhere 4.05; absent in 1.0."""
    if not ctx.v11:
        return set() if code_ok(k.code) else {c}
    cancellable = c.state in (DOWNLOADING, DOWNLOADED)
    cancelled = {_idle(c, UpdateResult.CANCELLED)} if cancellable else set()
    if k.code is None:
        return {c} | cancelled
    if code_ok(k.code):
        return cancelled
    if k.code == "4.05":
        return set() if cancellable else {c}
    return {c}


def apply_cause(c: Config, cause: Cause, ctx: Context) -> set[Config]:
    """The configurations `c` may turn into through one rig-made cause (not power events or registrations).

    An empty set means the cause's recorded response is impossible from `c`.
    """
    if isinstance(cause, WriteUri):
        return _write_uri(c, cause, ctx)
    if isinstance(cause, WritePackageReset):
        return _reset(c, cause.code, ctx)
    if isinstance(cause, PushStarted):
        if c.state == IDLE:
            return _download(c, False, cause.version, cause.fault, ctx)
        if c.state == DOWNLOADING:
            return {c} | _download(c, False, cause.version, cause.fault, ctx)
        return {c}
    if isinstance(cause, PushCompleted):
        if c.state != DOWNLOADING or c.pull is not False or not (cause.code is None or code_ok(cause.code)):
            return {c}
        done = replace(c, can_finish=True)
        return {c, done} if cause.code is None else {done}
    if isinstance(cause, ExecuteUpdate):
        return _execute(c, cause, ctx)
    if isinstance(cause, Cancel):
        return _cancel(c, cause, ctx)
    if isinstance(cause, DownloadFault):
        if c.state != DOWNLOADING:
            return {c}
        return {replace(c, fault=cause.kind)}
    raise TypeError(f"apply_cause: {type(cause).__name__} is not a state-machine cause")


def legal_pairs(version: str) -> frozenset[tuple[int, int]]:
    """(State, Update Result) pairs some legal path can produce, whatever the profile."""
    results = update_results(version)
    pairs = {(IDLE, r) for r in results if r != UpdateResult.DEFERRED}
    pairs |= {(DOWNLOADING, INITIAL), (UPDATING, INITIAL), (DOWNLOADED, INITIAL), (DOWNLOADED, UpdateResult.UPDATE_FAILED)}
    if version == "1.1":
        pairs.add((DOWNLOADED, UpdateResult.DEFERRED))
    return frozenset(pairs)


def any_configuration(ctx: Context) -> frozenset[Config]:
    """The unknown start: every legal pair for this profile, hidden facts unknown."""
    pairs = {p for p in legal_pairs(ctx.version)}
    if ctx.profile.failure_returns_to == "idle":
        pairs.discard((DOWNLOADED, UpdateResult.UPDATE_FAILED))
    return frozenset(Config(s, r) for s, r in pairs)
