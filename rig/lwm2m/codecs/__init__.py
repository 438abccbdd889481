"""LwM2M content-format codecs: TLV, SenML JSON/CBOR, plain text, opaque, link format.

Everything is re-exported here. The names load on first use (PEP 562) because
rig.lwm2m.paths and rig.lwm2m.resource_types import CodecError from this
package, and an eager import would be circular.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rig.lwm2m.codecs.errors import CodecError

_EXPORTS = {
    "rig.lwm2m.codecs.formats": (
        "decode", "encode", "guess_order", "CF_TEXT", "CF_LINK", "CF_OPAQUE", "CF_SENML_JSON", "CF_SENML_CBOR",
        "CF_TLV", "CF_LEGACY_TLV", "CF_LWM2M_JSON",
    ),
    "rig.lwm2m.codecs.linkformat": (
        "Link", "ObjectInfo", "RegisteredObjects", "parse_links", "format_links", "parse_registration_links",
    ),
    "rig.lwm2m.codecs.values": ("Value",),
    "rig.lwm2m.codecs.senml": ("SenmlRecord",),
    "rig.lwm2m.codecs.senml_json": ("decode_senml_json_records",),
    "rig.lwm2m.codecs.senml_cbor": ("decode_senml_cbor_records",),
    "rig.lwm2m.paths": ("Path", "parse_path", "format_path"),
    "rig.lwm2m.resource_types": ("ResourceRegistry", "ResourceType", "ResourceDef"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = ["CodecError", *_WHERE]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors only
    from rig.lwm2m.codecs.formats import (CF_LEGACY_TLV, CF_LINK, CF_LWM2M_JSON, CF_OPAQUE, CF_SENML_CBOR,
                                          CF_SENML_JSON, CF_TEXT, CF_TLV, decode, encode, guess_order)
    from rig.lwm2m.codecs.linkformat import (Link, ObjectInfo, RegisteredObjects, format_links, parse_links,
                                             parse_registration_links)
    from rig.lwm2m.codecs.senml import SenmlRecord
    from rig.lwm2m.codecs.senml_cbor import decode_senml_cbor_records
    from rig.lwm2m.codecs.senml_json import decode_senml_json_records
    from rig.lwm2m.codecs.values import Value
    from rig.lwm2m.paths import Path, format_path, parse_path
    from rig.lwm2m.resource_types import ResourceDef, ResourceRegistry, ResourceType
