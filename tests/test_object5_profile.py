"""The [lwm2m] table of a target file becomes a Profile; every bad key or value is named."""

from __future__ import annotations

import tomllib

import pytest

from rig.lwm2m.profile import Profile, ProfileError

SHARED_EXAMPLE = """
[target]
name = "virtual"

[lwm2m]
object5_version = "1.1"
failure_returns_to = "idle"
reset_in_downloading = "honoured"
resumes_download = true
invalid_uri = "direct"
keeps_real_time = false
"""


def test_shared_schema_example_parses() -> None:
    profile = Profile.from_target(tomllib.loads(SHARED_EXAMPLE), "targets/virtual.toml")
    assert profile == Profile(resumes_download=True)


def test_missing_table_means_defaults() -> None:
    assert Profile.from_target({"target": {"name": "x"}}, "t.toml") == Profile()


@pytest.mark.parametrize(
    "table,message",
    [
        ({"failure_returns_to": "downloaded-ish"}, r"t\.toml: lwm2m\.failure_returns_to = 'downloaded-ish' is not one of 'idle', 'downloaded'"),
        ({"resumes_download": "yes"}, r"t\.toml: lwm2m\.resumes_download must be true or false"),
        ({"object5_version": 1.1}, r"t\.toml: lwm2m\.object5_version must be a quoted string"),
        ({"object5_version": "1.2"}, r"t\.toml: lwm2m\.object5_version = '1\.2'"),
        ({"failure_return_to": "idle"}, r"t\.toml: unknown key lwm2m\.failure_return_to"),
        ({"resumes_download": True, "persists_state": False}, r"t\.toml: resumes_download = true needs persists_state = true"),
    ],
)
def test_bad_values_name_file_and_key(table: dict, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        Profile.from_target({"lwm2m": table}, "t.toml")


def test_table_must_be_a_table() -> None:
    with pytest.raises(ProfileError, match=r"t\.toml: \[lwm2m\] must be a table"):
        Profile.from_target({"lwm2m": "anjay"}, "t.toml")


def test_flipped_keeps_combinations_consistent() -> None:
    anjay = Profile(resumes_download=True, failure_returns_to="downloaded")
    assert anjay.flipped("failure_returns_to").failure_returns_to == "idle"
    assert anjay.flipped("persists_state") == Profile(persists_state=False, failure_returns_to="downloaded")
    zephyr = Profile(persists_state=False)
    assert zephyr.flipped("resumes_download") == Profile(resumes_download=True)
