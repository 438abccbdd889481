"""What each backend accepts in the rig file: key -> validator, so a typo fails with one line naming file, key and fix.

A validator returns the converted value or raises ValueError with the "must be ..."
half of the message; rig.config adds "<file>: places.<name>.<table>.<key>:" and the
value it got. Backends that are registered but not described here (added later)
get their options passed through unchecked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

Validator = Callable[[Any], Any]


@dataclass(frozen=True)
class Key:
    check: Validator
    required: bool = False


def bcm_pin(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= 27:
        raise ValueError("must be a BCM GPIO number 2..27")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError("must be a number of seconds >= 0")
    return float(value)


def positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError("must be a positive integer")
    return value


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value


def one_of(*words: str) -> Validator:
    def check(value: Any) -> str:
        if value not in words:
            raise ValueError(f"must be one of {', '.join(words)}")
        return value

    return check


def command(value: Any) -> str | list[str]:
    """A command line: a string (split like a shell would, no shell runs) or a list of arguments."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    raise ValueError("must be a command: a string or a list of strings")


def regex(value: Any) -> str:
    try:
        re.compile(text(value))
    except re.error as exc:
        raise ValueError(f"must be a regular expression ({exc})") from None
    return value


def table(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("must be a table, e.g. { hub = \"1-1\", port = 2 }")
    return value


def byte_size(value: Any) -> int:
    """Bytes: an integer, or a string like "16M", "512K" (KiB/MiB)."""
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+)\s*([KkMmGg]?)(i?B)?\s*", value)
        if match:
            value = int(match.group(1)) * 1024 ** " KMG".index(match.group(2).upper() or " ")
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError("must be a size in bytes > 0 (an integer, or a string like \"16M\")")
    return value


def string_table(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError("must be a table of strings, e.g. { RUST_LOG = \"debug\" }")
    return value


SCHEMA: dict[str, dict[str, dict[str, Key]]] = {
    "power": {
        "gpio": {
            "pin": Key(bcm_pin, required=True),
            "active_low": Key(boolean),
            "pin_factory": Key(one_of("auto", "rpigpio", "lgpio", "mock")),
            "min_off": Key(seconds),
            "power_good_pin": Key(bcm_pin),
            "power_good_active_low": Key(boolean),
            "confirm_timeout": Key(seconds),
        },
        "command": {
            "on": Key(command, required=True),
            "off": Key(command, required=True),
            "status": Key(command),
            "on_pattern": Key(regex),
            "vars": Key(table),
            "timeout": Key(seconds),
        },
        "process": {"argv": Key(command), "env": Key(string_table), "stdin": Key(one_of("null", "pipe"))},
        "manual": {"describe": Key(text)},
        "relay": {"url": Key(text, required=True), "lease": Key(seconds), "timeout": Key(seconds)},
        "sim": {"control_port": Key(positive_int), "host": Key(text)},
    },
    "console": {
        "serial": {"url": Key(text, required=True), "baudrate": Key(positive_int), "encoding": Key(text)},
        "process": {"encoding": Key(text)},
    },
    "probe": {
        "pyocd": {
            "unique_id": Key(text, required=True),
            "target_type": Key(text),
            "pack": Key(text),
            "frequency": Key(positive_int),
        },
        "file": {"flash_file": Key(text)},
    },
}
