"""expect() semantics and the per-test log, over a real loop:// port: messages a failing test can be debugged from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rig.console.base import ConsoleError, ConsoleTimeout
from rig.console.serial import SerialConsole


@pytest.fixture
def console(timeline, tmp_path):
    con = SerialConsole("loop://", name="virtual-1", timeline=timeline, log_path=tmp_path / "logs" / "case-a.log")
    yield con
    con.close()


def test_console_expect_timeout_quotes_last_lines_and_log(console, tmp_path: Path):
    console.write("".join(f"line {i}\n" for i in range(12)))
    console.expect("line 11", timeout=5)
    with pytest.raises(ConsoleTimeout) as info:
        console.expect(r"Registered", timeout=0.2)
    message = str(info.value)
    assert "console loop:// of place virtual-1: no line matching /Registered/ within 0.2 s" in message
    assert "'line 11'" in message and "'line 4'" in message and "'line 3'" not in message  # the last 8
    assert f"(log: {tmp_path / 'logs' / 'case-a.log'})" in message


def test_console_expect_not_matching_fails_first(console):
    console.write("E: image in slot 1 is not valid\nBooting 1.4.0\n")
    with pytest.raises(ConsoleError, match=r"matches /not valid/ while waiting for /Booting/"):
        console.expect("Booting", timeout=5, not_matching="not valid")


def test_console_expect_consumes_lines_in_order(console):
    console.write("boot 1\nboot 2\n")
    assert console.expect(r"boot (\d)", timeout=5).group(1) == "1"
    assert console.expect(r"boot (\d)", timeout=5).group(1) == "2"
    console.write("late\n")
    console.expect("late", timeout=5)
    console.write("old\n")
    console.expect("old", timeout=5)
    console.mark()
    with pytest.raises(ConsoleTimeout):
        console.expect("old", timeout=0.1)  # seen before the mark: not matched again


def test_console_log_file_per_test_with_timestamps(console, timeline, tmp_path: Path):
    console.write("in case a\n")
    console.expect("case a", timeout=5)
    console.new_log(tmp_path / "logs" / "case-b.log")
    console.write("in case b\r\n")
    console.expect("case b", timeout=5)
    a = (tmp_path / "logs" / "case-a.log").read_text().splitlines()
    b = (tmp_path / "logs" / "case-b.log").read_text().splitlines()
    assert len(a) == 1 and a[0].endswith(" in case a")
    assert len(b) == 1 and b[0].endswith(" in case b")
    events = timeline.events("console")
    assert float(b[0].split()[0]) == pytest.approx(events[-1].t)  # the log and the timeline share the clock
    assert re.fullmatch(r"\d+\.\d{6} in case a", a[0])
