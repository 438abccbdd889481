"""Checks of a target file's [process] and [console] tables, one line per mistake naming the key.

Kept apart from rig.config (which joins targets and places) because these tables
are read again where they are used: the process power and the console builder.
"""

from __future__ import annotations

from typing import Any

from rig import placeholders
from rig.config_schema import byte_size
from rig.errors import RigError

PROCESS_KEYS = ("command", "flash_file", "env", "stdin", "reset_command")


def process_table(table: Any, src: str) -> None:
    """[process]: the client's argv and what it may take (placeholders checked now, filled later)."""
    if not isinstance(table, dict):
        raise RigError(f"{src}: [process] missing; a process target needs process.command (the client's argv)")
    for key in table:
        if key not in PROCESS_KEYS:
            raise RigError(f"{src}: process.{key}: unknown key; known: {', '.join(PROCESS_KEYS)}")
    for key in ("command", "reset_command"):
        argv = table.get(key)
        if argv is None and key == "reset_command":
            continue
        if not (isinstance(argv, list) and argv and all(isinstance(c, str) for c in argv)):
            raise RigError(f"{src}: process.{key}: must be a command as a list of strings, got {argv!r}")
        placeholders.check(argv, placeholders.RESET if key == "reset_command" else placeholders.PROCESS,
                           f"process.{key}", src)
    env = table.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise RigError(f"{src}: process.env: must be a table of strings, got {env!r}")
    placeholders.check(env.values(), placeholders.PROCESS, "process.env", src)
    if table.get("stdin", "null") not in ("null", "pipe"):
        raise RigError(f"{src}: process.stdin: must be \"null\" (/dev/null) or \"pipe\" (kept open), "
                       f"got {table['stdin']!r}")
    flash_file = table.get("flash_file", "flash.bin")
    if not isinstance(flash_file, str) or not flash_file:
        raise RigError(f"{src}: process.flash_file: must be a file name, got {flash_file!r}")


def console_table(table: Any, src: str) -> None:
    if not isinstance(table, dict):
        raise RigError(f"{src}: [console] must be a table (baudrate, log_cap)")
    for key, value in table.items():
        if key not in ("baudrate", "log_cap"):
            raise RigError(f"{src}: console.{key}: unknown key; known: baudrate, log_cap")
        if key == "log_cap":
            try:
                byte_size(value)
            except ValueError as exc:
                raise RigError(f"{src}: console.log_cap: {exc}, got {value!r}") from None
