"""SenML resolution shared by the JSON (110) and CBOR (112) codecs (RFC 8428, LwM2M 1.1 7.4.4-7.4.5).

Both codecs first turn the wire form into records keyed by the JSON label
names ("bn", "n", "v", "vd" as bytes, ...); everything LwM2M-specific (base
name and time resolution, names to paths, typing through the registry) lives
here once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from rig.lwm2m.codecs.errors import CodecError
from rig.lwm2m.codecs.values import Value, check_value, from_number, objlnk_from_text, objlnk_to_text, where
from rig.lwm2m.paths import Path, check_path, format_path, is_under, parse_path
from rig.lwm2m.resource_types import ResourceRegistry, ResourceType

VALUE_LABELS = ("v", "vs", "vb", "vd", "vlo")
MAX_NESTING = 8  # a SenML pack is an array of maps of scalars: depth 2; anything deeper is hostile


@dataclass(frozen=True)
class SenmlRecord:
    """One resolved record: full path, typed value, and time (bt + t, 0 when absent)."""

    path: Path
    value: Value
    time: float


def _number(record: dict[str, Any], label: str, index: int) -> float | int:
    value = record.get(label, 0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(value, float) and math.isnan(value)):
        raise CodecError(f"SenML record {index}: '{label}' must be a number, got {value!r:.40}")
    return value


def resolve_records(records: object, base: Path, registry: ResourceRegistry) -> list[SenmlRecord]:
    """Apply base name/time/value rules and type every value; names must lie under `base`."""
    if not isinstance(records, list):
        raise CodecError(f"SenML pack must be an array, got {type(records).__name__}")
    base_name = ""
    base_time: float | int = 0
    base_value: float | int = 0
    resolved: list[SenmlRecord] = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise CodecError(f"SenML record {index} must be a map, got {type(record).__name__}")
        for label in record:
            if isinstance(label, str) and label.endswith("_"):
                raise CodecError(f"SenML record {index}: must-understand label {label!r} is not supported")
        if "bn" in record:
            if not isinstance(record["bn"], str):
                raise CodecError(f"SenML record {index}: 'bn' must be a string")
            base_name = record["bn"]
        if "bt" in record:
            base_time = _number(record, "bt", index)
        if "bv" in record:
            base_value = _number(record, "bv", index)
        name = record.get("n", "")
        if not isinstance(name, str):
            raise CodecError(f"SenML record {index}: 'n' must be a string")
        present = [label for label in VALUE_LABELS if label in record]
        if not present:
            if "n" in record or "bn" not in record:
                raise CodecError(f"SenML record {index} ({base_name + name!r}) has no value")
            continue  # a record that only sets base fields
        if len(present) > 1:
            raise CodecError(f"SenML record {index}: several values {present}")
        path = parse_path(base_name + name)
        if len(path) < 3:
            raise CodecError(f"SenML record {index}: name {base_name + name!r} is not a resource path")
        common = min(len(path), len(base))
        if path[:common] != base[:common]:
            raise CodecError(f"SenML record {index}: {where(path)} is outside the requested {where(base)}")
        try:
            time = base_time + _number(record, "t", index)
            value = _typed(present[0], record[present[0]], base_value, registry.type_of(path), path)
        except OverflowError as exc:
            raise CodecError(f"SenML record {index}: number out of range ({exc})") from exc
        resolved.append(SenmlRecord(path, value, time))
    return resolved


def _typed(label: str, raw: object, base_value: float | int, rtype: ResourceType | None, path: Path) -> Value:
    if rtype is ResourceType.NONE:
        raise CodecError(f"{where(path)}: executable resource cannot carry a value")
    if label == "v":
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise CodecError(f"{where(path)}: 'v' must be a number, got {raw!r:.40}")
        return from_number(raw + base_value if base_value else raw, rtype, path)
    expected = {
        "vs": ((ResourceType.STRING, ResourceType.CORELNK), str),
        "vb": ((ResourceType.BOOLEAN,), bool),
        "vd": ((ResourceType.OPAQUE,), bytes),
        "vlo": ((ResourceType.OBJLNK,), str),
    }[label]
    if not isinstance(raw, expected[1]):
        raise CodecError(f"{where(path)}: '{label}' must be {expected[1].__name__}, got {type(raw).__name__}")
    if rtype is not None and rtype not in expected[0]:
        raise CodecError(f"{where(path)}: {rtype.value} resource sent as '{label}'")
    if label == "vlo":
        return objlnk_from_text(raw, path)
    return raw


def records_to_values(records: list[SenmlRecord]) -> dict[Path, Value]:
    """Latest value per path: a timestamped pack (notification history) keeps its newest entry."""
    best: dict[Path, SenmlRecord] = {}
    for record in records:
        current = best.get(record.path)
        if current is None or record.time >= current.time:
            best[record.path] = record
    return {path: record.value for path, record in best.items()}


def build_records(values: dict[Path, Value], base: Path, registry: ResourceRegistry) -> list[dict[str, Any]]:
    """Records named relative to `base` (Anjay's shape: bn "/5/0", n "/3"); vd stays bytes."""
    check_path(base)
    records: list[dict[str, Any]] = []
    for path in sorted(values):
        check_path(path)
        if len(path) < 3 or not is_under(path, base):
            raise CodecError(f"SenML value at {where(path)}: not a resource (instance) path under {where(base)}")
        value = check_value(values[path], registry.type_of(path), path)
        record: dict[str, Any] = {}
        if not records and base:
            record["bn"] = format_path(base)
        if path != base:
            record["n"] = format_path(path[len(base):])
        record.update(_value_field(value, path))
        records.append(record)
    return records


def _value_field(value: Value, path: Path) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"vb": value}
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise CodecError(f"{where(path)}: SenML cannot carry {value}")
        return {"v": value}
    if isinstance(value, str):
        return {"vs": value}
    if isinstance(value, tuple):
        return {"vlo": objlnk_to_text(value)}
    return {"vd": bytes(value)}
