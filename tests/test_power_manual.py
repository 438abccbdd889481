"""ManualPower over a real pty: the operator sees the prompt and answers with Enter."""

from __future__ import annotations

import os

import pytest

from rig.power.base import PowerError
from rig.power.manual import ManualPower


def test_power_manual_prompts_on_terminal():
    master, slave = os.openpty()
    tty_in = open(slave, "r", encoding="utf-8", closefd=False)
    tty_out = open(slave, "w", encoding="utf-8", closefd=False)
    try:
        power = ManualPower(describe="the bench supply of k64f-1", tty_in=tty_in, tty_out=tty_out, name="k64f-1")
        os.write(master, b"\n")
        power.on()
        assert power.is_on()
        prompt = os.read(master, 4096).decode()
        assert "place k64f-1: switch the bench supply of k64f-1 ON, then press Enter" in prompt
        os.write(master, b"\n")
        power.close()
        assert "OFF" in os.read(master, 4096).decode()
    finally:
        os.close(slave)
        os.close(master)


def test_power_manual_terminal_gone_is_an_error():
    master, slave = os.openpty()
    tty_in = open(slave, "r", encoding="utf-8", closefd=False)
    tty_out = open(slave, "w", encoding="utf-8", closefd=False)
    os.close(master)
    power = ManualPower(tty_in=tty_in, tty_out=tty_out, name="p")
    with pytest.raises(PowerError, match="no answer from the operator"):
        power.on()
    os.close(slave)
