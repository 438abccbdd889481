"""ManualPower over a real pty: the operator sees the prompt and answers with Enter."""

from __future__ import annotations

import os
import select
import time
import tty

import pytest

from rig.power.base import PowerError
from rig.power.manual import ManualPower


def _read_until(fd: int, text: str, timeout: float = 5.0) -> str:
    """What the terminal shows, read until `text` appears (bounded by `timeout`)."""
    seen = ""
    deadline = time.monotonic() + timeout
    while text not in seen:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError(f"terminal never showed {text!r}; got {seen!r}")
        seen += os.read(fd, 4096).decode()
    return seen


def test_power_manual_prompts_on_terminal():
    master, slave = os.openpty()
    tty.setraw(slave)  # no echo: the master sees only what the rig writes
    tty_in = open(slave, "r", encoding="utf-8", closefd=False)
    tty_out = open(slave, "w", encoding="utf-8", closefd=False)
    try:
        power = ManualPower(describe="the bench supply of k64f-1", tty_in=tty_in, tty_out=tty_out, name="k64f-1")
        os.write(master, b"\n")
        power.on()
        assert power.is_on()
        _read_until(master, "place k64f-1: switch the bench supply of k64f-1 ON, then press Enter")
        os.write(master, b"\n")
        power.close()
        _read_until(master, "k64f-1 OFF, then press Enter")
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
