"""What the oracle reads: observations of /5/0 and the causes the rig itself produced.

The verdict layer turns a timeline into one ordered list of these items. Observations
are samples (a notification held back by pmin, a poll between two changes); causes
are the only things, apart from the device's own progress, that may move the state
machine. Times are seconds on the timeline's clock.

Response codes are "2.04"-style strings; an aiocoap Code (anything with `.dotted`) or
a raw CoAP code byte is accepted and normalised. None means "no answer seen" (timeout),
which the oracle treats as "the device may or may not have acted on it".

A cause may carry `t_done`, the time its response arrived. Observations listed after
the cause but made before `t_done` may show the device before or after it acted (a
notification and a response can cross), and the oracle accepts both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Union

from rig.errors import RigError
from rig.lwm2m.events import answered_ok

_CODE = re.compile(r"^[245]\.\d\d$")

URI_KINDS = ("unknown", "valid", "invalid", "unsupported")

#: Download faults the rig can inject, and the Update Results each may lead to.
#: `completes`: whether the package can still reach Downloaded (a corrupt or wrong-type
#: package may only be detected at Update, but then the update cannot succeed).
FAULTS: dict[str, tuple[frozenset[int], bool]] = {
    "connection-lost": (frozenset({4}), False),  # firmware server stops answering
    "not-found": (frozenset({4, 7}), False),  # firmware server answers 4.04
    "too-large": (frozenset({2}), False),  # package larger than the slot
    "out-of-ram": (frozenset({3}), False),
    "corrupt": (frozenset({5}), True),  # bytes changed: signature/hash check fails
    "unsupported-type": (frozenset({6}), True),  # not an image for this device
    "invalid-uri": (frozenset({7}), False),
    "unsupported-protocol": (frozenset({9}), False),
}
#: Faults after which an update can never succeed.
BAD_PACKAGE_FAULTS = frozenset({"corrupt", "unsupported-type"})


class OracleInputError(RigError):
    """The item list handed to the oracle is malformed (not a device bug)."""


def normalize_code(code: Any, where: str) -> str | None:
    """"2.04" for any spelling of a CoAP response code; None stays None (no answer)."""
    if code is None:
        return None
    if hasattr(code, "dotted"):
        code = code.dotted
    if isinstance(code, int) and not isinstance(code, bool):
        code = f"{code >> 5}.{code & 0x1F:02d}"
    if isinstance(code, str) and _CODE.match(code):
        return code
    raise OracleInputError(f"{where}: response code {code!r} is not a CoAP response code like \"2.04\"")


def _set_code(item: Any) -> None:
    object.__setattr__(item, "code", normalize_code(item.code, type(item).__name__))


def code_ok(code: str | None) -> bool:
    return answered_ok(code)


@dataclass(frozen=True)
class Observation:
    """A sample of /5/0: State and/or Update Result (None = not part of this sample)."""

    t: float
    state: int | None
    result: int | None
    last_state_change_time: float | None = None
    source: str = "notify"  # notify | read

    def __post_init__(self) -> None:
        if self.state is None and self.result is None:
            raise OracleInputError(f"Observation at t={self.t}: needs a State or an Update Result")
        if self.source not in ("notify", "read"):
            raise OracleInputError(f"Observation at t={self.t}: source {self.source!r} is not 'notify' or 'read'")


@dataclass(frozen=True)
class PushStarted:
    """The rig began a Block1 Write of a package to /5/0/0 (push). `version`: the image's version."""

    t: float
    version: str | None = None
    fault: str | None = None  # a FAULTS key the rig arranged for this package
    t_done: float | None = None

    def __post_init__(self) -> None:
        _check_fault(self.fault, "PushStarted")

    def label(self) -> str:
        return "push of the Package started" + (f" ({self.version})" if self.version else "")


@dataclass(frozen=True)
class PushCompleted:
    """The push ended: `code` is the answer to the last block (2.04 = whole package accepted)."""

    t: float
    code: str | None = "2.04"
    t_done: float | None = None

    def __post_init__(self) -> None:
        _set_code(self)

    def label(self) -> str:
        return f"push of the Package ended ({self.code or 'no answer'})"


