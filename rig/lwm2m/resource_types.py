"""Resource types of the objects the rig talks about (0, 1, 3, 5).

TLV and plain text carry no type information, so the decoders need to know
that /5/0/3 is an integer and /5/0/8 a multiple-instance integer. The tables
are code (the OMA XML is not shipped with the package); the Object 5 table was
generated once from shared/oma/5-1_1.xml by `load_object_xml`, and a test
checks it against that file whenever the file is present.
"""

from __future__ import annotations

import enum
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Mapping

from rig.lwm2m.codecs.errors import CodecError


class ResourceType(enum.Enum):
    """LwM2M data types (OMA-TS-LightweightM2M-Core 1.1, appendix C)."""

    INTEGER = "integer"
    UNSIGNED = "unsigned"
    FLOAT = "float"
    BOOLEAN = "boolean"
    STRING = "string"
    OPAQUE = "opaque"
    TIME = "time"
    OBJLNK = "objlnk"
    CORELNK = "corelnk"
    NONE = "none"  # executable resources carry no value


@dataclass(frozen=True)
class ResourceDef:
    """What a decoder needs to know about one resource."""

    name: str
    type: ResourceType
    multiple: bool = False
    operations: str = ""


_XML_TYPES = {
    "integer": ResourceType.INTEGER,
    "unsigned integer": ResourceType.UNSIGNED,
    "float": ResourceType.FLOAT,
    "boolean": ResourceType.BOOLEAN,
    "string": ResourceType.STRING,
    "opaque": ResourceType.OPAQUE,
    "time": ResourceType.TIME,
    "objlnk": ResourceType.OBJLNK,
    "corelnk": ResourceType.CORELNK,
    "": ResourceType.NONE,
}

_I, _U, _F, _B, _S, _O, _T, _L, _C, _N = (
    ResourceType.INTEGER,
    ResourceType.UNSIGNED,
    ResourceType.FLOAT,
    ResourceType.BOOLEAN,
    ResourceType.STRING,
    ResourceType.OPAQUE,
    ResourceType.TIME,
    ResourceType.OBJLNK,
    ResourceType.CORELNK,
    ResourceType.NONE,
)

# Object 0 LWM2M Security 1.1.1 (OMA LWM2M_Security-v1_1_1.xml).
SECURITY_RESOURCES: Mapping[int, ResourceDef] = {
    0: ResourceDef("LWM2M Server URI", _S),
    1: ResourceDef("Bootstrap-Server", _B),
    2: ResourceDef("Security Mode", _I),
    3: ResourceDef("Public Key or Identity", _O),
    4: ResourceDef("Server Public Key", _O),
    5: ResourceDef("Secret Key", _O),
    6: ResourceDef("SMS Security Mode", _I),
    7: ResourceDef("SMS Binding Key Parameters", _O),
    8: ResourceDef("SMS Binding Secret Key(s)", _O),
    9: ResourceDef("LwM2M Server SMS Number", _S),
    10: ResourceDef("Short Server ID", _I),
    11: ResourceDef("Client Hold Off Time", _I),
    12: ResourceDef("Bootstrap-Server Account Timeout", _I),
    13: ResourceDef("Matching Type", _U),
    14: ResourceDef("SNI", _S),
    15: ResourceDef("Certificate Usage", _I),
    16: ResourceDef("DTLS/TLS Ciphersuite", _I, multiple=True),
    17: ResourceDef("OSCORE Security Mode", _L),
}

# Object 1 LwM2M Server 1.1.
SERVER_RESOURCES: Mapping[int, ResourceDef] = {
    0: ResourceDef("Short Server ID", _I, operations="R"),
    1: ResourceDef("Lifetime", _I, operations="RW"),
    2: ResourceDef("Default Minimum Period", _I, operations="RW"),
    3: ResourceDef("Default Maximum Period", _I, operations="RW"),
    4: ResourceDef("Disable", _N, operations="E"),
    5: ResourceDef("Disable Timeout", _I, operations="RW"),
    6: ResourceDef("Notification Storing When Disabled or Offline", _B, operations="RW"),
    7: ResourceDef("Binding", _S, operations="RW"),
    8: ResourceDef("Registration Update Trigger", _N, operations="E"),
    9: ResourceDef("Bootstrap-Request Trigger", _N, operations="E"),
    10: ResourceDef("APN Link", _L, operations="RW"),
    11: ResourceDef("TLS-DTLS Alert Code", _U, operations="R"),
    12: ResourceDef("Last Bootstrapped", _T, operations="R"),
    13: ResourceDef("Registration Priority Order", _U, operations="RW"),
    14: ResourceDef("Initial Registration Delay Timer", _U, operations="RW"),
    15: ResourceDef("Registration Failure Block", _B, operations="RW"),
    16: ResourceDef("Bootstrap on Registration Failure", _B, operations="RW"),
    17: ResourceDef("Communication Retry Count", _U, operations="RW"),
    18: ResourceDef("Communication Retry Timer", _U, operations="RW"),
    19: ResourceDef("Communication Sequence Delay Timer", _U, operations="RW"),
    20: ResourceDef("Communication Sequence Retry Count", _U, operations="RW"),
    21: ResourceDef("Trigger", _B, operations="RW"),
    22: ResourceDef("Preferred Transport", _S, operations="RW"),
    23: ResourceDef("Mute Send", _B, operations="RW"),
}

