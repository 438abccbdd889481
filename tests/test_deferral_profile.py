"""[lwm2m.deferral] of a target file: what the shipped targets say, and one-line errors naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.config import load_target
from rig.errors import RigError
from rig.lwm2m.deferral_profile import DeferralProfile
from rig.lwm2m.profile import Profile

TARGETS = Path(__file__).resolve().parents[1] / "targets"


def test_the_shipped_targets_say_whether_the_rig_can_make_them_defer():
    for name, how in (("virtual", "resource-write"), ("host_sim", "resource-write"), ("frdm_k64f", "none"),
                      ("nucleo_f767zi", "none"), ("host_process", "none")):
        target = load_target(TARGETS / f"{name}.toml")
        assert Profile.from_target(target.data, name).deferral.how == how
    virtual = Profile.from_target(load_target(TARGETS / "virtual.toml").data, "v").deferral
    assert (virtual.path, virtual.value, virtual.undo, virtual.margin) == ("/5/0/11", 2, 1, 2.0)
    assert Profile.from_target({}, "no table").deferral == DeferralProfile()  # absent: the rig cannot


@pytest.mark.parametrize("table, message", [
    ({"how": "button"}, "lwm2m.deferral.how: must be one of resource-write, console, none, got 'button'"),
    ({"how": "resource-write", "value": 2}, "lwm2m.deferral.path: must be a resource path"),
    ({"how": "resource-write", "path": "/5/0/11"}, "lwm2m.deferral.value: must be an integer or a string"),
    ({"how": "console"}, "lwm2m.deferral.command: must be a console line"),
    ({"how": "none", "margin": -1}, "lwm2m.deferral.margin: must be seconds >= 0, got -1"),
    ({"how": "none", "delay": 1}, "lwm2m.deferral.delay: unknown key"),
    ("yes", "lwm2m.deferral must be a table"),
])
def test_bad_tables_are_one_line_errors_naming_file_and_key(table, message):
    with pytest.raises(RigError) as error:
        Profile.from_target({"lwm2m": {"deferral": table}}, "t.toml")
    assert str(error.value).startswith("t.toml: ") and message in str(error.value) and "\n" not in str(error.value)


def test_load_target_checks_the_table(tmp_path):
    text = (TARGETS / "virtual.toml").read_text().replace('how = "resource-write"', 'how = "always"')
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(RigError, match=r"bad.toml: lwm2m.deferral.how: must be one of"):
        load_target(bad)
