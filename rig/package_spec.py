"""The [package] table of a target file: what a package for this device is, and how the rig gets one.

    [package]
    format = "mcuboot"            # mcuboot (the default) | file | command
    integrity_result = 5          # the Update Result the device gives a corrupt or truncated package
    type_result = 6               # ... and a package of the wrong type

    # format = "file": the rig sends the files it is given as they are (rig run --base-image/--new-image,
    # rig update PKG); the version of each comes from its name, or a command prints it
    version_from_name = 'fw-(?P<version>[0-9.]+)\\.bin'
    version = ["my-tool", "version", "{package}"]
    negatives = { corrupt = "bad/corrupt.bin" }      # file: bad packages the target's maker provides

    # format = "command": a command builds packages from a payload and a version
    make = ["my-tool", "pack", "--version", "{version}", "{payload}", "-o", "{output}"]
    bad = ["my-tool", "bad", "{kind}", "--version", "{version}", "{payload}", "-o", "{output}"]
    negatives = ["corrupt", "truncated", "wrong-type"]   # command: the kinds `bad` makes
    version = ["my-tool", "version", "{package}"]
    flash = ["my-tool", "flash", "{package}", "-o", "{output}"]   # what a known start programs into the primary slot

Checked when the target is loaded (rig.config), used by rig.packages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rig import placeholders
from rig.errors import RigError

FORMATS = ("mcuboot", "file", "command")
# Bad packages the conformance cases use, by kind (rig.packages makes them per format).
NEGATIVE_KINDS = ("corrupt", "truncated", "wrong-type", "too-large", "crash-on-boot", "never-confirm", "wrong-key",
                  "downgrade")
TOOL = ("python", "target_file", "target_dir")
COMMAND_FIELDS = {  # key -> the placeholders its command may use
    "make": TOOL + ("payload", "version", "output"),
    "bad": TOOL + ("kind", "payload", "version", "output"),
    "version": TOOL + ("package",),
    "flash": TOOL + ("package", "output"),
}
KEYS = {"format", "integrity_result", "type_result", "version_from_name", "negatives", "timeout", *COMMAND_FIELDS}


@dataclass(frozen=True)
class PackageSpec:
    format: str = "mcuboot"
    commands: dict[str, tuple[str, ...]] = field(default_factory=dict)  # make, bad, version, flash
    negatives: tuple[str, ...] = ()  # command: kinds `bad` makes
    negative_files: dict[str, str] = field(default_factory=dict)  # file: kind -> path (relative to the target file)
    version_from_name: str | None = None
    integrity_result: int = 5
    type_result: int = 6
    timeout: float = 120.0

    @classmethod
    def from_target(cls, data: dict[str, Any], src: str) -> "PackageSpec":
        table = data.get("package", {})
        if not isinstance(table, dict):
            raise RigError(f"{src}: [package] must be a table (format = \"mcuboot\" | \"file\" | \"command\")")
        for key in table:
            if key not in KEYS:
                raise RigError(f"{src}: package.{key}: unknown key; known: {', '.join(sorted(KEYS))}")
        fmt = table.get("format", "mcuboot")
        if fmt not in FORMATS:
            raise RigError(f"{src}: package.format: must be one of {', '.join(FORMATS)}, got {fmt!r}")
        commands = {key: _command(table[key], f"package.{key}", src) for key in COMMAND_FIELDS if key in table}
        for key, argv in commands.items():
            placeholders.check(argv, COMMAND_FIELDS[key], f"package.{key}", src)
        only_command = sorted({"make", "bad", "flash"} & set(commands)) if fmt != "command" else []
        if only_command or (fmt == "mcuboot" and commands):
            key = (only_command or sorted(commands))[0]
            raise RigError(f"{src}: package.{key}: not for format = {fmt!r}"
                           + (" (only for \"command\")" if only_command else ""))
        if fmt == "command" and "make" not in commands:
            raise RigError(f"{src}: package.make: missing; format = \"command\" needs the command that builds a "
                           "package from {payload} and {version} into {output}")
        negatives, files = _negatives(table.get("negatives"), fmt, "bad" in commands, src)
        pattern = table.get("version_from_name")
        if pattern is not None:
            if fmt != "file":
                raise RigError(f"{src}: package.version_from_name: only for format = \"file\"")
            try:
                if not isinstance(pattern, str) or re.compile(pattern).groups == 0:
                    raise RigError(f"{src}: package.version_from_name: must be a regular expression with a group "
                                   f"(named 'version' or the first), got {pattern!r}")
            except re.error as exc:
                raise RigError(f"{src}: package.version_from_name: not a regular expression ({exc})") from None
        results = {k: table.get(k, d) for k, d in (("integrity_result", 5), ("type_result", 6))}
        for key, value in results.items():
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 11:
                raise RigError(f"{src}: package.{key}: must be an Update Result 1..11, got {value!r}")
        timeout = table.get("timeout", 120.0)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise RigError(f"{src}: package.timeout: must be seconds > 0, got {timeout!r}")
        return cls(fmt, commands, negatives, files, pattern, results["integrity_result"], results["type_result"],
                   float(timeout))


def _command(value: Any, where: str, src: str) -> tuple[str, ...]:
    if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        raise RigError(f"{src}: {where}: must be a command as a list of strings, got {value!r}")
    return tuple(value)


def _negatives(value: Any, fmt: str, has_bad: bool, src: str) -> tuple[tuple[str, ...], dict[str, str]]:
    if value is None:
        return (), {}
    kinds = list(value) if isinstance(value, (list, dict)) else None
    if kinds is None or not all(isinstance(k, str) for k in kinds):
        raise RigError(f"{src}: package.negatives: must be a list of kinds (command) or a table kind = \"file\" "
                       f"(file), got {value!r}")
    for kind in kinds:
        if kind not in NEGATIVE_KINDS:
            raise RigError(f"{src}: package.negatives: unknown kind {kind!r}; known: {', '.join(NEGATIVE_KINDS)}")
    if fmt == "command":
        if not isinstance(value, list):
            raise RigError(f"{src}: package.negatives: with format = \"command\" a list of the kinds package.bad makes")
        if not has_bad:
            raise RigError(f"{src}: package.negatives: lists kinds but there is no package.bad command to make them")
        return tuple(kinds), {}
    if fmt == "file":
        if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
            raise RigError(f"{src}: package.negatives: with format = \"file\" a table kind = \"path\"")
        return (), dict(value)
    raise RigError(f"{src}: package.negatives: the mcuboot format makes its own bad packages")