@dataclass(frozen=True)
class WriteUri:
    """A Write of /5/0/1. uri "" is the reset. `kind` says what the rig knows about the URI:
    "valid" (served, supported scheme), "invalid" (malformed or no such resource),
    "unsupported" (a scheme the device does not support) or "unknown"."""

    t: float
    uri: str
    code: str | None = "2.04"
    kind: str = "unknown"
    version: str | None = None
    fault: str | None = None
    t_done: float | None = None

    def __post_init__(self) -> None:
        _set_code(self)
        if self.kind not in URI_KINDS:
            raise OracleInputError(f"WriteUri: kind {self.kind!r} is not one of {', '.join(URI_KINDS)}")
        _check_fault(self.fault, "WriteUri")

    def label(self) -> str:
        if not self.uri:
            return f'Package URI "" written ({self.code or "no answer"})'
        return f"Package URI {self.uri} written ({self.code or 'no answer'})"


@dataclass(frozen=True)
class _Answered:
    """A request of the rig's with no value but its answer (code None: none came, so it may or may not have acted)."""

    t: float
    code: str | None = "2.04"
    t_done: float | None = None
    WHAT: ClassVar[str] = ""

    def __post_init__(self) -> None:
        _set_code(self)

    def label(self) -> str:
        return f"{self.WHAT} ({self.code or 'no answer'})"


@dataclass(frozen=True)
class WritePackageReset(_Answered):
    """A Write of a single NUL byte to /5/0/0 (reset)."""

    WHAT: ClassVar[str] = "Package NUL written"


@dataclass(frozen=True)
class ExecuteUpdate(_Answered):
    """An Execute of /5/0/2 and its answer."""

    WHAT: ClassVar[str] = "Execute Update"


@dataclass(frozen=True)
class Cancel(_Answered):
    """An Execute of /5/0/10 (object version 1.1) and its answer."""

    WHAT: ClassVar[str] = "Cancel"


@dataclass(frozen=True)
class PowerCut:
    """The rig removed power. Observations until PowerOn can only be late samples of before."""

    t: float
    t_done: float | None = None

    def label(self) -> str:
        return "power cut"


@dataclass(frozen=True)
class PowerOn:
    """The rig restored power (also the first power-on of a run): the power-loss rules apply."""

    t: float
    t_done: float | None = None

    def label(self) -> str:
        return "power on"


@dataclass(frozen=True)
class Reboot:
    """A reboot the rig caused without a power cut (probe reset, /3/0/4): power-loss rules apply."""

    t: float
    reason: str = ""
    t_done: float | None = None

    def label(self) -> str:
        return "reboot" + (f" ({self.reason})" if self.reason else "")


@dataclass(frozen=True)
class Registration:
    """The device registered (`fresh`: a Register, not an Update) and runs `version` (/3/0/3).

    A fresh Register with no power event since the last one may be the device's own
    reboot, so the power-loss rules apply as a possibility.
    """

    t: float
    version: str | None = None
    fresh: bool = True
    t_done: float | None = None

    def label(self) -> str:
        what = "registration" if self.fresh else "registration update"
        return what + (f" running {self.version}" if self.version else "")


@dataclass(frozen=True)
class DownloadFault:
    """The rig broke the download in progress (e.g. stopped the firmware server): a FAULTS key."""

    t: float
    kind: str
    t_done: float | None = None

    def __post_init__(self) -> None:
        _check_fault(self.kind, "DownloadFault")

    def label(self) -> str:
        return f"download fault injected ({self.kind})"


def _check_fault(fault: str | None, where: str) -> None:
    if fault is not None and fault not in FAULTS:
        raise OracleInputError(f"{where}: fault {fault!r} is not one of {', '.join(FAULTS)}")


Cause = Union[
    PushStarted,
    PushCompleted,
    WriteUri,
    WritePackageReset,
    ExecuteUpdate,
    Cancel,
    PowerCut,
    PowerOn,
    Reboot,
    Registration,
    DownloadFault,
]
Item = Union[Observation, Cause]
CAUSE_TYPES = Cause.__args__  # type: ignore[attr-defined]
