"""LwM2M Object 5 (Firmware Update) vocabulary: resource ids, enums, and what exists in 1.0 vs 1.1.

Everything that talks about Object 5 (server calls, the oracle, reports, the virtual
client) names resources and values through this module, so a number on the wire
and a word in a report can never drift apart. Source: /work/shared/oma/5-1_0.xml and
5-1_1.xml (the XML wins over any summary).
"""

from __future__ import annotations

from enum import IntEnum
from urllib.parse import urlsplit

from rig.errors import RigError

OBJECT_ID = 5
OBJECT_VERSIONS = ("1.0", "1.1")


class Object5Error(RigError):
    """A value that is not part of Object 5 (bad version string, unknown resource)."""


class Resource(IntEnum):
    """Resource ids of /5/0 (4 was removed before 1.0 and does not exist)."""

    PACKAGE = 0
    PACKAGE_URI = 1
    UPDATE = 2
    STATE = 3
    UPDATE_RESULT = 5
    PKG_NAME = 6
    PKG_VERSION = 7
    PROTOCOL_SUPPORT = 8
    DELIVERY_METHOD = 9
    CANCEL = 10
    SEVERITY = 11
    LAST_STATE_CHANGE_TIME = 12
    MAXIMUM_DEFER_PERIOD = 13

    @property
    def label(self) -> str:
        return _RESOURCE_LABELS[self]


_RESOURCE_LABELS = {
    Resource.PACKAGE: "Package",
    Resource.PACKAGE_URI: "Package URI",
    Resource.UPDATE: "Update",
    Resource.STATE: "State",
    Resource.UPDATE_RESULT: "Update Result",
    Resource.PKG_NAME: "PkgName",
    Resource.PKG_VERSION: "PkgVersion",
    Resource.PROTOCOL_SUPPORT: "Firmware Update Protocol Support",
    Resource.DELIVERY_METHOD: "Firmware Update Delivery Method",
    Resource.CANCEL: "Cancel",
    Resource.SEVERITY: "Severity",
    Resource.LAST_STATE_CHANGE_TIME: "Last State Change Time",
    Resource.MAXIMUM_DEFER_PERIOD: "Maximum Defer Period",
}


class State(IntEnum):
    """/5/0/3."""

    IDLE = 0
    DOWNLOADING = 1
    DOWNLOADED = 2
    UPDATING = 3

    @property
    def label(self) -> str:
        return self.name.capitalize()


class UpdateResult(IntEnum):
    """/5/0/5 (10 and 11 only in object version 1.1)."""

    INITIAL = 0
    SUCCESS = 1
    NOT_ENOUGH_FLASH = 2
    OUT_OF_RAM = 3
    CONNECTION_LOST = 4
    INTEGRITY_FAILURE = 5
    UNSUPPORTED_PACKAGE_TYPE = 6
    INVALID_URI = 7
    UPDATE_FAILED = 8
    UNSUPPORTED_PROTOCOL = 9
    CANCELLED = 10
    DEFERRED = 11

    @property
    def label(self) -> str:
        return _RESULT_LABELS[self]


_RESULT_LABELS = {
    UpdateResult.INITIAL: "initial",
    UpdateResult.SUCCESS: "success",
    UpdateResult.NOT_ENOUGH_FLASH: "not enough flash",
    UpdateResult.OUT_OF_RAM: "out of RAM",
    UpdateResult.CONNECTION_LOST: "connection lost",
    UpdateResult.INTEGRITY_FAILURE: "integrity check failure",
    UpdateResult.UNSUPPORTED_PACKAGE_TYPE: "unsupported package type",
    UpdateResult.INVALID_URI: "invalid URI",
    UpdateResult.UPDATE_FAILED: "update failed",
    UpdateResult.UNSUPPORTED_PROTOCOL: "unsupported protocol",
    UpdateResult.CANCELLED: "cancelled",
    UpdateResult.DEFERRED: "deferred",
}

#: The one table of names by number: State -> "Idle" ..., Update Result -> "integrity check failure" ...
STATE_NAMES: dict[int, str] = {int(s): s.label for s in State}
RESULT_NAMES: dict[int, str] = {int(r): r.label for r in UpdateResult}

#: Results a failed download may end with (Downloading -> Idle).
DOWNLOAD_ERRORS = frozenset(
    {
        UpdateResult.NOT_ENOUGH_FLASH,
        UpdateResult.OUT_OF_RAM,
        UpdateResult.CONNECTION_LOST,
        UpdateResult.INTEGRITY_FAILURE,
        UpdateResult.UNSUPPORTED_PACKAGE_TYPE,
        UpdateResult.INVALID_URI,
        UpdateResult.UNSUPPORTED_PROTOCOL,
    }
)


