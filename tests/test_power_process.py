"""ProcessPower: a cut is SIGKILL of the whole process group, and the working directory survives it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from rig.power.base import PowerError
from rig.power.process import ProcessPower

# Counts its boots in a file (its "flash"), starts a grandchild, says where it is, then runs forever.
CLIENT = (
    'n=$(cat boots 2>/dev/null || echo 0); n=$((n+1)); echo $n > boots; '
    'sleep 1000 & echo "boot $n pid $$ child $!"; wait'
)


def _dead(pid: int, timeout: float = 5.0) -> bool:
    """True once `pid` is gone or a zombie (killed, not yet reaped by init), polled within a bound."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.01)
    return False


def _start(power: ProcessPower) -> tuple[int, int, int]:
    power.on()
    line = power.proc.stdout.readline().decode().split()
    return int(line[1]), int(line[3]), int(line[5])


def test_power_process_cut_kills_process_group_and_keeps_workdir(tmp_path: Path, timeline):
    power = ProcessPower(["sh", "-c", CLIENT], tmp_path / "flash", name="host-1", timeline=timeline)
    power.add_start_listener(lambda proc: None)  # a listener means pipes: the test reads stdout itself
    boot, pid, child = _start(power)
    assert boot == 1 and power.is_on()
    power.off()
    assert not power.is_on()
    assert _dead(pid) and _dead(child), "the cut must take the client's children too"
    assert (tmp_path / "flash" / "boots").read_text().strip() == "1"
    boot, pid, child = _start(power)
    assert boot == 2, "the next start must find what the previous one wrote"
    power.close()
    assert _dead(pid) and _dead(child)
    assert [e.data["action"] for e in timeline.events("power")] == ["on", "off", "on", "off"]


def test_power_process_reports_exit_as_off(tmp_path: Path):
    power = ProcessPower(["sh", "-c", "exit 3"], tmp_path)
    power.add_start_listener(lambda proc: None)
    power.on()
    power.proc.wait(timeout=5)
    assert not power.is_on()
    power.close()


def test_power_process_missing_program_is_clear(tmp_path: Path):
    power = ProcessPower(["/nonexistent/lwm2m-client"], tmp_path, name="host-1")
    with pytest.raises(PowerError, match="cannot start '/nonexistent/lwm2m-client' for place host-1"):
        power.on()
    power.close()
