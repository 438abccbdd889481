"""The target's choices where the Object 5 text leaves room (the [lwm2m] table of targets/*.toml).

Implementations legitimately differ on a few points (docs/object5.md, "Where clients
legitimately differ" and "Power loss"); the oracle must hold each target to the choice its file
declares rather than accept every variant, or a regression from one variant to the
other would go unnoticed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping

from rig.errors import RigError
from rig.lwm2m.deferral_profile import DeferralProfile
from rig.lwm2m.device_modes import KEYS as MODE_KEYS
from rig.lwm2m.object5 import OBJECT_VERSIONS


class ProfileError(RigError):
    """A bad [lwm2m] table in a target file."""


_STRING_CHOICES: dict[str, tuple[str, ...]] = {
    "object5_version": OBJECT_VERSIONS,
    "failure_returns_to": ("idle", "downloaded"),
    "reset_in_downloading": ("honoured", "ignored"),
    "invalid_uri": ("direct", "via-downloading"),
}
_BOOL_KEYS = ("resumes_download", "keeps_real_time", "persists_state")


@dataclass(frozen=True)
class Profile:
    """Expected behaviour of one target (defaults = the reading of docs/object5.md / Anjay).

    object5_version: the version the target file expects; the registration's `</5>;ver=`
      is what the oracle actually uses when given.
    failure_returns_to: State after a failed update with result 8 ("idle": Zephyr,
      "downloaded": OMA test 779, Anjay). Result 5 always goes to Idle.
    reset_in_downloading: whether Package URI "" / Package NUL in Downloading resets.
    resumes_download: an interrupted pull download is in Downloading after boot and resumes.
    invalid_uri: an invalid URI gives Idle/7 at once ("direct") or after Downloading.
    keeps_real_time: Last State Change Time is checked to never go backwards.
    persists_state: State and Update Result survive a power cut (a complete package comes
      back Downloaded, the result keeps its value); false = everything restarts Idle/0
      (Zephyr). The outcome of an update attempt (1 or 8) is required either way.
      (Extension of the shared [lwm2m] schema.)
    deferral: whether and how the rig can make the device defer an update (the
      [lwm2m.deferral] table, rig.lwm2m.deferral_profile).
    max_package_size: the largest package the client stores, in bytes (a larger one must give
      Update Result 2, case 773); "none": it has no such limit (773 is skipped); None (not
      given): an MCUboot target's slot, unknown for any other package format.
    """

    object5_version: str = "1.1"
    failure_returns_to: str = "idle"
    reset_in_downloading: str = "honoured"
    resumes_download: bool = False
    invalid_uri: str = "direct"
    keeps_real_time: bool = False
    persists_state: bool = True
    deferral: DeferralProfile = field(default_factory=DeferralProfile)
    max_package_size: int | str | None = None

    def __post_init__(self) -> None:
        for key, choices in _STRING_CHOICES.items():
            value = getattr(self, key)
            if value not in choices:
                raise ProfileError(f"Profile: {key} = {value!r} is not one of {', '.join(map(repr, choices))}")
        for key in _BOOL_KEYS:
            if not isinstance(getattr(self, key), bool):
                raise ProfileError(f"Profile: {key} must be true or false, not {getattr(self, key)!r}")
        if self.resumes_download and not self.persists_state:
            raise ProfileError(
                "Profile: resumes_download = true needs persists_state = true (a download cannot resume "
                "when nothing survives a power cut)"
            )

    @classmethod
    def from_target(cls, data: Mapping[str, Any], source: str) -> "Profile":
        """Build from a parsed target file (the whole TOML document); a missing [lwm2m] table means defaults.

        Errors name the file (`source`) and the key, so a typo is not silently a default.
        """
        table = data.get("lwm2m", {})
        if not isinstance(table, Mapping):
            raise ProfileError(f"{source}: [lwm2m] must be a table, not {type(table).__name__}")
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key in MODE_KEYS:
                continue  # how the device is deployed, not an Object 5 choice: rig.lwm2m.device_modes
            if key not in known:
                raise ProfileError(
                    f"{source}: unknown key lwm2m.{key}; known keys: {', '.join(sorted(known | set(MODE_KEYS)))}"
                )
            if key == "deferral":
                value = DeferralProfile.from_table(value, source)
            elif key == "max_package_size":
                if value != "none" and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
                    raise ProfileError(f"{source}: lwm2m.max_package_size must be bytes > 0 or \"none\" (no limit), "
                                       f"not {value!r}")
            elif key in _BOOL_KEYS:
                if not isinstance(value, bool):
                    raise ProfileError(f"{source}: lwm2m.{key} must be true or false, not {value!r}")
            elif key == "object5_version" and isinstance(value, float):
                raise ProfileError(f"{source}: lwm2m.object5_version must be a quoted string like \"1.1\", not {value!r}")
            elif value not in _STRING_CHOICES[key]:
                raise ProfileError(
                    f"{source}: lwm2m.{key} = {value!r} is not one of {', '.join(map(repr, _STRING_CHOICES[key]))}"
                )
            values[key] = value
        try:
            return cls(**values)
        except ProfileError as error:
            raise ProfileError(f"{source}: {str(error).removeprefix('Profile: ')}") from None

    def flipped(self, key: str) -> "Profile":
        """The same profile with the other choice for `key` (keeping the combination consistent).

        The oracle uses it to tell "the device behaves like the other variant" from a plain bug.
        """
        value = getattr(self, key)
        if key in _BOOL_KEYS:
            other: Any = not value
        else:
            other = next(choice for choice in _STRING_CHOICES[key] if choice != value)
        changes: dict[str, Any] = {key: other}
        if key == "persists_state" and not other:
            changes["resumes_download"] = False
        if key == "resumes_download" and other:
            changes["persists_state"] = True
        return replace(self, **changes)


#: Keys whose other value the oracle tries when an observation is unexplained.
BEHAVIOUR_KEYS = ("resumes_download", "persists_state", "failure_returns_to", "reset_in_downloading", "invalid_uri")