class ProtocolSupport(IntEnum):
    """/5/0/8 values (multiple instances)."""

    COAP = 0
    COAPS = 1
    HTTP = 2
    HTTPS = 3
    COAP_TCP = 4
    COAP_TLS = 5

    @property
    def scheme(self) -> str:
        return _SCHEMES[self]


_SCHEMES = {
    ProtocolSupport.COAP: "coap",
    ProtocolSupport.COAPS: "coaps",
    ProtocolSupport.HTTP: "http",
    ProtocolSupport.HTTPS: "https",
    ProtocolSupport.COAP_TCP: "coap+tcp",
    ProtocolSupport.COAP_TLS: "coaps+tcp",
}


class DeliveryMethod(IntEnum):
    """/5/0/9."""

    PULL = 0
    PUSH = 1
    BOTH = 2

    def allows(self, pull: bool) -> bool:
        """Whether a pull (Package URI) or push (Package) delivery is offered by this method."""
        return self is DeliveryMethod.BOTH or (self is DeliveryMethod.PULL) == pull


class Severity(IntEnum):
    """/5/0/11 (1.1); default 1."""

    CRITICAL = 0
    MANDATORY = 1
    OPTIONAL = 2


_V10_RESOURCES = frozenset(r for r in Resource if r <= Resource.DELIVERY_METHOD)
_V10_RESULTS = frozenset(r for r in UpdateResult if r <= UpdateResult.UNSUPPORTED_PROTOCOL)


def parse_object_version(text: str | None, source: str = "registration") -> str:
    """Normalise the `ver` of `</5>` ("1.0" when absent, as LwM2M says) and reject unknown versions.

    `source` names where the text came from, for the error message.
    """
    if text is None or text == "":
        return "1.0"
    value = str(text).strip()
    if value not in OBJECT_VERSIONS:
        raise Object5Error(
            f"{source}: Object 5 version {text!r} is not known; expected one of {', '.join(OBJECT_VERSIONS)}"
        )
    return value


def resources(version: str) -> frozenset[Resource]:
    """Resource ids that exist in this object version (10..13 are 1.1 only)."""
    version = parse_object_version(version, "object version")
    return _V10_RESOURCES if version == "1.0" else frozenset(Resource)


def update_results(version: str) -> frozenset[UpdateResult]:
    """Update Result values that exist in this object version (10 and 11 are 1.1 only)."""
    version = parse_object_version(version, "object version")
    return _V10_RESULTS if version == "1.0" else frozenset(UpdateResult)


def state_label(state: int | None) -> str:
    if state is None:
        return "?"
    try:
        return State(state).label
    except ValueError:
        return f"state {state} (undefined)"


def result_label(result: int | None) -> str:
    if result is None:
        return "?"
    try:
        return f"{result} {UpdateResult(result).label}"
    except ValueError:
        return f"{result} (undefined)"


def describe(state: int | None, result: int | None) -> str:
    """Human text for a (State, Update Result) pair: describe(1, 0) -> "Downloading / 0 initial".

    None stands for a value that was not read ("?").
    """
    return f"{state_label(state)} / {result_label(result)}"


def path(resource: int, instance: int = 0) -> str:
    """The LwM2M path of a resource of /5/<instance>, e.g. "/5/0/3"."""
    return f"/{OBJECT_ID}/{instance}/{int(resource)}"


# The paths of /5/0 the rig reads, writes, observes and executes (a timeline event's "path").
PACKAGE_PATH, PACKAGE_URI_PATH, UPDATE_PATH = path(Resource.PACKAGE), path(Resource.PACKAGE_URI), path(Resource.UPDATE)
STATE_PATH, RESULT_PATH, CANCEL_PATH = path(Resource.STATE), path(Resource.UPDATE_RESULT), path(Resource.CANCEL)
PKG_VERSION_PATH = path(Resource.PKG_VERSION)
PROTOCOL_SUPPORT_PATH, DELIVERY_METHOD_PATH = path(Resource.PROTOCOL_SUPPORT), path(Resource.DELIVERY_METHOD)
SEVERITY_PATH, LSCT_PATH = path(Resource.SEVERITY), path(Resource.LAST_STATE_CHANGE_TIME)
PERIOD_PATH = path(Resource.MAXIMUM_DEFER_PERIOD)


def protocol_for_uri(uri: str) -> ProtocolSupport | None:
    """Which Protocol Support value a Package URI needs (None: a scheme Object 5 does not define)."""
    scheme = urlsplit(uri).scheme.lower()
    for protocol, name in _SCHEMES.items():
        if name == scheme:
            return protocol
    return None
