"""SenML CBOR (content format 112): integer labels of RFC 8428 section 6, "vlo" as a text label.

cbor2 does the CBOR; whatever it raises on hostile input (its own errors, and
the ValueError/TypeError/OverflowError its tag decoders may throw) becomes a
CodecError here. cbor2 bounds container nesting itself.
"""

from __future__ import annotations

import io
from typing import Any

import cbor2

from rig.lwm2m.codecs.errors import CodecError
from rig.lwm2m.codecs.senml import build_records, records_to_values, resolve_records, SenmlRecord
from rig.lwm2m.codecs.values import Value
from rig.lwm2m.paths import Path
from rig.lwm2m.resource_types import ResourceRegistry

LABELS = {-1: "bver", -2: "bn", -3: "bt", -4: "bu", -5: "bv", -6: "bs", 0: "n", 1: "u", 2: "v", 3: "vs", 4: "vb",
          5: "s", 6: "t", 7: "ut", 8: "vd"}
NUMBERS = {name: number for number, name in LABELS.items()}


def load_records(payload: bytes) -> list[Any]:
    """Parse CBOR into a list of record maps keyed by SenML label names."""
    stream = io.BytesIO(bytes(payload))
    try:
        pack = cbor2.CBORDecoder(stream).decode()
    except Exception as exc:  # noqa: BLE001 - cbor2 and its tag hooks raise many types; all mean "malformed"
        raise CodecError(f"SenML CBOR does not parse: {type(exc).__name__}: {exc}") from exc
    if stream.tell() != len(payload):
        raise CodecError(f"SenML CBOR has {len(payload) - stream.tell()} bytes after the pack")
    if not isinstance(pack, list):
        raise CodecError(f"SenML CBOR must be an array of records, got {type(pack).__name__}")
    records = []
    for index, record in enumerate(pack):
        if not isinstance(record, dict):
            raise CodecError(f"SenML CBOR record {index} must be a map, got {type(record).__name__}")
        named: dict[str, Any] = {}
        for key, value in record.items():
            if isinstance(key, bool) or not isinstance(key, (int, str)):
                raise CodecError(f"SenML CBOR record {index}: label {key!r:.40} is neither integer nor text")
            name = LABELS.get(key, f"#{key}") if isinstance(key, int) else key
            named[name] = value
        records.append(named)
    return records


def decode_senml_cbor_records(payload: bytes, base: Path, registry: ResourceRegistry) -> list[SenmlRecord]:
    """All records with their times, for notifications that carry history."""
    return resolve_records(load_records(payload), base, registry)


def decode_senml_cbor(payload: bytes, base: Path, registry: ResourceRegistry) -> dict[Path, Value]:
    return records_to_values(decode_senml_cbor_records(payload, base, registry))


def encode_senml_cbor(values: dict[Path, Value], base: Path, registry: ResourceRegistry) -> bytes:
    records = [
        {NUMBERS.get(label, label): value for label, value in record.items()}
        for record in build_records(values, base, registry)
    ]
    return cbor2.dumps(records)
