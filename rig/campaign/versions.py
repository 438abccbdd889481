"""Version strings as images and devices spell them: "1.2.3+0" in an MCUboot header, "1.2.3" on /3/0/3."""

from __future__ import annotations


def base(version: str | None) -> str | None:
    if version is None:
        return None
    v = str(version).strip()
    if v.startswith("v"):
        v = v[1:]
    number, _, build = v.partition("+")
    return number if build in ("", "0") else f"{number}+{build}"


def same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and base(a) == base(b)
