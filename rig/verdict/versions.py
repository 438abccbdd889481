"""Version strings as images and devices spell them: "1.2.3+0" in an MCUboot header, "1.2.3" or "1.2" on a device.

The comparison itself lives in rig.version_rule (a target's [version] table says
where the version is read and whether "1.0" and "1.0.0" are the same); these are
its semver defaults for code that has no target at hand.
"""

from __future__ import annotations

from rig.version_rule import VersionRule, canonical, same

__all__ = ["VersionRule", "base", "same"]


def base(version: str | None) -> str | None:
    """The canonical semver form ("v1.0+0" -> "1.0.0"), None for None."""
    return canonical(version)
