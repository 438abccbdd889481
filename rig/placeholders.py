"""Placeholders in the commands a target file names: which exist, checked when the file is read, filled in full.

A third-party client takes its server, endpoint and key on its command line, and a
vendor's packaging tool its input and output files; the target file writes them
as `{server_port}`, `{psk_key_hex}`, `{payload}`. A misspelt one must not reach the
client as literal text, so every command is checked against its set when the
target is loaded (one line naming the file, the key and the known names), and
filling leaves nothing unfilled (one line naming what is missing and why).
"""

from __future__ import annotations

import string
from typing import Any, Iterable

from rig.errors import RigError

# What a process target's command, env and reset_command may use. The first group is known when the place is
# built, the second when the rig's server is up (rig.place.server_values.fill_server), the keys when a PSK is set.
PLACE = ("workdir", "flash_file", "endpoint", "place", "python", "target_file", "target_dir")
SERVER = ("server_host", "server_port", "server_coaps_port", "coaps_port", "server_uri",  # coaps_port: an alias
          "bootstrap_uri")  # the rig's bootstrap server: only for a target with lwm2m.bootstrap = true
KEYS = ("psk_identity", "psk_key_hex", "psk_key_file")
PROCESS = PLACE + SERVER + KEYS
RESET = PROCESS + ("base_package",)


def fields_of(text: str) -> list[str]:
    """The placeholder names in `text`; ValueError for a broken one ("{a", "{a.b}", "{0}", "{a!r}")."""
    names = []
    for _literal, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}} "
                             "is not a placeholder (write {name}; a literal brace is {{ or }})")
        names.append(name)
    return names


def check(values: Iterable[Any], known: Iterable[str], where: str, src: str) -> None:
    """Every placeholder of every string in `values` is one of `known`; else a RigError naming file and key."""
    allowed = set(known)
    for value in values:
        if not isinstance(value, str):
            continue
        try:
            names = fields_of(value)
        except ValueError as exc:
            raise RigError(f"{src}: {where}: {exc}") from None
        for name in names:
            if name not in allowed:
                raise RigError(f"{src}: {where}: unknown placeholder {{{name}}} in {value!r}; known: "
                               + ", ".join("{" + k + "}" for k in sorted(allowed)))


class _Keep(dict):
    def __missing__(self, key: str) -> str:  # filled later, when the value is known
        return "{" + key + "}"


def fill(value: str, variables: dict[str, Any]) -> str:
    """Fill what `variables` knows; other placeholders stay for a later stage."""
    return string.Formatter().vformat(value, (), _Keep(variables))


def fill_all(value: str, variables: dict[str, Any], why_missing: dict[str, str] | None = None) -> str:
    """Fill every placeholder; one that has no value yet is a RigError saying why it has none."""
    for name in fields_of(value):
        if name not in variables:
            reason = (why_missing or {}).get(name, "it has no value here")
            raise RigError(f"{{{name}}} in {value!r}: {reason}")
    return string.Formatter().vformat(value, (), variables)
