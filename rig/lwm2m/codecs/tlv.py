"""OMA TLV (content format 11542), OMA-TS-LightweightM2M-Core 1.1 section 7.4.3.

TLV carries no types, so values are converted through the resource registry
(unknown resources stay bytes). The byte layer (`parse_tlv`, `build_tlv`) is
separate from the path layer (`decode_tlv`, `encode_tlv`) so tests can check
the spec's byte examples against either.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from rig.lwm2m.codecs.errors import CodecError
from rig.lwm2m.codecs.values import INT64_MAX, Value, check_value, where
from rig.lwm2m.paths import Path, check_path, is_under
from rig.lwm2m.resource_types import ResourceRegistry, ResourceType

MAX_LENGTH = 0xFFFFFF  # 24-bit length field


class TlvKind(enum.IntEnum):
    """Bits 7-6 of the type byte."""

    OBJECT_INSTANCE = 0
    RESOURCE_INSTANCE = 1
    MULTIPLE_RESOURCE = 2
    RESOURCE_VALUE = 3


# Which kinds may appear inside which: this also bounds nesting to three levels.
_ALLOWED_CHILDREN = {
    None: frozenset(TlvKind),
    TlvKind.OBJECT_INSTANCE: frozenset({TlvKind.MULTIPLE_RESOURCE, TlvKind.RESOURCE_VALUE}),
    TlvKind.MULTIPLE_RESOURCE: frozenset({TlvKind.RESOURCE_INSTANCE}),
}
# Index in the path that an entry's id fills.
_LEVEL = {
    TlvKind.OBJECT_INSTANCE: 1,
    TlvKind.MULTIPLE_RESOURCE: 2,
    TlvKind.RESOURCE_VALUE: 2,
    TlvKind.RESOURCE_INSTANCE: 3,
}


@dataclass(frozen=True)
class TlvEntry:
    """One TLV: `value` for resource (instance) values, `children` for the two container kinds."""

    kind: TlvKind
    id: int
    value: bytes = b""
    children: tuple["TlvEntry", ...] = ()


def parse_tlv(data: bytes, parent: TlvKind | None = None, offset: int = 0) -> list[TlvEntry]:
    """Split bytes into TLV entries, recursing into containers; offsets in errors are absolute."""
    entries: list[TlvEntry] = []
    pos = 0
    while pos < len(data):
        start = pos
        type_byte = data[pos]
        pos += 1
        kind = TlvKind(type_byte >> 6)
        if kind not in _ALLOWED_CHILDREN[parent]:
            inside = "top level" if parent is None else parent.name.lower().replace("_", " ")
            raise CodecError(f"TLV at byte {offset + start}: {kind.name.lower().replace('_', ' ')} not allowed in {inside}")
        id_len = 2 if type_byte & 0x20 else 1
        length_type = (type_byte >> 3) & 0x03
        header_end = pos + id_len + length_type
        if header_end > len(data):
            raise CodecError(f"TLV at byte {offset + start}: header truncated ({len(data) - start} bytes left)")
        ident = int.from_bytes(data[pos : pos + id_len], "big")
        pos += id_len
        if length_type == 0:
            length = type_byte & 0x07
        else:
            length = int.from_bytes(data[pos : pos + length_type], "big")
            pos += length_type
        if pos + length > len(data):
            raise CodecError(
                f"TLV at byte {offset + start}: length {length} overruns the payload ({len(data) - pos} bytes left)"
            )
        body = data[pos : pos + length]
        if kind in (TlvKind.OBJECT_INSTANCE, TlvKind.MULTIPLE_RESOURCE):
            entries.append(TlvEntry(kind, ident, children=tuple(parse_tlv(body, kind, offset + pos))))
        else:
            entries.append(TlvEntry(kind, ident, value=bytes(body)))
        pos += length
    return entries


def build_tlv(entries: list[TlvEntry] | tuple[TlvEntry, ...]) -> bytes:
    """Serialise entries with the smallest id and length fields (as the spec's examples do)."""
    out = bytearray()
    for entry in entries:
        body = build_tlv(entry.children) if entry.kind in (TlvKind.OBJECT_INSTANCE, TlvKind.MULTIPLE_RESOURCE) else entry.value
        if not 0 <= entry.id <= 0xFFFF:
            raise CodecError(f"TLV id {entry.id} does not fit 16 bits")
        if len(body) > MAX_LENGTH:
            raise CodecError(f"TLV id {entry.id}: value of {len(body)} bytes exceeds the 24-bit length field")
        type_byte = entry.kind << 6
        id_bytes = entry.id.to_bytes(1, "big") if entry.id <= 0xFF else entry.id.to_bytes(2, "big")
        if entry.id > 0xFF:
            type_byte |= 0x20
        if len(body) <= 7:
            type_byte |= len(body)
            len_bytes = b""
        else:
            width = 1 if len(body) <= 0xFF else 2 if len(body) <= 0xFFFF else 3
            type_byte |= width << 3
            len_bytes = len(body).to_bytes(width, "big")
        out += bytes([type_byte]) + id_bytes + len_bytes + body
    return bytes(out)


def value_from_tlv(raw: bytes, rtype: ResourceType | None, path: Path) -> Value:
    """Interpret a TLV value by the resource's type (section 7.4.3 / appendix C sizes)."""
    n = len(raw)
    if rtype in (ResourceType.INTEGER, ResourceType.TIME, ResourceType.UNSIGNED):
        if n not in (1, 2, 4, 8):
            raise CodecError(f"{where(path)}: {rtype.value} TLV value has {n} bytes (1, 2, 4 or 8 allowed)")
        return int.from_bytes(raw, "big", signed=rtype is not ResourceType.UNSIGNED)
    if rtype is ResourceType.FLOAT:
        if n == 4:
            return struct.unpack(">f", raw)[0]
        if n == 8:
            return struct.unpack(">d", raw)[0]
        raise CodecError(f"{where(path)}: float TLV value has {n} bytes (4 or 8 allowed)")
    if rtype is ResourceType.BOOLEAN:
        if n != 1 or raw[0] > 1:
            raise CodecError(f"{where(path)}: boolean TLV value must be one byte 0 or 1, got {raw.hex()!r}")
        return raw[0] == 1
    if rtype in (ResourceType.STRING, ResourceType.CORELNK):
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CodecError(f"{where(path)}: string TLV value is not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    if rtype is ResourceType.OBJLNK:
        if n != 4:
            raise CodecError(f"{where(path)}: objlnk TLV value has {n} bytes (4 required)")
        return (int.from_bytes(raw[:2], "big"), int.from_bytes(raw[2:], "big"))
    return bytes(raw)  # opaque, executable, or a resource the registry does not know


def value_to_tlv(value: Value, rtype: ResourceType | None, path: Path) -> bytes:
    """Encode one value; integers use the smallest of 1/2/4/8 bytes, floats 8 bytes."""
    value = check_value(value, rtype, path)
    if isinstance(value, bool):
        return b"\x01" if value else b"\x00"
    if isinstance(value, int):
        unsigned = rtype is ResourceType.UNSIGNED or (rtype is None and value > INT64_MAX)
        for width in (1, 2, 4, 8):
            try:
                return value.to_bytes(width, "big", signed=not unsigned)
            except OverflowError:
                continue
        raise CodecError(f"{where(path)}: integer {value} does not fit 8 bytes")
    if isinstance(value, float):
        return struct.pack(">d", value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, tuple):
        return value[0].to_bytes(2, "big") + value[1].to_bytes(2, "big")
    return bytes(value)


def decode_tlv(payload: bytes, base: Path, registry: ResourceRegistry) -> dict[Path, Value]:
    """Decode a TLV answer to a request on `base` into {resource (instance) path: value}.

    Ids the request path already fixes may be repeated by the client (an object
    instance TLV around a resource, as Leshan and some clients send) but must
    agree with it; ids it does not fix must come from the TLVs.
    """
    check_path(base)
    result: dict[Path, Value] = {}
    _walk(parse_tlv(bytes(payload)), (), base, registry, result, set())
    return result


def _walk(entries: list[TlvEntry] | tuple[TlvEntry, ...], parent: Path, base: Path,
          registry: ResourceRegistry, out: dict[Path, Value], seen: set[Path]) -> None:
    for entry in entries:
        level = _LEVEL[entry.kind]
        here = parent
        if len(here) < level:
            if len(base) < level:
                missing = "object" if level == 1 else "instance" if level == 2 else "resource"
                raise CodecError(
                    f"TLV {entry.kind.name.lower()} id {entry.id} under {where(base)}: the {missing} id is unknown"
                )
            here = base[:level]
        path = here + (entry.id,)
        common = min(len(path), len(base))
        if path[:common] != base[:common]:
            raise CodecError(f"TLV names {where(path)}, which is outside the requested {where(base)}")
        if path in seen:
            raise CodecError(f"TLV repeats {where(path)}")
        seen.add(path)
        if entry.kind in (TlvKind.OBJECT_INSTANCE, TlvKind.MULTIPLE_RESOURCE):
            _walk(entry.children, path, base, registry, out, seen)
        else:
            out[path] = value_from_tlv(entry.value, registry.type_of(path), path)


def encode_tlv(values: dict[Path, Value], base: Path, registry: ResourceRegistry) -> bytes:
    """Encode values for a Write/answer on `base` (object, instance, resource or resource instance)."""
    check_path(base)
    if not base:
        raise CodecError("TLV cannot encode at the root: it has no field for the object id")
    for path in values:
        check_path(path)
        if len(path) not in (3, 4) or not is_under(path, base):
            raise CodecError(f"TLV value at {where(path)}: not a resource (instance) path under {where(base)}")
    return build_tlv(_entries_at(base, values, registry))


def _entries_at(prefix: Path, values: dict[Path, Value], registry: ResourceRegistry) -> list[TlvEntry]:
    """Entries for everything under `prefix`, one level down (the base's own level when len 3 or 4)."""
    if len(prefix) == 4:
        return [TlvEntry(TlvKind.RESOURCE_INSTANCE, prefix[3], value_to_tlv(values[prefix], registry.type_of(prefix), prefix))]
    if len(prefix) == 3:
        return [_resource_entry(prefix, values, registry)]
    ids = sorted({p[len(prefix)] for p in values})
    if len(prefix) == 1:
        return [
            TlvEntry(TlvKind.OBJECT_INSTANCE, iid, children=tuple(_entries_at(prefix + (iid,), values, registry)))
            for iid in ids
        ]
    return [_resource_entry(prefix + (rid,), values, registry) for rid in ids]


def _resource_entry(path: Path, values: dict[Path, Value], registry: ResourceRegistry) -> TlvEntry:
    instances = sorted(p for p in values if len(p) == 4 and p[:3] == path)
    if path in values and instances:
        raise CodecError(f"{where(path)}: given both as a single value and as resource instances")
    if path in values:
        if registry.is_multiple(path):
            raise CodecError(f"{where(path)}: multiple-instance resource needs resource-instance paths")
        return TlvEntry(TlvKind.RESOURCE_VALUE, path[2], value_to_tlv(values[path], registry.type_of(path), path))
    children = tuple(
        TlvEntry(TlvKind.RESOURCE_INSTANCE, p[3], value_to_tlv(values[p], registry.type_of(p), p)) for p in instances
    )
    return TlvEntry(TlvKind.MULTIPLE_RESOURCE, path[2], children=children)
