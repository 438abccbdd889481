"""Plain text (content format 0) and opaque (42): one resource (instance) per payload.

Text carries no type, so the registry decides how "1" is read (integer 1,
boolean true, or the string "1"). Opaque in text is base64 (LwM2M 1.1 C.1),
which is how Leshan and Anjay send it.
"""

from __future__ import annotations

import base64
import binascii
import math
import re

from rig.lwm2m.codecs.errors import CodecError
from rig.lwm2m.codecs.values import (INT64_MAX, INT64_MIN, UINT64_MAX, Value, check_value, objlnk_from_text,
                                     objlnk_to_text, where)
from rig.lwm2m.paths import Path, check_path
from rig.lwm2m.resource_types import ResourceRegistry, ResourceType

_INT_RE = re.compile(r"^[+-]?[0-9]{1,20}$")
_FLOAT_RE = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,4})?$")


def _single(values: dict[Path, Value], base: Path, name: str) -> Value:
    check_path(base)
    if len(base) < 3:
        raise CodecError(f"{name} carries one resource (instance); {where(base)} is not one")
    if set(values) != {base}:
        raise CodecError(f"{name} carries exactly the value of {where(base)}, got paths {sorted(values)!r:.80}")
    return values[base]


def _require_single_path(base: Path, name: str, registry: ResourceRegistry) -> None:
    check_path(base)
    if len(base) < 3:
        raise CodecError(f"{name} payload for {where(base)}: only a resource or resource instance can be plain")
    if len(base) == 3 and registry.is_multiple(base):
        raise CodecError(f"{name} payload for {where(base)}: multiple-instance resource needs TLV or SenML")


def decode_text(payload: bytes, base: Path, registry: ResourceRegistry) -> dict[Path, Value]:
    _require_single_path(base, "text", registry)
    try:
        text = bytes(payload).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CodecError(f"text payload for {where(base)} is not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    return {base: text_to_value(text, registry.type_of(base), base)}


def text_to_value(text: str, rtype: ResourceType | None, path: Path) -> Value:
    """Parse one plain-text value; unknown resources stay strings."""
    if rtype in (ResourceType.INTEGER, ResourceType.TIME, ResourceType.UNSIGNED):
        if not _INT_RE.match(text):
            raise CodecError(f"{where(path)}: {rtype.value} text {text!r:.40} is not a decimal integer")
        value = int(text)
        low, high = (0, UINT64_MAX) if rtype is ResourceType.UNSIGNED else (INT64_MIN, INT64_MAX)
        if not low <= value <= high:
            raise CodecError(f"{where(path)}: {value} out of range for a {rtype.value} resource")
        return value
    if rtype is ResourceType.FLOAT:
        if not _FLOAT_RE.match(text):
            raise CodecError(f"{where(path)}: float text {text!r:.40} is not a decimal number")
        value = float(text)
        if not math.isfinite(value):
            raise CodecError(f"{where(path)}: float text {text!r:.40} overflows")
        return value
    if rtype is ResourceType.BOOLEAN:
        if text not in ("0", "1"):
            raise CodecError(f"{where(path)}: boolean text must be '0' or '1', got {text!r:.40}")
        return text == "1"
    if rtype is ResourceType.OBJLNK:
        return objlnk_from_text(text, path)
    if rtype is ResourceType.OPAQUE:
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CodecError(f"{where(path)}: opaque text is not base64 ({exc})") from exc
    if rtype is ResourceType.NONE:
        raise CodecError(f"{where(path)}: executable resource has no value")
    return text


def value_to_text(value: Value, rtype: ResourceType | None, path: Path) -> str:
    value = check_value(value, rtype, path)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CodecError(f"{where(path)}: {value} has no plain-text form")
        return repr(value)
    if isinstance(value, tuple):
        return objlnk_to_text(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def encode_text(values: dict[Path, Value], base: Path, registry: ResourceRegistry) -> bytes:
    value = _single(values, base, "text")
    return value_to_text(value, registry.type_of(base), base).encode("utf-8")


def decode_opaque(payload: bytes, base: Path, registry: ResourceRegistry) -> dict[Path, Value]:
    _require_single_path(base, "opaque", registry)
    return {base: bytes(payload)}


def encode_opaque(values: dict[Path, Value], base: Path, registry: ResourceRegistry) -> bytes:
    value = _single(values, base, "opaque")
    if not isinstance(value, (bytes, bytearray)):
        raise CodecError(f"{where(base)}: opaque content format needs bytes, got {type(value).__name__}")
    return bytes(value)
