"""The value model shared by every codec, and the type checks that keep it honest.

Decoders return plain Python values (int, float, bool, str, bytes, and
(object, instance) tuples for object links) so the oracle and the reports never
need to know which content format a client chose.
"""

from __future__ import annotations

import math
import re

from rig.lwm2m.codecs.errors import CodecError
from rig.lwm2m.paths import Path, format_path
from rig.lwm2m.resource_types import ResourceType

Value = int | float | bool | str | bytes | tuple
"""A resource (instance) value; tuple means an object link (object id, instance id)."""

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1
_OBJLNK_RE = re.compile(r"^([0-9]{1,5}):([0-9]{1,5})$")


def where(path: Path) -> str:
    return format_path(path) if path else "/"


def objlnk_from_text(text: str, path: Path) -> tuple[int, int]:
    """Parse the "3:0" form used by plain text and SenML vlo."""
    match = _OBJLNK_RE.match(text)
    if not match:
        raise CodecError(f"{where(path)}: object link {text!r} is not 'object:instance'")
    link = (int(match.group(1)), int(match.group(2)))
    if link[0] > 0xFFFF or link[1] > 0xFFFF:
        raise CodecError(f"{where(path)}: object link {text!r} has an id above 65535")
    return link


def objlnk_to_text(link: tuple) -> str:
    return f"{link[0]}:{link[1]}"


def check_objlnk(value: object, path: Path) -> tuple[int, int]:
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i <= 0xFFFF for i in value)
    ):
        return (value[0], value[1])
    raise CodecError(f"{where(path)}: object link must be (object, instance) with ids 0..65535, got {value!r}")


def from_number(number: object, rtype: ResourceType | None, path: Path) -> Value:
    """Convert a SenML "v" number to the resource's type (integers stay exact)."""
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        raise CodecError(f"{where(path)}: expected a number, got {type(number).__name__}")
    if rtype in (ResourceType.INTEGER, ResourceType.TIME, ResourceType.UNSIGNED):
        if isinstance(number, float):
            if not math.isfinite(number) or not number.is_integer():
                raise CodecError(f"{where(path)}: {rtype.value} resource got non-integral number {number!r}")
            number = int(number)
        low = 0 if rtype is ResourceType.UNSIGNED else INT64_MIN
        high = UINT64_MAX if rtype is ResourceType.UNSIGNED else INT64_MAX
        if not low <= number <= high:
            raise CodecError(f"{where(path)}: {number} out of range for a {rtype.value} resource")
        return number
    if rtype is ResourceType.FLOAT:
        try:
            return float(number)
        except OverflowError as exc:
            raise CodecError(f"{where(path)}: {number} does not fit a float") from exc
    if rtype is None:
        return number
    raise CodecError(f"{where(path)}: {rtype.value} resource got a number ({number!r})")


def check_value(value: object, rtype: ResourceType | None, path: Path) -> Value:
    """Validate a value an encoder was given against the resource's registered type.

    Encoders refuse a mismatch (a string for an integer resource) rather than
    sending a payload the client would reject with a confusing 4.00.
    """
    if rtype is None:
        if isinstance(value, tuple):
            return check_objlnk(value, path)
        if isinstance(value, (bool, int, float, str, bytes)):
            if isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= UINT64_MAX:
                raise CodecError(f"{where(path)}: integer {value} does not fit 64 bits")
            return value
        raise CodecError(f"{where(path)}: unsupported value type {type(value).__name__}")
    if rtype in (ResourceType.INTEGER, ResourceType.TIME, ResourceType.UNSIGNED, ResourceType.FLOAT):
        return from_number(value, rtype, path)
    if rtype is ResourceType.BOOLEAN and isinstance(value, bool):
        return value
    if rtype in (ResourceType.STRING, ResourceType.CORELNK) and isinstance(value, str):
        return value
    if rtype is ResourceType.OPAQUE and isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if rtype is ResourceType.OBJLNK:
        return check_objlnk(value, path)
    raise CodecError(f"{where(path)}: {rtype.value} resource cannot hold {type(value).__name__} {value!r:.40}")
