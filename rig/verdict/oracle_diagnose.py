"""Naming the bug: which rule an unexplained observation or response breaks, in words.

When no legal path explains an observation, the segment since the previous
observation is replayed with one deliberately wrong extra transition at a time (or
the other choice of one profile key); the first that explains the observation names
the rule. The order puts specific findings (profile mismatch, success without
Execute) before generic ones ("unreachable").
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from rig.lwm2m.object5 import State, UpdateResult, describe, state_label
from rig.verdict.oracle_items import (
    FAULTS,
    Cancel,
    ExecuteUpdate,
    Item,
    Observation,
    Registration,
    code_ok,
)
from rig.verdict.oracle_transitions import (
    ANY_RESULT,
    FREE_DOWNLOAD,
    FREE_EXECUTE,
    FREE_RESET,
    FREE_SUCCESS,
    IGNORE_FAULT,
    IGNORE_VERSIONS,
    KEEP_RESULT,
    PUSH_ANYTIME,
    RESULT_LOST,
    Config,
    Context,
    closure,
    legal_pairs,
)
from rig.verdict.oracle_walk import Walk, match, step_cause
from rig.lwm2m.profile import BEHAVIOUR_KEYS, Profile

# (key, value the profile has) -> (rule, reason)
_PROFILE_RULES: dict[tuple[str, object], tuple[str, str]] = {
    ("persists_state", True): (
        "state-lost-after-reboot",
        "the target file says State and Update Result survive a power cut (persists_state = true): "
        "a complete package must come back Downloaded and the result keep its value",
    ),
    ("persists_state", False): (
        "state-kept-after-reboot",
        "the target file says nothing survives a power cut (persists_state = false): expected Idle / 0 after boot",
    ),
    ("resumes_download", True): (
        "download-not-resumed",
        "the target file says an interrupted pull download resumes (resumes_download = true): "
        "expected Downloading after boot, then Downloaded",
    ),
    ("resumes_download", False): (
        "download-resumed",
        "the target file says an interrupted download does not resume (resumes_download = false): expected Idle after boot",
    ),
    ("failure_returns_to", "idle"): (
        "failure-returned-to-downloaded",
        'the target file says a failed update returns to Idle (failure_returns_to = "idle")',
    ),
    ("failure_returns_to", "downloaded"): (
        "failure-returned-to-idle",
        'the target file says a failed update with result 8 returns to Downloaded (failure_returns_to = "downloaded")',
    ),
    ("reset_in_downloading", "honoured"): (
        "reset-ignored-in-downloading",
        'a reset (Package URI "" or Package NUL) in Downloading must give Idle / 0 '
        '(target file: reset_in_downloading = "honoured")',
    ),
    ("reset_in_downloading", "ignored"): (
        "reset-honoured-in-downloading",
        'the target file says a reset in Downloading is ignored (reset_in_downloading = "ignored")',
    ),
    ("invalid_uri", "direct"): (
        "invalid-uri-via-downloading",
        'the target file says an invalid URI gives Idle / 7 without Downloading (invalid_uri = "direct")',
    ),
    ("invalid_uri", "via-downloading"): (
        "invalid-uri-direct",
        'the target file says an invalid URI passes through Downloading (invalid_uri = "via-downloading")',
    ),
}


# Profile keys to try flipped, with the lost-result relaxation where it reads best: a
# download that did not resume is that, not a lost result; a lost result is that, not
# "nothing persists".
_FLIP_ORDER = ("resumes_download", RESULT_LOST, "persists_state", "failure_returns_to", "reset_in_downloading", "invalid_uri")
assert set(_FLIP_ORDER) == {*BEHAVIOUR_KEYS, RESULT_LOST}


def pairs_text(configs: frozenset[Config] | set[Config]) -> str:
    pairs = sorted({c.pair for c in configs})
    if not pairs:
        return "nothing"
    texts = [describe(s, r) for s, r in pairs]
    return texts[0] if len(texts) == 1 else "one of " + ", ".join(texts)


def _replay(snapshot: Walk, segment: Sequence[Item], obs: Observation, ctx: Context) -> bool:
    return match(_walk_to(snapshot, segment, ctx), obs, ctx) is not None


def _versions(segment: Sequence[Item]) -> str:
    versions = [i.version for i in segment if isinstance(i, Registration) and i.version]
    return versions[-1] if versions else "?"


def _fault(segment: Sequence[Item], snapshot: Walk) -> str:
    faults = [getattr(i, "fault", None) or getattr(i, "kind", None) for i in segment]
    faults = [f for f in faults if f in FAULTS]
    faults += sorted({c.fault for c in snapshot.configs if c.fault})
    return faults[-1] if faults else "?"


def _walk_to(snapshot: Walk, segment: Sequence[Item], ctx: Context) -> Walk:
    walk = replace(snapshot, configs=closure(snapshot.configs, ctx))
    for item in segment:
        walk, _ = step_cause(walk, item, ctx)  # type: ignore[arg-type]
    return walk


def _ignored_response(
    snapshot: Walk, segment: Sequence[Item], obs: Observation, ctx: Context
) -> tuple[str, str] | None:
    """A response in the segment that, had the device not given it, would explain the observation."""
    for k, cause in enumerate(segment):
        if getattr(cause, "code", None) is None:
            continue
        unanswered = [*segment[:k], replace(cause, code=None), *segment[k + 1:]]  # type: ignore[type-var]
        if not _replay(snapshot, unanswered, obs, ctx):
            continue
        before = _walk_to(snapshot, segment[:k], ctx).configs
        name = _CAUSE_NAMES.get(type(cause).__name__, "request")
        code = cause.code  # type: ignore[union-attr]
        if code_ok(code):
            return (
                f"{name}-accepted-without-effect",
                f"{cause.label()} was accepted while the device could be {pairs_text(before)}, "  # type: ignore[union-attr]
                "but the device did not act on it",
            )
        if isinstance(cause, (ExecuteUpdate, Cancel)):
            return diagnose_cause("code", cause, before, ctx, set())
        return (
            f"{name}-refused",
            f"{cause.label()} was refused while the device could be {pairs_text(before)}, "  # type: ignore[union-attr]
            "yet the device then behaved as if it had acted on it",
        )
    return None


_CAUSE_NAMES = {
    "ExecuteUpdate": "execute",
    "Cancel": "cancel",
    "WriteUri": "write-uri",
    "WritePackageReset": "reset",
    "PushCompleted": "push",
}


def diagnose_observation(
    snapshot: Walk, segment: Sequence[Item], obs: Observation, ctx: Context
) -> tuple[str, str, bool]:
    """(rule, reason, mention_execute) for an observation no legal path explains."""
    profile: Profile = ctx.profile

    def explained(flag: str) -> bool:
        return _replay(snapshot, segment, obs, replace(ctx, relax=frozenset({flag})))

    for key in _FLIP_ORDER:
        if key == RESULT_LOST:
            if explained(RESULT_LOST):
                return (
                    "result-lost-after-reboot",
                    "across a reboot Update Result keeps its value, and an update attempt must end with 1, 8 or 5",
                    False,
                )
            continue
        if key == "resumes_download" and not profile.persists_state:
            continue  # resuming needs persistence: that is the persists_state question
        if _replay(snapshot, segment, obs, replace(ctx, profile=profile.flipped(key))):
            rule, reason = _PROFILE_RULES[(key, getattr(profile, key))]
            return rule, reason, False

    success = obs.result == UpdateResult.SUCCESS
    if explained(IGNORE_VERSIONS):
        version = _versions(segment)
        if success:
            return (
                "result-1-old-firmware",
                f"the device registered running {version}, not the new firmware, so the update did not succeed "
                "(expected 8 or 5, never 1)",
                False,
            )
        return (
            "result-contradicts-firmware",
            f"the device registered running {version}, which contradicts this result "
            "(new firmware running needs 1; old firmware after Updating needs 8 or 5)",
            False,
        )
    if explained(IGNORE_FAULT):
        fault = _fault(segment, snapshot)
        if success:
            return "success-with-bad-package", f"the rig injected a {fault} fault, so the update cannot succeed", False
        if obs.state == State.DOWNLOADED:
            return (
                "downloaded-despite-fault",
                f"the rig injected a {fault} fault, so the package cannot be complete",
                False,
            )
        expected = ", ".join(str(r) for r in sorted(FAULTS[fault][0])) if fault in FAULTS else "?"
        return (
            "wrong-error-result",
            f"the rig injected a {fault} fault, which must give Update Result {expected}",
            False,
        )
    if explained(FREE_EXECUTE) or (success and explained(FREE_SUCCESS)):
        if success:
            return "result-1-without-execute", "success needs an Update to be executed in Downloaded", True
        return "update-without-execute", "Updating needs an Update to be executed in Downloaded", True
    if explained(PUSH_ANYTIME):
        return (
            "downloaded-before-push-complete",
            "a pushed package is only complete once its last block was acknowledged",
            False,
        )
    found = _ignored_response(snapshot, segment, obs, ctx)
    if found:
        return found[0], found[1], False
    if explained(KEEP_RESULT):
        return "result-not-reset", "Update Result must be reset to 0 when a download or an update starts", False
    if obs.state is not None and obs.result is not None and (obs.state, obs.result) not in legal_pairs(ctx.version):
        return (
            "impossible-combination",
            f"no legal transition leaves State {state_label(obs.state)} with Update Result {obs.result}",
            False,
        )
    if explained(ANY_RESULT):
        return "unexpected-result", "no legal transition gives this Update Result here", False
    if explained(FREE_DOWNLOAD):
        return "download-without-request", "a download only starts after a Package or Package URI write", False
    if explained(FREE_RESET):
        return (
            "state-lost",
            "the device went back to Idle / 0 with no reset, Cancel or power loss in between",
            False,
        )
    return "unreachable", "no sequence of legal transitions leads there", False


def diagnose_cause(
    kind: str, cause: Item, before: frozenset[Config], ctx: Context, known_targets: set[str]
) -> tuple[str, str]:
    """(rule, reason) for a response or registration impossible from every possible configuration."""
    now = pairs_text(before)
    if kind == "version":
        assert isinstance(cause, Registration)
        version = cause.version
        running = sorted({c.runs for c in before if c.runs})
        if version in known_targets:
            return (
                "new-firmware-without-success",
                f"it runs {version}, the version of the package the rig sent, while the device could only be {now}; "
                "the new firmware may only run after an update that reports 1",
            )
        if any(c.pair == (State.IDLE, UpdateResult.SUCCESS) for c in before):
            return (
                "reverted-after-success",
                f"it runs {version} after reporting success for {', '.join(running) or 'the new firmware'}; "
                "the new image did not stay (not confirmed?)",
            )
        return (
            "unexpected-firmware-version",
            f"it runs {version}, expected {' or '.join(running) or 'a known version'} (the device could be {now})",
        )
    if isinstance(cause, ExecuteUpdate):
        if code_ok(cause.code):
            return (
                "execute-accepted-outside-downloaded",
                f"answered {cause.code} while the device could only be {now}; "
                "Update is only executable in Downloaded and must answer 4.05 elsewhere",
            )
        return (
            "execute-refused-in-downloaded",
            f"answered {cause.code} while the device could only be {now}; Update must be executable in Downloaded",
        )
    if isinstance(cause, Cancel):
        if not ctx.v11:
            return (
                "cancel-not-in-1.0",
                f"answered {cause.code}, but object version 1.0 has no Cancel resource",
            )
        if code_ok(cause.code):
            return (
                "cancel-accepted-outside-download",
                f"answered {cause.code} while the device could only be {now}; "
                "Cancel is only allowed in Downloading or Downloaded and must answer 4.05 elsewhere",
            )
        return (
            "cancel-refused-in-download",
            f"answered {cause.code} while the device could only be {now}; "
            "Cancel must succeed before the update has started",
        )
    return "impossible-response", f"answered {getattr(cause, 'code', '?')} while the device could only be {now}"


#: Every rule id the oracle can report, with its meaning (stable: reports and CI link to them).
RULES: dict[str, str] = {
    "state-out-of-range": "State outside 0..3",
    "result-out-of-range": "Update Result outside 0..11",
    "result-not-in-1.0": "Update Result 10 or 11 from an object version 1.0 client",
    "lsct-not-in-1.0": "Last State Change Time from an object version 1.0 client",
    "last-state-change-time-backwards": "Last State Change Time decreased on a target that keeps real time",
    "download-not-resumed": "an interrupted pull download did not resume though the target file says it does",
    "download-resumed": "an interrupted download resumed though the target file says it does not",
    "result-lost-after-reboot": "Update Result changed across a reboot, or an update attempt ended with no 1/8/5",
    "state-lost-after-reboot": "State/package did not survive a power cut though the target file says it does",
    "state-kept-after-reboot": "State survived a power cut though the target file says nothing does",
    "failure-returned-to-downloaded": "failed update went to Downloaded; the target file says Idle",
    "failure-returned-to-idle": "failed update (8) went to Idle; the target file says Downloaded",
    "reset-ignored-in-downloading": "a reset in Downloading was ignored; the target file says it is honoured",
    "reset-honoured-in-downloading": "a reset in Downloading was honoured; the target file says ignored (rarely observable)",
    "invalid-uri-via-downloading": "an invalid URI went through Downloading; the target file says direct",
    "invalid-uri-direct": "an invalid URI went straight to Idle/7; the target file says via Downloading (not observable from samples)",
    "result-1-old-firmware": "success reported while the old firmware runs",
    "result-contradicts-firmware": "a failure result while the new firmware runs",
    "success-with-bad-package": "success with a package the rig made corrupt or of the wrong type",
    "downloaded-despite-fault": "Downloaded although the rig broke the download",
    "wrong-error-result": "a download the rig broke ended with the wrong Update Result",
    "result-1-without-execute": "success without an executed Update",
    "update-without-execute": "Updating without an executed Update",
    "downloaded-before-push-complete": "Downloaded before the pushed package's last block was acknowledged",
    "result-not-reset": "Update Result not reset to 0 when a download or update started",
    "impossible-combination": "a State / Update Result pair no transition produces",
    "unexpected-result": "an Update Result no transition gives at that point",
    "download-without-request": "Downloading/Downloaded without a Package or Package URI write",
    "state-lost": "back to Idle/0 without reset, Cancel or power loss",
    "unreachable": "no legal path explains the observation",
    "execute-accepted-outside-downloaded": "Execute Update answered 2.04 outside Downloaded (must be 4.05)",
    "execute-refused-in-downloaded": "Execute Update refused in Downloaded",
    "cancel-not-in-1.0": "Cancel accepted by an object version 1.0 client",
    "cancel-accepted-outside-download": "Cancel answered 2.04 outside Downloading/Downloaded (must be 4.05)",
    "cancel-refused-in-download": "Cancel refused in Downloading/Downloaded",
    "new-firmware-without-success": "the new firmware runs but Object 5 never reported success",
    "reverted-after-success": "the old firmware runs again after success was reported",
    "unexpected-firmware-version": "the device runs a version that is neither the old nor the new one",
    "impossible-response": "a response no possible configuration allows",
    **{f"{name}-accepted-without-effect": f"{name} answered 2.xx but the device did not act on it" for name in _CAUSE_NAMES.values()},
    **{f"{name}-refused": f"{name} refused, yet the device acted as if accepted" for name in _CAUSE_NAMES.values()},
}
