"""SenML JSON (content format 110): the wire layer over `senml`.

The JSON text is checked for UTF-8 and for nesting depth before `json` sees it,
so a hostile payload ends in CodecError, never RecursionError.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from rig.lwm2m.codecs.errors import CodecError
from rig.lwm2m.codecs.senml import MAX_NESTING, build_records, records_to_values, resolve_records, SenmlRecord
from rig.lwm2m.codecs.values import Value
from rig.lwm2m.paths import Path
from rig.lwm2m.resource_types import ResourceRegistry


def _check_depth(text: str) -> None:
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise CodecError(f"SenML JSON nests deeper than {MAX_NESTING} levels")
        elif ch in "]}":
            depth -= 1


def _b64url(text: str, index: int) -> bytes:
    """RFC 8428 5.: vd is base64url without padding; accept padding and standard alphabet too."""
    cleaned = text.rstrip("=").replace("+", "-").replace("/", "_")
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CodecError(f"SenML JSON record {index}: 'vd' is not base64url ({exc})") from exc


def load_records(payload: bytes) -> list[Any]:
    """Parse the JSON text into a list of record maps with 'vd' as bytes."""
    try:
        text = bytes(payload).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CodecError(f"SenML JSON is not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    _check_depth(text)
    try:
        pack = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise CodecError(f"SenML JSON does not parse: {exc}") from exc
    if not isinstance(pack, list):
        raise CodecError(f"SenML JSON must be an array of records, got {type(pack).__name__}")
    for index, record in enumerate(pack):
        if isinstance(record, dict) and "vd" in record:
            if not isinstance(record["vd"], str):
                raise CodecError(f"SenML JSON record {index}: 'vd' must be a base64url string")
            record["vd"] = _b64url(record["vd"], index)
    return pack


def decode_senml_json_records(payload: bytes, base: Path, registry: ResourceRegistry) -> list[SenmlRecord]:
    """All records with their times, for notifications that carry history."""
    return resolve_records(load_records(payload), base, registry)


def decode_senml_json(payload: bytes, base: Path, registry: ResourceRegistry) -> dict[Path, Value]:
    return records_to_values(decode_senml_json_records(payload, base, registry))


def encode_senml_json(values: dict[Path, Value], base: Path, registry: ResourceRegistry) -> bytes:
    records = build_records(values, base, registry)
    for record in records:
        if "vd" in record:
            record["vd"] = base64.urlsafe_b64encode(record["vd"]).decode("ascii").rstrip("=")
    return json.dumps(records, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