# Object 3 Device 1.1.
DEVICE_RESOURCES: Mapping[int, ResourceDef] = {
    0: ResourceDef("Manufacturer", _S, operations="R"),
    1: ResourceDef("Model Number", _S, operations="R"),
    2: ResourceDef("Serial Number", _S, operations="R"),
    3: ResourceDef("Firmware Version", _S, operations="R"),
    4: ResourceDef("Reboot", _N, operations="E"),
    5: ResourceDef("Factory Reset", _N, operations="E"),
    6: ResourceDef("Available Power Sources", _I, multiple=True, operations="R"),
    7: ResourceDef("Power Source Voltage", _I, multiple=True, operations="R"),
    8: ResourceDef("Power Source Current", _I, multiple=True, operations="R"),
    9: ResourceDef("Battery Level", _I, operations="R"),
    10: ResourceDef("Memory Free", _I, operations="R"),
    11: ResourceDef("Error Code", _I, multiple=True, operations="R"),
    12: ResourceDef("Reset Error Code", _N, operations="E"),
    13: ResourceDef("Current Time", _T, operations="RW"),
    14: ResourceDef("UTC Offset", _S, operations="RW"),
    15: ResourceDef("Timezone", _S, operations="RW"),
    16: ResourceDef("Supported Binding and Modes", _S, operations="R"),
    17: ResourceDef("Device Type", _S, operations="R"),
    18: ResourceDef("Hardware Version", _S, operations="R"),
    19: ResourceDef("Software Version", _S, operations="R"),
    20: ResourceDef("Battery Status", _I, operations="R"),
    21: ResourceDef("Memory Total", _I, operations="R"),
    22: ResourceDef("ExtDevInfo", _L, multiple=True, operations="R"),
}

# Object 5 Firmware Update 1.1, generated from shared/oma/5-1_1.xml with load_object_xml.
FIRMWARE_UPDATE_RESOURCES: Mapping[int, ResourceDef] = {
    0: ResourceDef('Package', _O, operations='W'),
    1: ResourceDef('Package URI', _S, operations='RW'),
    2: ResourceDef('Update', _N, operations='E'),
    3: ResourceDef('State', _I, operations='R'),
    5: ResourceDef('Update Result', _I, operations='R'),
    6: ResourceDef('PkgName', _S, operations='R'),
    7: ResourceDef('PkgVersion', _S, operations='R'),
    8: ResourceDef('Firmware Update Protocol Support', _I, multiple=True, operations='R'),
    9: ResourceDef('Firmware Update Delivery Method', _I, operations='R'),
    10: ResourceDef('Cancel', _N, operations='E'),
    11: ResourceDef('Severity', _I, operations='RW'),
    12: ResourceDef('Last State Change Time', _T, operations='R'),
    13: ResourceDef('Maximum Defer Period', _U, operations='RW'),
}


@dataclass(frozen=True)
class ResourceRegistry:
    """Maps (object, resource) to its definition; unknown resources give None.

    Immutable so one instance can be shared by every codec call; extend with
    `with_object` for objects a target adds (e.g. a vendor object).
    """

    objects: Mapping[int, Mapping[int, ResourceDef]] = field(
        default_factory=lambda: {
            0: SECURITY_RESOURCES,
            1: SERVER_RESOURCES,
            3: DEVICE_RESOURCES,
            5: FIRMWARE_UPDATE_RESOURCES,
        }
    )

    def lookup(self, object_id: int, resource_id: int) -> ResourceDef | None:
        return self.objects.get(object_id, {}).get(resource_id)

    def type_of(self, path: tuple[int, ...]) -> ResourceType | None:
        """Type of the resource a (resource or resource-instance) path names, None when unknown."""
        if len(path) < 3:
            return None
        found = self.lookup(path[0], path[2])
        return found.type if found else None

    def is_multiple(self, path: tuple[int, ...]) -> bool | None:
        """Multiple-instance flag of the resource, None when unknown."""
        if len(path) < 3:
            return None
        found = self.lookup(path[0], path[2])
        return found.multiple if found else None

    def with_object(self, object_id: int, resources: Mapping[int, ResourceDef]) -> "ResourceRegistry":
        merged = dict(self.objects)
        merged[object_id] = resources
        return ResourceRegistry(objects=merged)


def load_object_xml(path: FsPath) -> tuple[int, dict[int, ResourceDef]]:
    """Read an OMA object definition XML into (object id, resource table).

    Used to generate and to check the tables above, and to add a target's own
    objects at run time. Errors name the file and the element.
    """
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise CodecError(f"{path}: cannot read object XML: {exc}") from exc
    obj = root.find("Object")
    if obj is None:
        raise CodecError(f"{path}: no <Object> element")
    try:
        object_id = int((obj.findtext("ObjectID") or "").strip())
    except ValueError as exc:
        raise CodecError(f"{path}: <ObjectID> is not a number") from exc
    table: dict[int, ResourceDef] = {}
    for item in obj.iterfind("Resources/Item"):
        rid_text = item.get("ID", "")
        type_text = (item.findtext("Type") or "").strip().lower()
        if not rid_text.isdigit() or type_text not in _XML_TYPES:
            raise CodecError(f"{path}: resource Item ID={rid_text!r} has unknown type {type_text!r}")
        table[int(rid_text)] = ResourceDef(
            name=(item.findtext("Name") or "").strip(),
            type=_XML_TYPES[type_text],
            multiple=(item.findtext("MultipleInstances") or "").strip() == "Multiple",
            operations=(item.findtext("Operations") or "").strip(),
        )
    return object_id, table
