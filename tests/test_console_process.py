"""ProcessConsole on a real process started by ProcessPower: stdout and stderr lines, across power cycles."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.console.base import ConsoleTimeout
from rig.console.process import ProcessConsole
from rig.power.process import ProcessPower

CLIENT = 'echo "boot from $(pwd)"; echo "warning on stderr" >&2; exec sleep 1000'


def test_console_process_reads_both_streams_across_cuts(tmp_path: Path, timeline):
    power = ProcessPower(["sh", "-c", CLIENT], tmp_path / "work", name="host-1", timeline=timeline)
    console = ProcessConsole(power=power, name="host-1", timeline=timeline, log_path=tmp_path / "host-1.log")
    try:
        power.on()
        console.expect("^boot from .*work$", timeout=5)
        console.mark()
        power.off()
        power.on()
        console.expect("^boot from", timeout=5)
        streams = {e.data.get("stream") for e in timeline.events("console")}
        assert streams == {"stdout", "stderr"}
        power.off()
        with pytest.raises(ConsoleTimeout, match="process stdout/stderr of place host-1"):
            console.expect("never printed", timeout=0.2)
    finally:
        power.close()
        console.close()
    log = (tmp_path / "host-1.log").read_text()
    assert log.count("[stdout] boot from") == 2 and "[stderr] warning on stderr" in log


def test_console_process_rejects_other_power():
    with pytest.raises(TypeError, match="needs the place's process power"):
        ProcessConsole(power=object())
