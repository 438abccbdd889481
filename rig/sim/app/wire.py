"""The virtual board's own LwM2M payload encoding: TLV, plain text, opaque, SenML JSON and CBOR, link format.

Deliberately independent of rig.lwm2m.codecs: if the server and the device shared one
codec, a bug in it would encode and decode symmetrically and never show up in a test.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Union
import base64

TEXT = 0
LINK_FORMAT = 40
OPAQUE = 42
SENML_JSON = 110
SENML_CBOR = 112
TLV = 11542
# SenML CBOR labels (RFC 8428 section 6) the board reads: base name, name, value, string, boolean, data.
_CBOR_LABELS = {-2: "bn", 0: "n", 2: "v", 3: "vs", 4: "vb", 8: "vd"}

Value = Union[int, str, bytes, bool, float]

# TLV identifier types (bits 7-6 of the type byte)
OBJECT_INSTANCE = 0b00
RESOURCE_INSTANCE = 0b01
MULTIPLE_RESOURCE = 0b10
RESOURCE_VALUE = 0b11


class WireError(ValueError):
    """A payload the client cannot decode: answered with 4.00 Bad Request."""


@dataclass
class TlvEntry:
    kind: int
    ident: int
    value: bytes | list["TlvEntry"]


def encode_scalar(value: Value) -> bytes:
    """LwM2M TLV value bytes: integers in the shortest of 1/2/4/8 signed bytes, text UTF-8."""
    if isinstance(value, bool):
        return b"\x01" if value else b"\x00"
    if isinstance(value, int):
        for size, fmt in ((1, ">b"), (2, ">h"), (4, ">i"), (8, ">q")):
            if -(1 << (8 * size - 1)) <= value < (1 << (8 * size - 1)):
                return struct.pack(fmt, value)
        raise WireError(f"integer {value} does not fit in 64 bits")
    if isinstance(value, float):
        return struct.pack(">d", value)
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


def decode_int(raw: bytes) -> int:
    if len(raw) not in (1, 2, 4, 8):
        raise WireError(f"TLV integer of {len(raw)} bytes (must be 1, 2, 4 or 8)")
    return int.from_bytes(raw, "big", signed=True)


def _header(kind: int, ident: int, length: int) -> bytes:
    type_byte = kind << 6
    ident_bytes = bytes([ident]) if ident < 256 else struct.pack(">H", ident)
    if ident >= 256:
        type_byte |= 0x20
    if length < 8:
        type_byte |= length
        length_bytes = b""
    elif length < 1 << 8:
        type_byte |= 0x08
        length_bytes = bytes([length])
    elif length < 1 << 16:
        type_byte |= 0x10
        length_bytes = struct.pack(">H", length)
    else:
        type_byte |= 0x18
        length_bytes = length.to_bytes(3, "big")
    return bytes([type_byte]) + ident_bytes + length_bytes


def tlv_encode(entries: list[TlvEntry]) -> bytes:
    out = bytearray()
    for entry in entries:
        body = tlv_encode(entry.value) if isinstance(entry.value, list) else entry.value
        out += _header(entry.kind, entry.ident, len(body)) + body
    return bytes(out)


def tlv_decode(data: bytes) -> list[TlvEntry]:
    entries: list[TlvEntry] = []
    pos = 0
    while pos < len(data):
        type_byte = data[pos]
        pos += 1
        kind = type_byte >> 6
        id_len = 2 if type_byte & 0x20 else 1
        len_type = (type_byte >> 3) & 0x3
        if pos + id_len + len_type > len(data):
            raise WireError(f"TLV header truncated at byte {pos - 1}")
        ident = int.from_bytes(data[pos:pos + id_len], "big")
        pos += id_len
        if len_type == 0:
            length = type_byte & 0x7
        else:
            length = int.from_bytes(data[pos:pos + len_type], "big")
            pos += len_type
        if pos + length > len(data):
            raise WireError(f"TLV value of id {ident} claims {length} bytes, {len(data) - pos} left")
        body = data[pos:pos + length]
        pos += length
        nested = kind in (OBJECT_INSTANCE, MULTIPLE_RESOURCE)
        entries.append(TlvEntry(kind, ident, tlv_decode(body) if nested else body))
    return entries


def resource_tlv(rid: int, value: Value | dict[int, Value]) -> TlvEntry:
    """One resource: a dict value makes a multiple-instance resource."""
    if isinstance(value, dict):
        inner = [TlvEntry(RESOURCE_INSTANCE, i, encode_scalar(v)) for i, v in sorted(value.items())]
        return TlvEntry(MULTIPLE_RESOURCE, rid, inner)
    return TlvEntry(RESOURCE_VALUE, rid, encode_scalar(value))


def text_value(value: Value) -> bytes:
    if isinstance(value, bool):
        return b"1" if value else b"0"
    if isinstance(value, bytes):
        raise WireError("opaque value has no text form")
    return str(value).encode("utf-8")


def senml_json(base: str, values: dict[str, Value]) -> bytes:
    """SenML JSON records, one per resource (instance); `values` maps relative names like "3" or "8/0"."""
    records = []
    for index, (name, value) in enumerate(values.items()):
        record: dict[str, object] = {"n": name}
        if index == 0:
            record["bn"] = base
        if isinstance(value, bool):
            record["vb"] = value
        elif isinstance(value, (int, float)):
            record["v"] = value
        elif isinstance(value, str):
            record["vs"] = value
        else:
            record["vd"] = base64.urlsafe_b64encode(value).decode().rstrip("=")
        records.append(record)
    return json.dumps(records, separators=(",", ":")).encode()


def senml_decode(data: bytes) -> dict[str, Value]:
    """Full names ("/5/0/1") to values; base names accumulate as SenML says."""
    try:
        records = json.loads(data)
    except ValueError as exc:
        raise WireError(f"SenML JSON does not parse: {exc}") from None
    return _senml_values(records, "SenML JSON", lambda record: record)


def senml_cbor_decode(data: bytes) -> dict[str, Value]:
    """Full names to values from SenML CBOR (cbor2 parses the CBOR; the SenML reading is the board's own)."""
    import cbor2  # noqa: PLC0415 -- only for CBOR content

    try:
        records = cbor2.loads(data)
    except Exception as exc:  # cbor2 raises its own errors and ValueError/TypeError on hostile input
        raise WireError(f"SenML CBOR does not parse: {exc}") from None
    return _senml_values(records, "SenML CBOR", lambda raw: {_CBOR_LABELS.get(k, k): v for k, v in raw.items()})


def _senml_values(records: object, what: str, labelled) -> dict[str, Value]:
    if not isinstance(records, list):
        raise WireError(f"{what} must be an array of records")
    out: dict[str, Value] = {}
    base = ""
    for raw in records:
        if not isinstance(raw, dict):
            raise WireError(f"{what} record is not a map")
        record = labelled(raw)
        base = record.get("bn", base)
        name = base + record.get("n", "")
        if "v" in record:
            out[name] = record["v"]
        elif "vs" in record:
            out[name] = record["vs"]
        elif "vb" in record:
            out[name] = bool(record["vb"])
        elif "vd" in record:
            out[name] = _data(record["vd"])
    return out


def _data(value: object) -> bytes:
    """A "vd" value: base64url text in SenML JSON, a byte string in SenML CBOR."""
    if isinstance(value, str):
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    return bytes(value)  # type: ignore[arg-type]


def link_format(links: list[tuple[str, dict[str, str]]]) -> bytes:
    """`</5>;ver=1.1,</5/0>` from [("/5", {"ver": "1.1"}), ("/5/0", {})]."""
    parts = []
    for href, attrs in links:
        parts.append(f"<{href}>" + "".join(f";{k}={v}" if v != "" else f";{k}" for k, v in attrs.items()))
    return ",".join(parts).encode()
