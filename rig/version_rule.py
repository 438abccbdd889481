"""Where a target reports the version it runs, and when two version strings are the same version.

Clients differ: Zephyr's puts the image version on /3/0/3; a third-party client
puts its library's version there and the package's on /5/0/7, spelled "1.0"
where the image says "1.0.0"; a board may print it on its console only; the
flash holds it in the MCUboot header. The target file says, in order of trust:

    [version]
    read = ["/5/0/7", "/3/0/3"]     # the first that gives a value wins; also "console:REGEX" and "flash"
    compare = "semver"              # "1.0" == "1.0.0" == "v1.0.0+0" (the default), or "exact"

`semver` compares the numbers (missing parts are 0) and the pre-release; a build
number ("+4") counts only when both sides have one that is not 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rig.errors import RigError

COMPARES = ("semver", "exact")
DEFAULT_SOURCES = ("/3/0/3",)
_PATH = re.compile(r"^/\d+/\d+/\d+$")
_SEMVER = re.compile(r"^v?(\d+(?:\.\d+)*)(-[0-9A-Za-z.-]+)?(?:\+([0-9A-Za-z.-]+))?$")


def canonical(version: Any, compare: str = "semver") -> str | None:
    """The form two equal versions share: "1.0" -> "1.0.0", "v1.2.3+0" -> "1.2.3", "1.2.3+4" -> "1.2.3+4".
    A string that is no semantic version (or compare = "exact") is kept as it is, stripped."""
    if version is None:
        return None
    text = str(version).strip()
    if compare == "exact":
        return text
    match = _SEMVER.match(text)
    if match is None:
        return text
    numbers = [int(p) for p in match.group(1).split(".")]
    numbers += [0] * (3 - len(numbers))
    pre, build = match.group(2) or "", match.group(3) or ""
    while len(numbers) > 3 and numbers[-1] == 0:
        numbers.pop()
    return ".".join(map(str, numbers)) + pre + (f"+{build}" if build not in ("", "0") else "")


def same(a: Any, b: Any, compare: str = "semver") -> bool:
    """Two reported versions name the same one (None never does)."""
    if a is None or b is None:
        return False
    ca, cb = canonical(a, compare), canonical(b, compare)
    if ca == cb:
        return True
    if compare == "semver":  # one side without a build number: the numbers decide ("1.2.3" == "1.2.3+4")
        na, _, ba = (ca or "").partition("+")
        nb, _, bb = (cb or "").partition("+")
        return na == nb and (not ba or not bb)
    return False


@dataclass(frozen=True)
class VersionRule:
    """sources: where the running version is read, in order; compare: "semver" or "exact"."""

    sources: tuple[str, ...] = DEFAULT_SOURCES
    compare: str = "semver"

    def same(self, a: Any, b: Any) -> bool:
        return same(a, b, self.compare)

    def canonical(self, version: Any) -> str | None:
        return canonical(version, self.compare)

    def describe(self) -> str:
        return " then ".join(self.sources)

    @classmethod
    def from_target(cls, data: dict[str, Any], src: str) -> "VersionRule":
        table = data.get("version", {})
        if not isinstance(table, dict):
            raise RigError(f"{src}: [version] must be a table (read = [...], compare = \"semver\")")
        for key in table:
            if key not in ("read", "compare"):
                raise RigError(f"{src}: version.{key}: unknown key; known: compare, read")
        read = table.get("read", list(DEFAULT_SOURCES))
        if isinstance(read, str):
            read = [read]
        if not isinstance(read, list) or not read:
            raise RigError(f"{src}: version.read: must be a list of sources, got {read!r}")
        for source in read:
            _check_source(source, src)
        compare = table.get("compare", "semver")
        if compare not in COMPARES:
            raise RigError(f"{src}: version.compare: must be one of {', '.join(COMPARES)}, got {compare!r}")
        return cls(tuple(read), compare)


def _check_source(source: Any, src: str) -> None:
    if isinstance(source, str) and _PATH.match(source):
        return
    if source == "flash":
        return
    if isinstance(source, str) and source.startswith("console:"):
        try:
            re.compile(source[len("console:"):])
        except re.error as exc:
            raise RigError(f"{src}: version.read: {source!r}: not a regular expression ({exc})") from None
        if not source[len("console:"):]:
            raise RigError(f"{src}: version.read: \"console:\" needs a regular expression after it")
        return
    raise RigError(f"{src}: version.read: {source!r} is not a source; use a resource path (\"/3/0/3\", \"/5/0/7\"), "
                   "\"console:REGEX\" or \"flash\"")
