"""CommandPower with real commands: templated argv, status parsing, failures quoting stderr."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.power.base import PowerError
from rig.power.command import CommandPower


def test_power_command_switches_and_reads_status(tmp_path: Path, timeline):
    state = tmp_path / "port 2 state"  # a space: the template must keep it one argument
    power = CommandPower(
        on="sh -c 'echo on > \"$1\"' - {state}",
        off="sh -c 'echo off > \"$1\"' - {state}",
        status=["cat", "{state}"],
        on_pattern=r"^on$",
        vars={"state": str(state)},
        name="usb-1",
        timeline=timeline,
    )
    power.on()
    assert state.read_text() == "on\n" and power.is_on()
    power.off()
    assert state.read_text() == "off\n" and not power.is_on()
    power.on()
    power.close()
    assert state.read_text() == "off\n", "close applies the safe state"


def test_power_command_failure_quotes_stderr():
    power = CommandPower(on="sh -c 'echo uhubctl: No compatible devices detected >&2; exit 1'", off="true")
    with pytest.raises(PowerError, match=r"power on command .* failed with exit code 1: uhubctl: No compatible devices detected"):
        power.on()
    power.close()


def test_power_command_not_found_and_missing_variable():
    with pytest.raises(PowerError, match=r"uses \{hub\} but vars has no 'hub'"):
        CommandPower(on="uhubctl -l {hub} -a on", off="true")
    power = CommandPower(on="no-such-pdu-cli on", off="true")
    with pytest.raises(PowerError, match="power on command not found: 'no-such-pdu-cli'"):
        power.on()
    power.close()


def test_power_command_without_status_reports_last_commanded_state():
    power = CommandPower(on="true", off="true")
    assert not power.is_on()
    power.on()
    assert power.is_on()
    power.close()


def test_power_command_detach_leaves_the_port_as_switched(tmp_path: Path):
    state = tmp_path / "state"
    power = CommandPower(on="sh -c 'echo on > \"$1\"' - {state}", off="sh -c 'echo off > \"$1\"' - {state}",
                         vars={"state": str(state)})
    power.on()
    power.detach()
    power.close()  # already let go: no safe state driven now or at exit
    assert state.read_text() == "on\n"
    with pytest.raises(PowerError, match="closed"):
        power.off()
